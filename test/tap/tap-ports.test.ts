// A real switch with real TAP ports: namespaces whose kernels ping each other
// through DiVES, VLAN isolation, a QEMU-protocol client talking to a
// namespace's kernel, detaching, and a forwarding thread that dies.

import test from 'ava';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { allowedCpus } from '../../src/linux/cpu-affinity.js';
import { Switch } from '../../src/switch/switch.js';
import { createLogger } from '../../src/core/log.js';
import { NetnsFixture, ip, sweepStale } from '../helpers/netns.js';
import { renderRunningConfig } from '../../src/control/running-config.js';
import { AREAS } from '../../src/control/commands/areas.js';
import { privileged, privTest } from '../helpers/privileged.js';
import { QemuClient } from '../helpers/qemu-client.js';
import { until, untilValue, within } from '../helpers/until.js';
import { freeTcpPort } from '../helpers/guest.js';
import { arpFrame, icmpEcho, parseArp, parseIcmp } from '../helpers/frames.js';
import { tapHost } from '../helpers/tap-host.js';

test.before(async () => {
  if (privileged.ok) await sweepStale();
});

type Ctx = import('ava').ExecutionContext;

async function setup(t: Ctx, threads = 2): Promise<{ sw: Switch; fx: NetnsFixture }> {
  const fx = new NetnsFixture();
  const sw = new Switch({ log: createLogger('warn'), forwardingThreads: threads });
  // Teardown runs last-registered first: close the switch, then remove namespaces.
  t.teardown(() => fx.cleanup());
  t.teardown(() => sw.close());
  return { sw, fx };
}

privTest('two namespaces with TAPs on VLAN 10 ping each other, and a namespace on VLAN 20 reaches neither', async (t) => {
  const { sw, fx } = await setup(t);
  const a = await tapHost(sw, fx, 'a', 10, '10.77.0.1/24');
  await tapHost(sw, fx, 'b', 10, '10.77.0.2/24');
  const c = await tapHost(sw, fx, 'c', 20, '10.77.0.3/24');
  t.true(await fx.ping(a.ns, '10.77.0.2', { count: 5 }), 'a pings b on VLAN 10');
  t.false(await fx.ping(c.ns, '10.77.0.1', { count: 2 }), 'VLAN 20 does not reach VLAN 10');
  t.false(await fx.ping(a.ns, '10.77.0.3', { count: 2 }), 'VLAN 10 does not reach VLAN 20');
  const macs = await sw.showMacs(10);
  t.true(macs.length >= 2, 'both stations were learned');
  t.true(macs.every((m) => m.port.startsWith('tap:')));
  const ports = await sw.showPorts(10);
  t.is(ports.length, 2);
  t.true(ports.every((p) => p.rxFrames > 0 && p.txFrames > 0));
  t.deepEqual(sw.showTaps(20).map((x) => x.name), [c.tap]);
});

privTest('a QEMU-protocol client and a TAP namespace talk: ARP, then an ICMP echo answered by the namespace kernel', async (t) => {
  const { sw, fx } = await setup(t);
  const a = await tapHost(sw, fx, 'k', 10, '10.77.1.1/24');
  const port = await freeTcpPort();
  await sw.listen(10, { kind: 'tcp', host: '127.0.0.1', port });
  const vm = await QemuClient.connect({ port });
  t.teardown(() => vm.close());
  await until(() => sw.qemu.livePorts(10) >= 1, 5000, 'the QEMU port');
  const vmMac = Buffer.from([0x02, 0xd1, 0x7e, 0, 0, 0x42]);
  vm.send(arpFrame(1, Buffer.alloc(6, 0xff), vmMac, '10.77.1.42', Buffer.alloc(6), '10.77.1.1'));
  const arp = await waitFor(vm, (f) => parseArp(f)?.op === 2, 'an ARP reply');
  const nsMac = parseArp(arp)?.sha as Buffer;
  t.is(parseArp(arp)?.spa, '10.77.1.1');
  vm.send(icmpEcho(8, nsMac, '10.77.1.42', '10.77.1.1', 0x1234, 1, Buffer.from('dives-echo'), vmMac));
  const reply = await waitFor(vm, (f) => parseIcmp(f)?.type === 0, 'an echo reply');
  t.is(parseIcmp(reply)?.payload.toString(), 'dives-echo');
  t.is(parseIcmp(reply)?.src, '10.77.1.1');
  t.true((await sw.showMacs(10)).some((m) => m.port === `tap:${a.tap}`));
});

