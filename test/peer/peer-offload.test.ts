// Offloaded frames between peers, for real: two "hosts" (network namespaces, each
// running `dives start`) with a TAP-holding VM behind each. Switches advertise which
// VLANs take offloaded frames; on a VLAN of TAPs only, TCP crosses as 64 KiB segments
// with TSO on both TAPs; a QEMU port joining on one host turns offloads off on both
// without breaking TCP; --no-peer-offload keeps every frame plain. Needs root (privTest).

import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerInfo, PeersInfo } from '../../src/control/switch-api.js';
import { NetnsFixture, sweepStale } from '../helpers/netns.js';
import { privileged, privTest } from '../helpers/privileged.js';
import { QemuClient } from '../helpers/qemu-client.js';
import { HostsTopology, PEER_PORT, type Host } from '../helpers/two-hosts.js';
import { sleep, until } from '../helpers/until.js';

test.before(async () => {
  if (privileged.ok) await sweepStale();
});

type Ctx = import('ava').ExecutionContext;

/** Two hosts with VM a (host 1) and VM b (host 2) on VLAN 10, peers up both ways. */
async function twoHosts(t: Ctx, subnet: number, args1: string[] = []): Promise<{ fx: NetnsFixture; h1: Host; h2: Host }> {
  const fx = new NetnsFixture();
  t.teardown(() => fx.cleanup());
  const topo = await HostsTopology.create(t, fx, 2);
  const [h1, h2] = topo.hosts;
  await h1.start([{ name: 'a', vid: 10, cidr: `10.98.${subnet}.1/24` }], { args: args1 });
  await h2.start([{ name: 'b', vid: 10, cidr: `10.98.${subnet}.2/24` }]);
  await until(async () => (await peerOf(h1, h2))?.state === 'up' && (await peerOf(h2, h1))?.state === 'up', 5000, 'peers up', { everyMs: 50 });
  return { fx, h1, h2 };
}

/** `h`'s view of peer `other`, from `show peers`. */
async function peerOf(h: Host, other: Host): Promise<PeerInfo | undefined> {
  return (await h.json<PeersInfo>('show peers')).peers.find((p) => p.address === `${other.addr}:${PEER_PORT}`);
}

async function tso(fx: NetnsFixture, h: Host, vm: string): Promise<string> {
  const v = h.vm(vm);
  const { stdout } = await fx.exec(v.ns, ['ethtool', '-k', v.tap]);
  return /tcp-segmentation-offload: (\w+)/.exec(stdout)?.[1] ?? `unknown: ${stdout.slice(0, 200)}`;
}

