// Keyed hosts for the keyed-peering tests (test/peer/peer-keys*.test.ts): topologies whose
// switches get --key-file, key files in a temporary directory, polling, pings, iperf3, and
// the small facts those tests share. Test code, main thread of the ava worker; everything it
// makes dies with the test's NetnsFixture and teardown.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetnsFixture, ip } from './netns.js';
import { HostsTopology, key, peers, up, waitPeers, type Host, type Vm } from './two-hosts.js';
import { untilValue } from './until.js';
import { type ClusterKey, generateKey, writeKeyFile } from '../../src/crypto/cluster-key.js';
import type { PeerInfo, PeersInfo } from '../../src/control/switch-api.js';
import { SEAL_HDR_LEN, SEAL_MAC_LEN } from '../../src/crypto/sealed-datagram.js';

export type Ctx = import('ava').ExecutionContext;

export async function topology(t: Ctx, count: 2 | 3): Promise<{ fx: NetnsFixture; topo: HostsTopology; keyDir: string }> {
  const fx = new NetnsFixture();
  const keyDir = mkdtempSync(join(tmpdir(), 'dives-keys-'));
  t.teardown(async () => {
    await fx.cleanup();
    rmSync(keyDir, { recursive: true, force: true });
  });
  return { fx, topo: await HostsTopology.create(t, fx, count), keyDir };
}

/** A new key written to dir/name (mode 0600). */
export function keyFile(dir: string, name: string): { path: string; key: ClusterKey } {
  const path = join(dir, name);
  const key = generateKey();
  writeKeyFile(path, key);
  return { path, key };
}

export { key, peers, up, waitPeers };
export const peerOf = (p: PeersInfo, h: Host): PeerInfo | undefined => p.peers.find((x) => x.address === key(h));
export const discovery = (p: PeersInfo, c: keyof NonNullable<PeersInfo['discovery']>['counters']): number => p.discovery?.counters[c] ?? 0;
export const log = (h: Host): string => h.dives?.stderr ?? '';
/** A RegExp matching `s` literally. */
export const lit = (s: string): RegExp => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));

/**
 * Start h's switch again with other flags and rc lines: the TAPs its last switch had are
 * deleted in the VMs and made anew, as Host.restart() does, since restart() keeps the flags.
 */
export async function relaunch(h: Host, args: string[], rc: string[] = []): Promise<void> {
  await h.dives?.stop('SIGKILL');
  for (const v of h.vms) await ip('-n', v.ns, 'link', 'del', v.tap).catch(() => undefined);
  await h.start([], { args, rc });
}

/** iputils ping from vm to addr; its summary line, and whether it exited 0. */
export async function ping(fx: NetnsFixture, vm: Vm, addr: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  const r = await fx.exec(vm.ns, ['ping', '-n', '-q', '-W', '1', ...args, addr], { timeoutMs: 30_000 });
  return { ok: r.code === 0, out: r.stdout + r.stderr };
}

/** TCP from `from` to `to` for 2 s with iperf3; bit/s received. */
export async function iperf(t: Ctx, fx: NetnsFixture, from: Vm, to: Vm): Promise<number> {
  const server = fx.spawnIn(to.ns, ['iperf3', '-s', '-1', '-B', to.addr]);
  await untilValue(() => fx.exec(to.ns, ['ss', '-Hltn', 'sport = :5201']), (r) => r.stdout.includes('5201'), 5000, 'iperf3 server', { everyMs: 50 });
  const r = await fx.exec(from.ns, ['iperf3', '-c', to.addr, '-t', '2', '-J'], { timeoutMs: 30_000 });
  server.kill();
  t.is(r.code, 0, r.stderr + r.stdout.slice(0, 500));
  return (JSON.parse(r.stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second;
}

/** Announcements and keepalives twice a second, where what is tested is only that they are refused: shorter waits. */
export const FAST = ['--discovery-interval', '0.5'];
/** A ping expected to go unanswered: one echo, given time enough for ARP and the reply. */
export const NO_REPLY = { count: 1, timeoutS: 1.5 };

/** The ping payload pattern (`ping -p`): twice in a row it is in every echo's data, and nowhere else. */
export const PATTERN = '5a17c0de';
export const PATTERN_TWICE = Buffer.from(PATTERN + PATTERN, 'hex');
/** A peer datagram carrying one default ping (vid word, 98-byte frame), sealed. */
export const PING_DATAGRAM = 4 + 98 + SEAL_HDR_LEN + SEAL_MAC_LEN;
