// `dives ctl monitor` against real `dives start` processes: the events of a VM that connects
// and goes, a MAC that moves between two ports, a static peer on loopback that comes up and
// later expires, a forwarding thread crashed by `debug crash-worker`, and drops that start climbing arrive in
// order with their fields, one JSON object per line; a MAC bouncing between two ports a
// thousand times makes a handful of events and one counted flap; Ctrl-C ends it with 0.

import test, { type ExecutionContext } from 'ava';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAC_FLAP_MOVES } from '../../src/core/mac-move-limits.js';
import { freeUdpPort, runCtl, startCtlStream, tempDir, type CtlStream } from '../helpers/ctl-process.js';
import { DivesProcess } from '../helpers/dives-process.js';
import { freeTcpPort } from '../helpers/guest.js';
import { QemuClient } from '../helpers/qemu-client.js';
import { markerFrame } from '../helpers/frames.js';

interface Ev {
  kind: string;
  [field: string]: unknown;
}

/** A switch in `dir` peering on `port` (static peers only), running `rc`, stopped when the test ends. */
async function switchAt(t: ExecutionContext, dir: string, port: number, rc: string): Promise<DivesProcess> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'test.rc'), rc);
  const p = await DivesProcess.start(['-u', dir, '-p', String(port), '-d', String(await freeUdpPort()), '--no-discovery', '-c', join(dir, 'test.rc')], { cwd: dir });
  t.teardown(() => p.stop('SIGKILL'));
  if (!/DiVES switch up/.test(p.stderr)) throw new Error(`the switch did not start:\n${p.stderr}`);
  return p;
}

function events(m: CtlStream): Ev[] {
  return m.lines.filter((l) => l !== '').map((l) => JSON.parse(l) as Ev);
}

/** Connect a throwaway VM until the monitor shows it: from then on the monitor sees everything. */
async function attached(m: CtlStream, listen: number): Promise<number> {
  for (;;) {
    const probe = await QemuClient.connect({ port: listen });
    probe.close();
    try {
      await m.until((l) => l.some((x) => x.includes('"vm-disconnected"')), 1000);
      return m.lines.length;
    } catch {
      // Not attached yet: connect another.
    }
  }
}

async function ctl(dir: string, ...words: string[]): Promise<void> {
  const r = await runCtl(['-u', dir, ...words]);
  if (r.code !== 0) throw new Error(`dives ctl ${words.join(' ')}: ${r.stderr}`);
}

/** Bounce `mac` between `a` and `b`: each frame sent only once the other VM got the last, so each is a move. */
async function bounce(a: QemuClient, b: QemuClient, mac: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    const [from, to] = i % 2 === 0 ? [a, b] : [b, a];
    const had = to.frames.length;
    from.send(markerFrame('ff:ff:ff:ff:ff:ff', mac, `bounce ${i}`));
    await to.waitFrames(had + 1);
  }
}

/** Where each of `wanted` is found in `got`, in order; fails naming the first that is not there after the one before it. */
function inOrder(t: ExecutionContext, got: Ev[], wanted: Partial<Ev>[]): void {
  let at = 0;
  for (const w of wanted) {
    const i = got.findIndex((e, j) => j >= at && Object.entries(w).every(([k, v]) => JSON.stringify(e[k]) === JSON.stringify(v)));
    if (i < 0) return void t.fail(`no ${JSON.stringify(w)} after event ${at} in:\n${got.map((e) => JSON.stringify(e)).join('\n')}`);
    at = i + 1;
  }
  t.pass();
}

