// Bounded memory for QEMU ports (issue 13, finding 1): a listener's max-connections,
// the switch's --max-connections and its memory budget each refuse a connection (closed
// at once, counted, logged at a bounded rate); and what many VMs that never read queued
// under a broadcast flood is given back to the kernel once they go (RSS of a real
// `dives start` process, measured). Needs no privileges.

import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Switch } from '../../src/switch/switch.js';
import { QEMU_CONN_BYTES } from '../../src/qemu/qemu-ports.js';
import { DivesProcess } from '../helpers/dives-process.js';
import { freeTcpPort } from '../helpers/guest.js';
import { QemuClient, startFlood } from '../helpers/qemu-client.js';
import { sleep, within } from '../helpers/until.js';
import { BCAST, markerFrame, mac } from '../helpers/frames.js';

type Ctx = import('ava').ExecutionContext;

function quietSwitch(t: Ctx, opts: { maxConnections?: number; memoryBudgetBytes?: number }) {
  const warns: string[] = [];
  const sw = new Switch({ log: { debug: () => {}, info: () => {}, warn: (m) => void warns.push(m), error: (m) => void warns.push(m) }, forwardingThreads: 1, ...opts });
  t.teardown(() => sw.close());
  return { sw, warns };
}

/** Connections a listener on `port` took plus those it refused. */
function seen(sw: Switch, port: number): { taken: number; refused: number } {
  const l = sw.showListeners().find((x) => x.address.endsWith(`:${port}`));
  return { taken: l?.connections ?? 0, refused: Object.values(l?.refused ?? {}).reduce((a, b) => a + b, 0) };
}

/** Connect `n` clients; once the switch took or refused each, and each refused one saw its end, resolve with those it kept. */
async function connectMany(t: Ctx, sw: Switch, port: number, n: number): Promise<{ kept: QemuClient[]; closed: number }> {
  const before = seen(sw, port);
  const all: QemuClient[] = [];
  for (let i = 0; i < n; i++) {
    const c = await QemuClient.connect({ port });
    t.teardown(() => c.close());
    all.push(c);
  }
  const ended = (): QemuClient[] => all.filter((c) => c.socket.readableEnded || c.socket.destroyed);
  await within(() => {
    const now = seen(sw, port);
    return now.taken - before.taken + now.refused - before.refused >= n && ended().length >= now.refused - before.refused;
  }, 5000);
  const kept = all.filter((c) => !ended().includes(c));
  return { kept, closed: n - kept.length };
}

test('a listener takes max-connections at most, the switch --max-connections: more are closed at once, counted, logged at a bounded rate', async (t) => {
  const { sw, warns } = quietSwitch(t, { maxConnections: 5 });
  const [p1, p2] = [await freeTcpPort(), await freeTcpPort()];
  await sw.listen(10, { kind: 'tcp', host: '127.0.0.1', port: p1 }, 2);
  await sw.listen(10, { kind: 'tcp', host: '127.0.0.1', port: p2 });
  const one = await connectMany(t, sw, p1, 4);
  t.is(one.kept.length, 2, 'the listener kept its 2');
  t.is(one.closed, 2);
  const two = await connectMany(t, sw, p2, 6);
  t.is(two.kept.length, 3, 'the switch kept 5 in all');
  const l = sw.showListeners(10);
  t.like(l[0], { connections: 2, maxConnections: 2, refused: { 'listener-full': 2, 'switch-full': 0, 'memory-budget': 0 } });
  t.like(l[1], { connections: 3, maxConnections: null, refused: { 'listener-full': 0, 'switch-full': 3, 'memory-budget': 0 } });
  // Ten more refusals: still five lines, the log limiter's burst for one kind a minute.
  t.is((await connectMany(t, sw, p1, 10)).kept.length, 0);
  t.is(sw.showListeners(10)[0].refused['listener-full'], 12);
  const refusals = warns.filter((w) => w.includes(' refused on '));
  t.is(refusals.length, 5, `15 refusals, 5 log lines:\n${warns.join('\n')}`);
  t.regex(refusals[0], /^qemu 127\.0\.0\.1:\d+ refused on 127\.0\.0\.1:\d+ \(VLAN 10\): its max-connections \(2\) reached; counted in "show listeners"$/);
  // The ones kept still work: a broadcast from one reaches the others.
  one.kept[0].send(markerFrame(BCAST, mac(1), 'still'));
  await Promise.all([one.kept[1], ...two.kept].map((c) => c.waitFrames(1)));
  // One goes: its place is free again.
  one.kept[0].close();
  await within(() => sw.showListeners(10)[0].connections <= 1, 5000);
  t.is((await connectMany(t, sw, p1, 1)).kept.length, 1);
});

