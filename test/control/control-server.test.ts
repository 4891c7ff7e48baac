// Tests for src/control/control-server.ts in this process, against a SampleSwitch:
// every `show` over the socket in text and JSON (snapshots of the exact bytes),
// sessions and their modes, the ready gate, half-close and `quit`, and claiming
// the socket path. Real UNIX sockets in a temp directory; no switch threads.

import test, { type ExecutionContext } from 'ava';
import { lstatSync, existsSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createCommandRegistry } from '../../src/control/commands/create-command-registry.js';
import { startControlServer, type ControlServer } from '../../src/control/control-server.js';
import { CtlClient } from '../../src/control/ctl-client.js';
import { createLogger } from '../../src/core/log.js';
import { SampleSwitch } from '../../src/docs/sample-switch.js';
import { sampleSwitch } from '../../src/docs/sample-data.js';
import { tempDir } from '../helpers/ctl-process.js';
import { until } from '../helpers/until.js';

const quiet = createLogger('silent');

/** The sample switch (src/docs/sample-switch.ts), with a space in VLAN 20's UNIX path, which the socket's quoting must carry. */
function fixture(): SampleSwitch {
  const sw = sampleSwitch();
  const unix = sw.listeners.findIndex((l) => l.spec.kind === 'unix');
  sw.listeners[unix] = { ...sw.listeners[unix], spec: { kind: 'unix', path: '/run/dives/vm 20.sock' }, address: 'unix:/run/dives/vm 20.sock' };
  return sw;
}

async function serve(t: ExecutionContext, opts: { dir?: string; sw?: SampleSwitch; ready?: boolean } = {}): Promise<ControlServer & { sw: SampleSwitch }> {
  const dir = opts.dir ?? tempDir(t);
  const sw = opts.sw ?? fixture();
  const server = await startControlServer({ dir, registry: createCommandRegistry(), sw, log: quiet });
  t.teardown(() => server.close());
  if (opts.ready !== false) server.ready();
  return Object.assign(server, { sw });
}

/** Send raw bytes, close our side, and collect everything the server says until it closes. */
function exchange(path: string, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    let text = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (text += d));
    sock.once('error', reject);
    sock.once('close', () => resolve(text));
    sock.end(bytes);
  });
}

/** Every `show`, with the VLAN mode it runs in (entered with `vlan ID` first on the same connection). */
const SHOWS: [number | null, string][] = [
  [null, 'show vlans'],
  [null, 'show ports'],
  [null, 'show taps'],
  [null, 'show listeners'],
  [null, 'show running-config'],
  [10, 'show macs'],
  [10, 'show ports'],
  [10, 'show taps'],
  [10, 'show listeners'],
  [10, 'show vlans'],
  [30, 'show macs'],
  [30, 'show ports'],
];

for (const [vid, line] of SHOWS) {
  const where = vid === null ? 'at switch level' : `in VLAN ${vid}`;
  test(`"${line}" ${where} answers over the socket in text and as one JSON document`, async (t) => {
    const server = await serve(t);
    const enter = vid === null ? '' : `vlan ${vid}\n`;
    const wire = await exchange(server.path, `${enter}${line}\njson ${line}\n`);
    t.snapshot(wire);
    const replies = wire.split(/^(?:ok|error .*)$\n/m).filter((r) => r !== '');
    const json = replies[replies.length - 1];
    t.regex(json, /^\| \{.*\}\n$/, 'the JSON form is one reply line');
    t.notThrows(() => JSON.parse(json.slice(2)));
    t.true(wire.endsWith('ok\n'));
  });
}

test('each connection has its own session: VLAN mode on one does not leak to another', async (t) => {
  const server = await serve(t);
  const a = await CtlClient.connect(server.path);
  const b = await CtlClient.connect(server.path);
  t.teardown(() => (a.destroy(), b.destroy()));
  t.like(await a.request('vlan 10'), { ok: true });
  t.deepEqual((await a.request('prompt')).lines, ['dives(vlan 10)> ']);
  t.deepEqual((await b.request('prompt')).lines, ['dives> ']);
  t.like(await b.request('show macs'), { ok: false, code: 'EBADCMD' });
  t.like(await a.request('show macs'), { ok: true });
});