test('dives ctl monitor --json prints each event as it happens, in order, with its fields', async (t) => {
  t.timeout(90_000);
  const dirA = tempDir(t);
  const dirB = tempDir(t);
  const [portA, portB, listen] = [await freeUdpPort(), await freeUdpPort(), await freeTcpPort()];
  await switchAt(t, dirA, portA, `vlan 10\nlisten 127.0.0.1 ${listen}\nexit\n`);
  const b = await switchAt(t, dirB, portB, `vlan 10\nlisten 127.0.0.1 ${await freeTcpPort()}\nexit\n`);
  const m = startCtlStream(t, ['-u', dirA, 'monitor', '--json']);
  const from = await attached(m, listen);

  const vm1 = await QemuClient.connect({ port: listen });
  const vm2 = await QemuClient.connect({ port: listen });
  t.teardown(() => (vm1.close(), vm2.close()));
  const remotes = [vm1, vm2].map((vm) => `127.0.0.1:${vm.socket.localPort}`);
  await m.until((l) => l.slice(from).filter((x) => x.includes('"vm-connected"')).length >= 2);
  // 02:..:01 is learned on vm1, then seen on vm2.
  vm1.send(markerFrame('ff:ff:ff:ff:ff:ff', '02:00:00:00:00:01'));
  await vm2.waitFrames(1);
  vm2.send(markerFrame('ff:ff:ff:ff:ff:ff', '02:00:00:00:00:01'));
  await vm1.waitFrames(1);
  await m.until((l) => l.some((x) => x.includes('"mac-moved"')));
  await ctl(dirA, 'peer', '127.0.0.1', String(portB));
  await ctl(dirB, 'peer', '127.0.0.1', String(portA));
  await m.until((l) => l.some((x) => x.includes('"peer-up"')));
  await ctl(dirA, 'debug', 'crash-worker', '10');
  await m.until((l) => l.some((x) => x.includes('"thread-restarted"')));
  vm1.close();
  await m.until((l) => l.slice(from).some((x) => x.includes('"vm-disconnected"')));
  // The peer goes away without a word: it expires after --peer-expiry (3) intervals of 1 s.
  await b.stop('SIGKILL');
  await m.until((l) => l.some((x) => x.includes('"port-detached"') && x.includes('"portKind":"peer"')), 15_000);

  const got = events(m).slice(from);
  const [p1, p2] = remotes.map((r) => got.find((e) => e.kind === 'vm-connected' && e.remote === r)?.port as string);
  t.regex(p1, new RegExp(`^qemu:127\\.0\\.0\\.1:${listen}#\\d+$`));
  inOrder(t, got, [
    { kind: 'port-attached', vid: 10, port: p1, portKind: 'qemu' },
    { kind: 'vm-connected', vid: 10, port: p1, listener: `127.0.0.1:${listen}` },
    { kind: 'vm-connected', vid: 10, port: p2 },
    { kind: 'mac-moved', vid: 10, mac: '02:00:00:00:00:01', from: p1, to: p2 },
    { kind: 'port-attached', vid: 0, port: `peer:127.0.0.1:${portB}`, portKind: 'peer' },
    { kind: 'peer-up', peer: `127.0.0.1:${portB}`, learned: 'static', vlans: [10] },
    { kind: 'thread-restarted', thread: 'forwarding thread 0', threadKind: 'forwarding', restarts: 1 },
    { kind: 'vm-disconnected', vid: 10, port: p1 },
    { kind: 'port-detached', vid: 10, port: p1, portKind: 'qemu' },
    { kind: 'peer-down', peer: `127.0.0.1:${portB}`, learned: 'static', reason: 'expired' },
    { kind: 'port-detached', vid: 0, port: `peer:127.0.0.1:${portB}`, portKind: 'peer' },
  ]);
  const down = got.find((e) => e.kind === 'peer-down');
  t.true(Number(down?.silentSeconds) >= 3, `silent for ${String(down?.silentSeconds)} s`);
  for (const e of got) t.regex(String(e.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  t.is(await m.stop('SIGINT'), 0, 'Ctrl-C ends it cleanly');
  t.is(m.stderr(), '');
});

test('a MAC bouncing between two ports a thousand times is one counted flap and a few events; drops that start climbing are reported', async (t) => {
  t.timeout(90_000);
  const dir = tempDir(t);
  const listen = await freeTcpPort();
  await switchAt(t, dir, await freeUdpPort(), `vlan 10\nlisten 127.0.0.1 ${listen}\nexit\n`);
  const m = startCtlStream(t, ['-u', dir, 'monitor', '--json']);
  const from = await attached(m, listen);
  const a = await QemuClient.connect({ port: listen });
  const b = await QemuClient.connect({ port: listen });
  t.teardown(() => (a.close(), b.close()));
  await m.until((l) => l.slice(from).filter((x) => x.includes('"vm-connected"')).length >= 2);

  await bounce(a, b, '02:00:00:00:0f:0f', 1000);
  await new Promise((r) => setTimeout(r, 500));
  const mine = events(m).filter((e) => e.mac === '02:00:00:00:0f:0f');
  const flaps = mine.filter((e) => e.kind === 'mac-flap').length;
  t.true(flaps >= 1 && flaps <= 2, `${flaps} flaps`);
  t.true(mine.length <= 2 * (MAC_FLAP_MOVES + 1), `${mine.length} events for 999 moves:\n${mine.map((e) => JSON.stringify(e)).join('\n')}`);
  const vlans = JSON.parse((await runCtl(['-u', dir, '--json', 'show', 'vlans'])).stdout) as { vlans: { counters: Record<string, number> }[] };
  t.is(vlans.vlans[0].counters['mac-flaps'], flaps, 'each flap reported is counted, once');
  t.true(vlans.vlans[0].counters.moved >= 999);

  // mac-limit 1: b has its MAC learned already, so frames from another source MAC are dropped.
  await ctl(dir, 'vlan', '10', 'mac-limit', '1');
  for (let i = 0; i < 5; i++) b.send(markerFrame('ff:ff:ff:ff:ff:ff', '02:00:00:00:0e:0e', `over ${i}`));
  await m.until((l) => l.some((x) => x.includes('"drops-rising"')), 5000);
  const rising = events(m).find((e) => e.kind === 'drops-rising');
  t.like(rising, { vid: 10, reason: 'mac-limit' });
  t.is(await m.stop('SIGTERM'), 0);
});

test('dives ctl monitor in text, only the kinds asked for, ends with its reader', async (t) => {
  const dir = tempDir(t);
  const listen = await freeTcpPort();
  const sw = await switchAt(t, dir, await freeUdpPort(), `vlan 10\nlisten 127.0.0.1 ${listen}\nexit\n`);
  const m = startCtlStream(t, ['-u', dir, 'monitor', 'vm-disconnected']);
  await m.until(() => /monitoring vm-disconnected;/.test(m.stderr())).catch((err: unknown) => {
    throw new Error(`${String(err)}\nthe switch said:\n${sw.stderr}`);
  });
  const vm = await QemuClient.connect({ port: listen });
  vm.close();
  await m.until((l) => l.length >= 1);
  t.regex(m.lines[0], /^\d{4}-\d\d-\d\dT[\d:.]+Z vm-disconnected qemu port \d+ \(VLAN 10\) disconnected: /);
  t.is(m.stderr(), 'monitoring vm-disconnected; a line sent, or closing the connection, stops it\n', 'the reply goes to stderr, events alone to stdout');
  t.is(await m.stop('SIGINT'), 0);
});