function waitFor(c: QemuClient, pred: (f: Buffer) => boolean, what: string): Promise<Buffer> {
  return untilValue(() => c.frames.find(pred), (f): f is Buffer => f !== undefined, 5000, what, { detail: () => `${c.frames.length} other frames` });
}

privTest('no tap removes the port and its MACs, and leaves a persistent TAP in place', async (t) => {
  const { sw, fx } = await setup(t);
  const a = await tapHost(sw, fx, 'd', 10, '10.77.2.1/24');
  await tapHost(sw, fx, 'e', 10, '10.77.2.2/24');
  t.true(await fx.ping(a.ns, '10.77.2.2'));
  t.true((await sw.showMacs(10)).some((m) => m.port === `tap:${a.tap}`));
  await sw.detachTap(10, a.tap);
  t.false((await sw.showMacs(10)).some((m) => m.port === `tap:${a.tap}`));
  t.deepEqual((await sw.showPorts(10)).map((p) => p.name), [`tap:${fx.ifname('e')}`]);
  t.false(await fx.ping(a.ns, '10.77.2.2', { count: 1 }));
  const { stdout } = await fx.exec(a.ns, ['ip', 'link', 'show', a.tap]);
  t.true(stdout.includes(a.tap), 'the persistent TAP still exists');
  await t.throwsAsync(sw.detachTap(10, a.tap), { message: /not attached/ });
});

privTest('attaching a missing TAP creates it and detaching deletes it again; a second attach of one name is refused', async (t) => {
  const { sw, fx } = await setup(t);
  const name = fx.ifname('n');
  const info = await sw.attachTap(10, name);
  t.true(info.created);
  await t.throwsAsync(sw.attachTap(20, name), { message: /already attached to VLAN 10/ });
  t.true(existsSync(`/sys/class/net/${name}`));
  await sw.detachTap(10, name);
  t.false(existsSync(`/sys/class/net/${name}`), 'the TAP DiVES created is gone');
});