test('completion comes from the switch for the session\'s level', async (t) => {
  const server = await serve(t);
  const c = await CtlClient.connect(server.path);
  t.teardown(() => c.destroy());
  t.deepEqual((await c.request('complete "show r"')).lines, ['rings', 'running-config']);
  t.deepEqual(JSON.parse((await c.request('json complete "vlan 10 show m"')).lines[0]), { line: 'vlan 10 show m', partial: 'm', words: ['macs'] });
  await c.request('vlan 10');
  t.deepEqual((await c.request('complete "no "')).lines, ['listen', 'mac-limit', 'storm-control', 'tap', 'vxlan']);
});

test('requests wait until the switch is ready, then are answered in order', async (t) => {
  const server = await serve(t, { ready: false });
  const c = await CtlClient.connect(server.path);
  t.teardown(() => c.destroy());
  let answered = false;
  const pending = c.request('show vlans').then((r) => ((answered = true), r));
  await new Promise((r) => setTimeout(r, 100));
  t.false(answered, 'no answer before ready()');
  server.ready();
  t.like(await pending, { ok: true });
});

test('quit is answered "ok bye" and the connection closes; exit in VLAN mode only leaves it', async (t) => {
  const server = await serve(t);
  t.is(await exchange(server.path, 'vlan 10\nexit\nprompt\nquit\nshow vlans\n'), 'ok\nok\n| dives> \nok\nok bye\n');
});

test('a client that closes its side still gets every reply, the last line even without a newline', async (t) => {
  const server = await serve(t);
  const wire = await exchange(server.path, 'vlan 10 show taps\r\nprompt');
  t.is(wire, '| NAME  VID  PORT  CREATED  STATE\n| tap0  10   1     no       up\nok\n| dives> \nok\n');
});

test('errors are one status line with a stable code, and the session goes on', async (t) => {
  const server = await serve(t);
  const wire = await exchange(server.path, 'shw macs\nvlan 4095\nshow macs\n"unterminated\njson\nvlan 10 tap tap0\nshow vlans\n');
  const status = wire.split('\n').filter((l) => l !== '' && !l.startsWith('|'));
  t.deepEqual(status, [
    'error EBADCMD: unknown command "shw macs"; try "help"',
    'error EBADARG: VLAN ID must be a number 1..4094, got "4095"',
    'error EBADCMD: "show macs" needs VLAN mode; enter it with "vlan ID"',
    'error EBADARG: unterminated double quote',
    'error EBADCMD: "json" needs a command after it, e.g. "json show macs"',
    'error EATTACHED: tap tap0: already attached to VLAN 10; detach it there first with "no tap tap0"',
    'ok',
  ]);
});

test('a live socket is not taken over: a second server on the directory is refused', async (t) => {
  const server = await serve(t);
  const dir = join(server.path, '..');
  await t.throwsAsync(startControlServer({ dir, registry: createCommandRegistry(), sw: fixture(), log: quiet }), {
    code: 'ECTLBUSY',
    message: new RegExp(`another DiVES switch is running on ${server.path}.*-u DIR`),
  });
  const c = await CtlClient.connect(server.path);
  t.teardown(() => c.destroy());
  t.like(await c.request('show vlans'), { ok: true }, 'the first one still answers');
});

test('a stale socket file (nothing listening) is replaced', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'dives.ctl');
  // A socket file whose server is gone: bind, then drop the handle without the close that unlinks it.
  const { spawnSync } = await import('node:child_process');
  spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
  t.true(lstatSync(path).isSocket(), 'the stale socket exists');
  const server = await serve(t, { dir });
  const c = await CtlClient.connect(server.path);
  t.teardown(() => c.destroy());
  t.like(await c.request('prompt'), { ok: true });
});

