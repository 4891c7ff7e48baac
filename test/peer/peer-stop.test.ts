// A flood toward a peer: two `dives start` processes peered over loopback, a VM on each,
// one VM flooding broadcasts (every one goes to the peer). The flooding switch must go on
// hearing its peer's keepalives (its peer thread once read nothing while it had frames to
// send, and expired a healthy peer), and must stop at once on SIGTERM, not after the 3 s
// forced end of its peer thread. Needs no privileges.

import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DivesProcess } from '../helpers/dives-process.js';
import { freeTcpPort } from '../helpers/guest.js';
import { QemuClient, startFlood } from '../helpers/qemu-client.js';
import { sleep } from '../helpers/until.js';
import { freeUdpPort } from '../helpers/peer-switches.js';
import { BCAST, markerFrame, mac } from '../helpers/frames.js';

type Ctx = import('ava').ExecutionContext;

/** A switch with a static peer and a QEMU listener on VLAN 10, its own socket directory. */
async function peered(t: Ctx, port: number, peer: number, qemu: number, flags: string[] = []): Promise<DivesProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'dives-stop-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'sw.rc'), `peer 127.0.0.1 ${peer}\nvlan 10\nlisten 127.0.0.1 ${qemu}\nexit\n`);
  const p = await DivesProcess.start(['-c', join(dir, 'sw.rc'), '-u', dir, '-p', String(port), ...flags]);
  t.teardown(() => p.stop('SIGKILL'));
  return p;
}

/** Switches A and B, static peers of each other, a VM on each in VLAN 10; once A's peer is up and in the VLAN. */
async function pairWithVms(t: Ctx, flags: string[] = []): Promise<{ a: DivesProcess; vmA: QemuClient; vmB: QemuClient }> {
  const [pa, pb, qa, qb] = [await freeUdpPort(), await freeUdpPort(), await freeTcpPort(), await freeTcpPort()];
  const a = await peered(t, pa, pb, qa, flags);
  await peered(t, pb, pa, qb, flags);
  const vmA = await QemuClient.connect({ port: qa });
  const vmB = await QemuClient.connect({ port: qb });
  t.teardown(() => (vmA.close(), vmB.close()));
  await a.waitStderr(/peer 127\.0\.0\.1:\d+ up/);
  await a.waitStderr(/peers joined it/);
  return { a, vmA, vmB };
}

test('SIGTERM under a flood toward a peer stops the switch at once, its peer thread unforced', async (t) => {
  t.timeout(60_000);
  const { a, vmA, vmB } = await pairWithVms(t);
  const stopFlood = startFlood(vmA, markerFrame(BCAST, mac(1), 'flood'));
  await sleep(1500);
  const crossed = vmB.frames.length;
  const started = performance.now();
  t.is(await a.stop('SIGTERM'), 0, a.stderr);
  const took = performance.now() - started;
  vmA.close();
  await stopFlood();
  t.false(/did not stop within/.test(a.stderr), a.stderr);
  t.true(took < 1000, `SIGTERM to exit took ${took.toFixed(0)} ms`);
  t.true(crossed > 1000, `the flood crossed to B (${crossed} frames)`);
});

test('a switch flooding frames toward a peer still hears its keepalives: the peer never expires', async (t) => {
  t.timeout(60_000);
  // A peer not heard for 3 intervals of 0.3 s expires: under a 4 s flood, starved reads show at once.
  const { a, vmA, vmB } = await pairWithVms(t, ['--discovery-interval', '0.3', '--peer-expiry', '3']);
  const stopFlood = startFlood(vmA, markerFrame(BCAST, mac(1), 'flood'));
  await sleep(4000);
  await stopFlood();
  t.true(vmB.frames.length > 1000, `the flood crossed (${vmB.frames.length} frames)`);
  t.false(/expired: not heard/.test(a.stderr), a.stderr.split('\n').filter((l) => /expired|up \(/.test(l)).join('\n'));
});