privTest('a TAP I/O thread that dies is restarted on the same TAP and rings, and one that keeps dying is given up on and says so', async (t) => {
  t.timeout(60_000);
  const fx = new NetnsFixture();
  const logs: string[] = [];
  const keep = (m: string): void => void logs.push(m);
  const sw = new Switch({ log: { debug: () => {}, info: () => {}, warn: keep, error: keep }, forwardingThreads: 1 });
  t.teardown(() => fx.cleanup());
  t.teardown(() => sw.close());
  const a = await tapHost(sw, fx, 'p', 10, '10.77.8.1/24');
  await tapHost(sw, fx, 'q', 10, '10.77.8.2/24');
  t.true(await fx.ping(a.ns, '10.77.8.2', { count: 2 }), 'ping before');
  const restarts = (): number => logs.filter((m) => m.includes(`tap-io:${a.tap} died: `) && m.endsWith('restarting it')).length;
  for (let i = 1; i <= 3; i++) {
    await sw.crashTapIo(a.tap);
    await within(() => restarts() >= i, 5000, { everyMs: 50 });
    t.is(restarts(), i, logs.join('\n'));
    t.true(await fx.ping(a.ns, '10.77.8.2', { count: 2 }), `ping after restart ${i}`);
  }
  // A fourth death within the minute: the port stays down, and says what to do.
  await sw.crashTapIo(a.tap);
  await within(() => logs.some((m) => m.includes('died 4 times within 60 s')), 5000, { everyMs: 50 });
  t.true(
    logs.some((m) => m.startsWith(`tap-io:${a.tap} died 4 times within 60 s (last: `) && m.endsWith(`not restarting it; the port stops carrying frames, detach it with "no tap ${a.tap}"`)),
    logs.join('\n'),
  );
  t.is(restarts(), 3);
  const down = sw.showTaps(10).find((x) => x.name === a.tap);
  t.is(down?.state, 'down', '`show taps` says the port is down');
  t.regex(down?.reason ?? '', /^died 4 times within 60 s, last: exited unexpectedly \(code 1\)$/, 'and why');
  t.false(await fx.ping(a.ns, '10.77.8.2', { count: 2 }), 'no ping once given up');
  await t.throwsAsync(sw.crashTapIo(a.tap), { message: /is not running \(down: died 4 times/ });
  // The port can still be detached and attached again, with a fresh thread.
  await sw.detachTap(10, a.tap);
  t.deepEqual(sw.showTaps(10).map((x) => x.name), [fx.ifname('q')]);
});

privTest('a forwarding thread that dies is reported and restarted, and other VLANs keep forwarding throughout', async (t) => {
  t.timeout(60_000);
  const { sw, fx } = await setup(t, 2);
  const a = await tapHost(sw, fx, 'f', 10, '10.77.3.1/24');
  await tapHost(sw, fx, 'g', 10, '10.77.3.2/24');
  const c = await tapHost(sw, fx, 'h', 20, '10.77.4.1/24');
  await tapHost(sw, fx, 'i', 20, '10.77.4.2/24');
  t.not(sw.pool.threadOf(10), sw.pool.threadOf(20));
  t.true(await fx.ping(a.ns, '10.77.3.2'));
  t.true(await fx.ping(c.ns, '10.77.4.2'));
  const before = (await sw.showVlans()).find((v) => v.vid === 10)?.workerThread;
  // Keep VLAN 20 busy while VLAN 10's thread dies and comes back.
  const steady = fx.ping(c.ns, '10.77.4.2', { count: 6, timeoutS: 1 });
  await sw.crashWorker(10);
  t.true(await steady, 'VLAN 20 kept forwarding');
  await within(() => (sw.pool.threadOf(10)?.supervisor.status().restarts ?? 0) >= 1, 5000, { everyMs: 50 });
  t.is(sw.pool.threadOf(10)?.supervisor.status().restarts, 1);
  t.true(await fx.ping(a.ns, '10.77.3.2', { count: 10 }), 'VLAN 10 forwards again after the restart');
  const after = (await sw.showVlans()).find((v) => v.vid === 10)?.workerThread;
  t.not(after, before, 'a new thread runs VLAN 10');
});

privTest('N VLANs under the thread budget run on N distinct threads, and past the budget share the least-loaded', async (t) => {
  const { sw, fx } = await setup(t, 3);
  for (const [i, vid] of [101, 102, 103].entries()) await tapHost(sw, fx, `v${i}`, vid, `10.78.${i}.1/24`);
  const vlans = await sw.showVlans();
  const ids = vlans.map((v) => v.workerThread);
  t.is(new Set(ids).size, 3, `threads: ${ids.join(',')}`);
  t.false(ids.includes(-1));
  await tapHost(sw, fx, 'v3', 104, '10.78.3.1/24');
  t.is(new Set((await sw.showVlans()).map((v) => v.workerThread)).size, 3, 'the fourth VLAN shares a thread');
  t.is(sw.pool.threads.length, 3);
});

/** comm and Cpus_allowed_list of every thread of this process. */
function threadCpus(): { comm: string; cpus: string }[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const status = readFileSync(`/proc/self/task/${tid}/status`, 'utf8');
    return { comm: readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim(), cpus: /Cpus_allowed_list:\s*(\S+)/.exec(status)?.[1] ?? '' };
  });
}