/** Bytes iperf3 TCP carried from VM a to VM b in 2 s. */
async function iperf(fx: NetnsFixture, h1: Host, h2: Host): Promise<number> {
  const b = h2.vm('b');
  const server = fx.spawnIn(b.ns, ['iperf3', '-s', '-1', '-B', b.addr]);
  try {
    await until(async () => (await fx.exec(b.ns, ['ss', '-Hltn', 'sport = :5201'])).stdout.includes('5201'), 5000, 'the iperf3 server to listen', { everyMs: 50 });
    const r = await fx.exec(h1.vm('a').ns, ['iperf3', '-c', b.addr, '-t', '2', '-J'], { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`iperf3: ${r.stderr}${r.stdout.slice(0, 500)}`);
    return (JSON.parse(r.stdout) as { end: { sum_received: { bytes: number } } }).end.sum_received.bytes;
  } finally {
    server.kill();
  }
}

privTest('on a VLAN of TAPs only, TCP crosses between peers as offloaded 64 KiB segments, and a QEMU port joining on one host turns offloads off on both without breaking TCP', async (t) => {
  t.timeout(90_000);
  const { fx, h1, h2 } = await twoHosts(t, 40);
  // Each side hears the other's advertisement (VLAN 10 takes offloaded frames), and turns TSO on.
  await until(async () => (await peerOf(h1, h2))?.plainVids?.length === 0 && (await peerOf(h2, h1))?.plainVids?.length === 0, 5000, 'advertisements', { everyMs: 50 });
  await until(async () => (await tso(fx, h1, 'a')) === 'on' && (await tso(fx, h2, 'b')) === 'on', 5000, 'TSO on both TAPs', { everyMs: 50 });

  t.true((await iperf(fx, h1, h2)) > 0, 'TCP with offloads');
  // Receiver first: a late frame (the connection's last ACK) may still be on its way, and
  // what host 2 counted in can then only be less than what host 1 counts out.
  const inn = (await peerOf(h2, h1)) as PeerInfo;
  const out = (await peerOf(h1, h2)) as PeerInfo;
  t.true(out.offloadedOut > 0, `host 1 sent offloaded frames: ${JSON.stringify(out)}`);
  t.true(inn.offloadedIn > 0 && inn.offloadedIn <= out.offloadedOut, `host 2 received them: ${inn.offloadedIn} of ${out.offloadedOut}`);
  t.true(out.bytesOut / out.framesOut > 3000, `frames longer than any MTU crossed: ${out.bytesOut} bytes in ${out.framesOut} frames`);
  t.is(out.drops.offload, 0);
  t.is(inn.drops['bad-vnet-hdr'], 0, 'every header a TAP handed over passed host 2\'s check');
  t.regex((await h1.dives?.command('show peers', /strangers:/)) ?? '', /offload: yes, \d+ frames in, \d+ out/);

  // A QEMU port on host 2's VLAN 10 needs plain frames: host 2 says so, and both TAPs stop offloading.
  const dir = mkdtempSync(join(tmpdir(), 'dives-offload-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const sock = join(dir, 'vm.sock');
  await h2.dives?.command(`vlan 10 listen unix ${sock}`, /listening|unix:/);
  const vm = await QemuClient.connect({ path: sock });
  t.teardown(() => vm.close());
  await until(async () => JSON.stringify((await peerOf(h1, h2))?.plainVids) === '[10]', 5000, 'the new advertisement', { everyMs: 50 });
  await until(async () => (await tso(fx, h1, 'a')) === 'off' && (await tso(fx, h2, 'b')) === 'off', 5000, 'TSO off on both TAPs', { everyMs: 50 });
  const before = ((await peerOf(h1, h2)) as PeerInfo).offloadedOut;

  t.true((await iperf(fx, h1, h2)) > 0, 'TCP without offloads');
  const after = (await peerOf(h1, h2)) as PeerInfo;
  t.is(after.offloadedOut, before, 'no offloaded frame left host 1 once VLAN 10 needed plain frames');
  t.true(vm.frames.every((f) => f.length <= 1514), 'the QEMU port never saw an offloaded segment');
  t.regex((await h1.dives?.command('show peers', /strangers:/)) ?? '', /offload: yes \(not on VLANs 10\)/);
});

privTest('with --no-peer-offload on one host, neither switch sends an offloaded frame, TSO stays off, and TCP still crosses', async (t) => {
  t.timeout(90_000);
  const { fx, h1, h2 } = await twoHosts(t, 41, ['--no-peer-offload']);
  // Host 2 advertises, host 1 does not: give an advertisement time to cross (interval 1 s).
  await until(async () => (await peerOf(h1, h2))?.plainVids?.length === 0, 5000, "host 2's advertisement", { everyMs: 50 });
  await sleep(1500);
  t.is((await peerOf(h2, h1))?.plainVids, null, 'host 1 never advertised');
  t.is(await tso(fx, h1, 'a'), 'off');
  t.is(await tso(fx, h2, 'b'), 'off');
  t.true((await iperf(fx, h1, h2)) > 0);
  t.is(((await peerOf(h1, h2)) as PeerInfo).offloadedOut, 0);
  t.is(((await peerOf(h2, h1)) as PeerInfo).offloadedOut, 0);
  t.regex((await h1.dives?.command('show peers', /strangers:/)) ?? '', /offload: off here \(--no-peer-offload\)/);
  t.regex((await h2.dives?.command('show peers', /strangers:/)) ?? '', /offload: no \(the peer has not advertised it\)/);
});