test('the memory budget refuses a connection its queues have no room for, and a TAP is refused with EBUDGET', async (t) => {
  // Room for two connections' queues and a little over, not for a third.
  const { sw } = quietSwitch(t, { memoryBudgetBytes: 2 * QEMU_CONN_BYTES + 4096 });
  const port = await freeTcpPort();
  await sw.listen(10, { kind: 'tcp', host: '127.0.0.1', port });
  const r = await connectMany(t, sw, port, 3);
  t.is(r.kept.length, 2);
  t.like(sw.showListeners(10)[0].refused, { 'memory-budget': 1 });
  t.like(sw.rings.budget(), { reservedBytes: 2 * QEMU_CONN_BYTES, rings: 4 });
  await t.throwsAsync(sw.attachTap(10, 'dvbudget0'), { message: /^tap dvbudget0: 8\.0 MiB more would pass the memory budget \(6\.0 of 6\.0 MiB reserved\); raise it with --memory-budget or remove ports$/ });
  r.kept[0].close();
  r.kept[1].close();
  await within(() => sw.rings.budget().reservedBytes === 0, 1000);
  t.like(sw.rings.budget(), { reservedBytes: 0, rings: 0 }, 'what they reserved is free again');
});

const rssMiB = (pid: number): number => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

test('what 200 VMs that never read queue under a broadcast flood is given back when they go: RSS within 20% of the start', async (t) => {
  t.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'dives-mem-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freeTcpPort();
  writeFileSync(join(dir, 'sw.rc'), `vlan 10\nlisten 127.0.0.1 ${port}\nexit\n`);
  const sw = await DivesProcess.start(['-c', join(dir, 'sw.rc'), '-u', dir, '--no-discovery']);
  t.teardown(() => sw.stop('SIGKILL'));
  const pid = sw.child.pid as number;
  await sleep(1000);
  const before = rssMiB(pid);
  const flooder = await QemuClient.connect({ port });
  t.teardown(() => flooder.close());
  const idle: QemuClient[] = [];
  for (let i = 0; i < 200; i++) {
    const c = await QemuClient.connect({ port });
    c.socket.pause(); // a VM that never reads
    t.teardown(() => c.close());
    idle.push(c);
  }
  // 60-byte frames, as this flood has always sent (the old frame helper cut longer markers to fit).
  const stopFlood = startFlood(flooder, markerFrame(BCAST, mac(1), 'x'.repeat(46)));
  await sleep(5000);
  const peak = rssMiB(pid);
  await stopFlood();
  for (const c of [flooder, ...idle]) c.close();
  let after = rssMiB(pid);
  await within(() => (after = rssMiB(pid)) <= before * 1.2, 5000, { everyMs: 250 });
  t.log(`RSS before ${before.toFixed(0)} MiB, peak ${peak.toFixed(0)} MiB, after ${after.toFixed(0)} MiB`);
  t.true(peak > before + 100, `the VMs' queues filled (peak ${peak.toFixed(0)} MiB against ${before.toFixed(0)} MiB)`);
  t.true(after <= before * 1.2, `RSS after ${after.toFixed(0)} MiB, before ${before.toFixed(0)} MiB`);
  sw.child.kill('SIGTERM');
  await once(sw.child, 'exit');
});