privTest('each forwarding thread is pinned to its own CPU, each TAP I/O thread to its VLAN thread\'s CPU; without affinity nothing is', async (t) => {
  const cpus = allowedCpus();
  t.deepEqual(cpus.join(','), expandList(/Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? ''));
  const { sw, fx } = await setup(t, 2);
  await tapHost(sw, fx, 'p0', 111, '10.77.0.1/24');
  await tapHost(sw, fx, 'p1', 112, '10.77.1.1/24');
  t.deepEqual(sw.pool.threads.map((th) => th.cpu), [cpus[0], cpus[1 % cpus.length]]);
  // Thread names are cut to 15 bytes, so TAP I/O threads are told apart by their CPUs only.
  const tapThreads = (): string[] => threadCpus().filter((x) => x.comm.startsWith('tap-io:')).map((x) => x.cpus).sort();
  const want = [sw.pool.threadOf(111)?.cpu, sw.pool.threadOf(112)?.cpu].map(String).sort();
  t.deepEqual(want, [cpus[0], cpus[1 % cpus.length]].map(String).sort());
  // The threads pin themselves as they start.
  await within(() => tapThreads().join() === want.join(), 2000);
  t.deepEqual(tapThreads(), want);
  const pinnedWorkers = new Set(threadCpus().filter((x) => x.comm === 'WorkerThread' && /^\d+$/.test(x.cpus)).map((x) => Number(x.cpus)));
  t.true(pinnedWorkers.has(cpus[0]) && pinnedWorkers.has(cpus[1 % cpus.length]), `pinned forwarding threads on ${[...pinnedWorkers].join(',')}`);
  const off = new Switch({ log: createLogger('warn'), forwardingThreads: 2, cpuAffinity: false });
  t.teardown(() => off.close());
  const c = await tapHost(off, fx, 'p2', 113, '10.77.2.1/24');
  t.is(off.pool.threads[0].cpu, -1);
  const own = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '';
  const withOwn = [...want, own].sort();
  await within(() => tapThreads().join() === withOwn.join(), 2000);
  t.deepEqual(tapThreads(), withOwn, 'unpinned: the process\'s own CPU set');
  t.truthy(c);
});

/** "0-2,5" → "0,1,2,5". */
function expandList(list: string): string {
  return list.split(',').filter(Boolean).flatMap((part) => {
    const [lo, hi] = part.split('-').map(Number);
    return Array.from({ length: (hi ?? lo) - lo + 1 }, (_, i) => lo + i);
  }).join(',');
}

async function tso(fx: NetnsFixture, ns: string, tap: string): Promise<string> {
  const { stdout } = await fx.exec(ns, ['ethtool', '-k', tap]);
  return /tcp-segmentation-offload: (\w+)/.exec(stdout)?.[1] ?? `unknown: ${stdout.slice(0, 200)}`;
}

async function iperfBytes(fx: NetnsFixture, from: string, to: { ns: string; addr: string }): Promise<number> {
  const server = fx.spawnIn(to.ns, ['iperf3', '-s', '-1', '-B', to.addr]);
  await until(async () => (await fx.exec(to.ns, ['ss', '-Hltn', 'sport = :5201'])).stdout.includes('5201'), 5000, 'the iperf3 server to listen', { everyMs: 50 });
  const r = await fx.exec(from, ['iperf3', '-c', to.addr, '-t', '2', '-J'], { timeoutMs: 30_000 });
  await new Promise((res) => (server.exitCode !== null ? res(null) : server.once('exit', res)));
  return r.code === 0 ? (JSON.parse(r.stdout).end.sum_received.bytes as number) : -1;
}