test('a file that is not a socket is left alone and the server refuses', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'dives.ctl'), 'precious');
  await t.throwsAsync(startControlServer({ dir, registry: createCommandRegistry(), sw: fixture(), log: quiet }), {
    message: /dives\.ctl exists and is not a socket/,
  });
  t.true(lstatSync(join(dir, 'dives.ctl')).isFile());
});

test('the socket is owner-only (0600) by default, and close() removes it', async (t) => {
  const server = await serve(t);
  t.is(lstatSync(server.path).mode & 0o777, 0o600);
  await server.close();
  t.false(existsSync(server.path));
});

test('--ctl-group makes the socket 0660 and owned by that group', async (t) => {
  const gid = process.getgid?.() ?? 0;
  const server = await startControlServer({ dir: tempDir(t), group: String(gid), registry: createCommandRegistry(), sw: fixture(), log: quiet });
  t.teardown(() => server.close());
  const st = lstatSync(server.path);
  t.is(st.mode & 0o777, 0o660);
  t.is(st.gid, gid);
});

test('an unknown group, a missing directory\'s parent or a path too long for a socket are refused with what to do', async (t) => {
  const registry = createCommandRegistry();
  await t.throwsAsync(startControlServer({ dir: tempDir(t), group: 'no-such-group-dives', registry, sw: fixture(), log: quiet }), {
    message: /--ctl-group no-such-group-dives: no such group/,
  });
  await t.throwsAsync(startControlServer({ dir: join(tempDir(t), 'x'.repeat(120)), registry, sw: fixture(), log: quiet }), {
    message: /UNIX sockets allow 107, so give a shorter -u DIR/,
  });
});

test('the socket directory is created when missing', async (t) => {
  const dir = join(tempDir(t), 'run', 'dives');
  const server = await serve(t, { dir });
  t.true(lstatSync(server.path).isSocket());
});

test('a client that stops reading is held back without stopping others', async (t) => {
  const server = await serve(t);
  const flooder = createConnection(server.path);
  t.teardown(() => flooder.destroy());
  await new Promise((r) => flooder.once('connect', r));
  flooder.pause();
  // Far more replies than socket buffers hold; the server must stop reading this client, not buffer for it.
  flooder.write('show ports\n'.repeat(20_000));
  await new Promise((r) => setTimeout(r, 200));
  const c = await CtlClient.connect(server.path);
  t.teardown(() => c.destroy());
  const started = Date.now();
  t.like(await c.request('show vlans'), { ok: true });
  t.true(Date.now() - started < 2000);
  const calls = server.sw.calls.filter((x) => x.method === 'showPorts').length;
  t.true(calls < 20_000, `the flooder's requests were not all run ahead (${calls})`);
});

test('anything that accepts connections on the socket path counts as live and is not replaced', async (t) => {
  const dir = tempDir(t);
  const other = createServer(() => {});
  await new Promise<void>((r) => other.listen(join(dir, 'dives.ctl'), r));
  t.teardown(() => other.close());
  await t.throwsAsync(startControlServer({ dir, registry: createCommandRegistry(), sw: fixture(), log: quiet }), { message: /another DiVES switch/ });
});

test('connections that come and go by the hundred leave a few debug lines, not one per connection', async (t) => {
  const out = new PassThrough();
  const lines: string[] = [];
  out.on('data', (d: Buffer) => lines.push(d.toString()));
  const log = createLogger('debug', out);
  const dir = tempDir(t);
  const server = await startControlServer({ dir, registry: createCommandRegistry(), sw: fixture(), log });
  t.teardown(() => server.close());
  server.ready();
  lines.length = 0;
  for (let i = 0; i < 300; i++) await exchange(server.path, 'show vlans\n');
  t.true(lines.length <= 3 * 5, `${lines.length} lines for 300 connections`);
  t.is(lines.filter((l) => /control\[\d+\]: connected/.test(l)).length, 5);
});