privTest('a VLAN of TAPs only carries TCP with kernel offloads on, and a QEMU port joining turns them off without breaking TCP or leaking a segment', async (t) => {
  t.timeout(60_000);
  const { sw, fx } = await setup(t);
  const a = await tapHost(sw, fx, 'o', 10, '10.77.6.1/24');
  const b = await tapHost(sw, fx, 'p', 10, '10.77.6.2/24');
  t.is(await tso(fx, a.ns, a.tap), 'on');
  t.true(await fx.ping(a.ns, '10.77.6.2'));
  t.true((await iperfBytes(fx, a.ns, { ns: b.ns, addr: '10.77.6.2' })) > 0, 'TCP with offloads');

  const port = await freeTcpPort();
  await sw.listen(10, { kind: 'tcp', host: '127.0.0.1', port });
  const vm = await QemuClient.connect({ port });
  t.teardown(() => vm.close());
  await until(() => sw.qemu.livePorts(10) >= 1, 5000, 'the QEMU port');
  t.is(await tso(fx, a.ns, a.tap), 'off', 'a port that needs plain frames turns offloads off');
  t.true((await iperfBytes(fx, a.ns, { ns: b.ns, addr: '10.77.6.2' })) > 0, 'TCP without offloads');
  t.true(vm.frames.every((f) => f.length <= 1514), 'the QEMU port never saw an offloaded segment');
  vm.close();
  await until(() => sw.qemu.livePorts(10) === 0, 5000, 'the QEMU port to go');
  await within(async () => (await tso(fx, a.ns, a.tap)) === 'on', 1000);
  t.is(await tso(fx, a.ns, a.tap), 'on', 'offloads come back when the VLAN is TAPs only again');
});

privTest('a TAP deleted underneath is detached and waited for, kept in the running-config, and attached again when a TAP of that name comes back', async (t) => {
  t.timeout(60_000);
  const { sw, fx } = await setup(t);
  const a = await tapHost(sw, fx, 'da', 10, '10.77.4.1/24');
  const b = await tapHost(sw, fx, 'db', 10, '10.77.4.2/24');
  t.true(await fx.ping(a.ns, '10.77.4.2', { count: 2 }));
  await ip('-n', b.ns, 'link', 'del', b.tap);
  const gone = async (): Promise<boolean> => sw.showTaps(10).some((x) => x.name === b.tap && x.state === 'gone');
  await within(gone, 5000);
  t.like(sw.showTaps(10).find((x) => x.name === b.tap), { state: 'gone', portId: -1 });
  t.deepEqual((await sw.showPorts(10)).map((p) => p.name), [`tap:${a.tap}`], 'its port went with it');
  t.false((await sw.showMacs(10)).some((m) => m.port === `tap:${b.tap}`), 'and its MACs');
  t.true((await renderRunningConfig(sw, AREAS)).lines.some((l) => l.trim() === `tap ${b.tap}`), 'the operator\'s tap line stays');
  // A TAP of that name again (made in the switch's namespace, handed to the VM after).
  await fx.createTap(b.tap);
  const up = async (): Promise<boolean> => sw.showTaps(10).some((x) => x.name === b.tap && x.state === 'up');
  await within(up, 5000);
  t.true(await up(), JSON.stringify(sw.showTaps(10)));
  await fx.moveToNs(b.tap, b.ns, '10.77.4.2/24');
  // The new device has a new MAC: a forgets the old one, as it would after a VM's NIC was replaced.
  await ip('-n', a.ns, 'neigh', 'flush', 'all');
  t.true(await fx.ping(a.ns, '10.77.4.2', { count: 3 }), 'a reaches b again');
  // Deleted again, then forgotten with no tap: nothing is waited for any more.
  await ip('-n', b.ns, 'link', 'del', b.tap);
  await within(gone, 5000);
  await sw.detachTap(10, b.tap);
  t.deepEqual(sw.showTaps(10).map((x) => x.name), [a.tap]);
});