test('monitor streams each event as a line until the client sends a line; then the session goes on', async (t) => {
  const server = await serve(t);
  const c = await CtlClient.connect(server.path);
  t.teardown(() => c.destroy());
  const lines: string[] = [];
  const reply = await c.stream('json monitor vlan-down capture-started', (l) => lines.push(l));
  t.deepEqual(reply, { ok: true, close: false, stream: true, lines: ['{"kinds":["vlan-down","capture-started"]}'] });
  server.sw.events.emit({ kind: 'vlan-down', vid: 10, reason: 'drill' });
  server.sw.events.emit({ kind: 'peer-up', peer: '10.0.0.9:3333', learned: 'static', legacy: false, how: 'keepalive', portId: 7, vlans: [10] });
  server.sw.events.emit({ kind: 'capture-started', target: 'VLAN 10', to: '/tmp/x.pcap' });
  await until(() => lines.length >= 2, 5000, 'two lines of the stream', { everyMs: 10, detail: () => lines.join('\n') });
  t.deepEqual(
    lines.map((l) => JSON.parse(l) as { kind: string }).map((e) => e.kind),
    ['vlan-down', 'capture-started'],
  );
  t.is(server.sw.events.subscribers, 1);
  t.deepEqual(await c.stopStream(), { ok: true, close: false, lines: [] });
  t.is(server.sw.events.subscribers, 0, 'the stream let go of the bus');
  server.sw.events.emit({ kind: 'vlan-down', vid: 11, reason: 'after' });
  t.deepEqual((await c.request('prompt')).lines, ['dives> ']);
  t.is(lines.length, 2);
});

test('a monitor that closes its side, or goes away, is let go of', async (t) => {
  const server = await serve(t);
  t.is(await exchange(server.path, 'monitor\n'), '| monitoring every event; a line sent, or closing the connection, stops it\nok stream\nok\n');
  const sock = createConnection(server.path);
  await new Promise((r) => sock.once('connect', r));
  sock.write('monitor\n');
  await until(() => server.sw.events.subscribers === 1, 5000, 'the monitor to subscribe', { everyMs: 10 });
  sock.destroy();
  await until(() => server.sw.events.subscribers === 0, 5000, 'the monitor to be let go of', { everyMs: 10 });
  t.pass();
});

test('a monitor that stops reading costs a socket buffer, not memory, and is told how many events it missed', async (t) => {
  const server = await serve(t);
  const sock = createConnection(server.path);
  t.teardown(() => sock.destroy());
  await new Promise((r) => sock.once('connect', r));
  sock.setEncoding('utf8');
  let text = '';
  sock.on('data', (d: string) => (text += d));
  sock.write('json monitor\n');
  await until(() => text.includes('ok stream\n'), 5000, 'the stream to start', { everyMs: 10, detail: () => text.slice(-2000) });
  sock.pause();
  const N = 100_000;
  for (let i = 0; i < N; i++) server.sw.events.emit({ kind: 'vlan-down', vid: 1 + (i % 4000), reason: `reason number ${i} of a monitor that does not read` });
  sock.resume();
  await new Promise((r) => setTimeout(r, 200));
  server.sw.events.emit({ kind: 'capture-started', target: 'the marker', to: 'x' });
  await until(() => text.includes('the marker'), 5000, 'the marker event', { everyMs: 10, detail: () => text.slice(-2000) });
  const events = text
    .split('\n')
    .filter((l) => l.startsWith('| {"time"'))
    .map((l) => JSON.parse(l.slice(2)) as { kind: string; count?: number });
  const delivered = events.filter((e) => e.kind === 'vlan-down').length;
  const notice = events.find((e) => e.kind === 'events-dropped');
  t.true(delivered < N / 10, `${delivered} of ${N} events were queued for a client that did not read`);
  t.is(notice?.count, N - delivered, 'every event is either delivered or counted');
  t.is(events[events.length - 1].kind, 'capture-started');
  t.is(events[events.length - 2].kind, 'events-dropped', 'the notice comes before the next event');
});
