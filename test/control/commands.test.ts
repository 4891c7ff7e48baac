// Tests for src/control/commands.ts: every command's text and JSON reply against a
// FakeSwitch holding two VLANs of ports, MACs, TAPs and listeners, the calls each
// command makes, and the argument validators. Pure units: no threads, no sockets.

import test from 'ava';
import { COMMANDS, createCommandRegistry, formatListenSpec, parseDevname, parseHostname, parsePath, parsePort, parseVid } from '../../src/control/commands.js';
import { ConsoleSession, type Reply } from '../../src/control/console-session.js';
import { FakeSwitch } from '../helpers/fake-switch.js';

/** Two VLANs with traffic (10: a TAP and a QEMU guest; 20: a peer) and an empty VLAN 30. */
function fixture(): { sw: FakeSwitch; session: ConsoleSession } {
  const sw = new FakeSwitch();
  const tap0 = sw.addPort(10, 'tap', 'tap:tap0', { rxFrames: 120, rxBytes: 9000, txFrames: 80, txBytes: 7040 });
  sw.taps.push({ name: 'tap0', vid: 10, portId: tap0.id, created: false });
  const guest = sw.addPort(10, 'qemu', 'qemu:127.0.0.1:4000#3', { rxFrames: 7, rxBytes: 602, txFrames: 9, txBytes: 1200 });
  guest.drops['ring-full'] = 3;
  guest.drops.runt = 1;
  sw.listeners.push({ vid: 10, spec: { kind: 'tcp', host: '127.0.0.1', port: 4000 }, address: '127.0.0.1:4000', connections: 1 });
  sw.listeners.push({ vid: 20, spec: { kind: 'unix', path: '/run/dives/vm.sock' }, address: 'unix:/run/dives/vm.sock', connections: 0 });
  const peer = sw.addPort(20, 'peer', 'peer:10.0.0.2:3333', { rxFrames: 1, rxBytes: 64, txFrames: 2, txBytes: 128 });
  sw.addMac(tap0, '02:00:00:00:00:01', 3);
  sw.addMac(guest, '02:00:00:00:00:02', 125);
  sw.addMac(peer, '02:00:00:00:00:03', 7300);
  sw.vlans.set(10, { forwarded: 100, flooded: 20, dropped: 4 });
  sw.vlans.set(30, { forwarded: 0, flooded: 0, dropped: 0 });
  return { sw, session: new ConsoleSession(createCommandRegistry(), sw) };
}

async function at(session: ConsoleSession, vid: number | null, line: string, json = false): Promise<Reply> {
  session.mode = vid === null ? null : { vid };
  return session.execute(line, { json });
}

/** Every `show` at the level it runs at; each gets a text and a JSON snapshot. */
const SHOWS: [number | null, string][] = [
  [null, 'show vlans'],
  [null, 'show ports'],
  [null, 'show taps'],
  [null, 'show listeners'],
  [10, 'show macs'],
  [10, 'show ports'],
  [10, 'show taps'],
  [10, 'show listeners'],
  [10, 'show vlans'],
  [30, 'show macs'],
  [30, 'show ports'],
  [30, 'show taps'],
  [30, 'show listeners'],
];

for (const [vid, line] of SHOWS) {
  const where = vid === null ? 'at switch level' : `in VLAN ${vid}`;
  test(`"${line}" ${where} prints a table and has a JSON form`, async (t) => {
    const { session } = fixture();
    const text = await at(session, vid, line);
    const json = await at(session, vid, line, true);
    t.true(text.ok);
    t.true(json.ok);
    if (!text.ok || !json.ok) return;
    // One snapshot holds both forms: the text lines and the JSON object beside them.
    t.snapshot(text);
    t.notDeepEqual(text.json, undefined);
    t.deepEqual(json, { ...text, lines: [JSON.stringify(text.json)] });
  });
}

/** One working example of every command, by "mode syntax", at the level it runs at. */
const EXAMPLES: Record<string, [number | null, string]> = {
  'switch show ports': [null, 'show ports'],
  'switch show taps': [null, 'show taps'],
  'switch show listeners': [null, 'show listeners'],
  'switch exit': [null, 'exit'],
  'switch end': [null, 'end'],
  'vlan show macs': [10, 'show macs'],
  'vlan show ports': [10, 'show ports'],
  'vlan show taps': [10, 'show taps'],
  'vlan show listeners': [10, 'show listeners'],
  'vlan tap DEVNAME': [10, 'tap tap1'],
  'vlan no tap DEVNAME': [10, 'no tap tap0'],
  'vlan listen HOSTNAME PORT': [10, 'listen 127.0.0.1 4001'],
  'vlan listen unix PATH': [10, 'listen unix /run/vm.sock'],
  'vlan no listen HOSTNAME PORT': [10, 'no listen 127.0.0.1 4000'],
  'vlan no listen unix PATH': [20, 'no listen unix /run/dives/vm.sock'],
  'vlan exit': [10, 'exit'],
  'vlan end': [10, 'end'],
  'any vlan ID [COMMAND...]': [null, 'vlan 10'],
  'any show vlans': [null, 'show vlans'],
  'any help [WORD...]': [10, 'help'],
  'any quit': [10, 'quit'],
  'any debug crash-worker ID': [null, 'debug crash-worker 20'],
  'any debug crash-tap DEVNAME': [null, 'debug crash-tap tap0'],
  'any debug crash-peers': [null, 'debug crash-peers'],
  'any debug crash-qemu': [null, 'debug crash-qemu'],
};

test('every command has a working example with a JSON form', async (t) => {
  t.deepEqual(
    COMMANDS.map((c) => `${c.mode} ${c.syntax}`).sort(),
    Object.keys(EXAMPLES).sort(),
    'a command was added or renamed without an example here',
  );
  for (const [key, [vid, line]] of Object.entries(EXAMPLES)) {
    const text = await at(fixture().session, vid, line);
    const json = await at(fixture().session, vid, line, true);
    t.true(text.ok && text.json !== undefined, key);
    if (text.ok) t.deepEqual(json, { ...text, lines: [JSON.stringify(text.json)] }, key);
  }
});

test('show macs prints MAC, port and age in aligned columns', async (t) => {
  const { session } = fixture();
  t.deepEqual(await at(session, 10, 'show macs'), {
    ok: true,
    lines: ['MAC                PORT                   AGE', '02:00:00:00:00:01  tap:tap0               3s', '02:00:00:00:00:02  qemu:127.0.0.1:4000#3  2m05s'],
    json: {
      vid: 10,
      macs: [
        { mac: '02:00:00:00:00:01', port: 'tap:tap0', portId: 1, ageSeconds: 3 },
        { mac: '02:00:00:00:00:02', port: 'qemu:127.0.0.1:4000#3', portId: 2, ageSeconds: 125 },
      ],
    },
  });
});

test('show ports prints each port with its counters and its non-zero drops', async (t) => {
  const { session } = fixture();
  const reply = await at(session, 10, 'show ports');
  t.like(reply, {
    ok: true,
    lines: [
      'ID  NAME                   KIND  VID  RX-FRAMES  RX-BYTES  TX-FRAMES  TX-BYTES',
      '1   tap:tap0               tap   10   120        9000      80         7040',
      '    drops: none',
      '2   qemu:127.0.0.1:4000#3  qemu  10   7          602       9          1200',
      '    drops: runt=1 ring-full=3',
    ],
  });
});

test('show ports at switch level covers every VLAN and asks the switch for all', async (t) => {
  const { sw, session } = fixture();
  const reply = await at(session, null, 'show ports');
  t.true(reply.ok && reply.lines.some((l) => l.startsWith('3   peer:10.0.0.2:3333')));
  t.deepEqual(sw.calls, [{ method: 'showPorts', args: [undefined] }]);
});

test('empty tables print their header and say what is missing', async (t) => {
  const { session } = fixture();
  t.like(await at(session, 30, 'show macs'), { lines: ['MAC  PORT  AGE', '(no MACs learned)'] });
  t.like(await at(session, 30, 'show ports'), { lines: ['ID  NAME  KIND  VID  RX-FRAMES  RX-BYTES  TX-FRAMES  TX-BYTES', '(no ports in VLAN 30)'] });
  t.like(await at(session, 30, 'show taps'), { lines: ['NAME  VID  PORT  CREATED', '(no TAPs attached)'] });
  t.like(await at(session, 30, 'show listeners'), { lines: ['ADDRESS  VID  CONNECTIONS', '(no listeners)'] });
  const empty = new ConsoleSession(createCommandRegistry(), new FakeSwitch());
  t.like(await empty.execute('show vlans'), { lines: ['VID  PORTS  MACS  WORKER  FORWARDED  FLOODED  DROPPED', '(no VLANs)'] });
  t.like(await empty.execute('show ports'), { lines: ['ID  NAME  KIND  VID  RX-FRAMES  RX-BYTES  TX-FRAMES  TX-BYTES', '(no ports)'] });
});

test('vlan ID makes sure the VLAN exists and enters VLAN mode', async (t) => {
  const { sw, session } = fixture();
  t.deepEqual(await session.execute('vlan 42'), { ok: true, lines: [], json: { vid: 42 } });
  t.deepEqual(session.mode, { vid: 42 });
  t.deepEqual(sw.changes, [{ method: 'ensureVlan', args: [42] }]);
  t.true(sw.vlans.has(42));
});

test('tap DEVNAME attaches the device to the VLAN and says whether it was created', async (t) => {
  const { sw, session } = fixture();
  t.deepEqual(await at(session, 10, 'tap tap7'), {
    ok: true,
    lines: ['tap tap7 attached to VLAN 10 as port 4 (created)'],
    json: { tap: { name: 'tap7', vid: 10, portId: 4, created: true } },
  });
  t.like(await at(session, 10, 'tap tap1'), { ok: true, lines: ['tap tap1 attached to VLAN 10 as port 5'] });
  t.deepEqual(sw.changes, [
    { method: 'attachTap', args: [10, 'tap7'] },
    { method: 'attachTap', args: [10, 'tap1'] },
  ]);
});

test('no tap DEVNAME detaches the device from the VLAN', async (t) => {
  const { sw, session } = fixture();
  t.deepEqual(await at(session, 10, 'no tap tap0'), {
    ok: true,
    lines: ['tap tap0 detached from VLAN 10'],
    json: { detached: { vid: 10, name: 'tap0' } },
  });
  t.deepEqual(sw.changes, [{ method: 'detachTap', args: [10, 'tap0'] }]);
  t.is(sw.taps.length, 0);
});

test('listen HOSTNAME PORT opens a TCP listener for QEMU guests', async (t) => {
  const { sw, session } = fixture();
  t.deepEqual(await at(session, 10, 'listen 0.0.0.0 4001'), {
    ok: true,
    lines: ['listening for QEMU on 0.0.0.0:4001 in VLAN 10'],
    json: { listener: { vid: 10, spec: { kind: 'tcp', host: '0.0.0.0', port: 4001 }, address: '0.0.0.0:4001', connections: 0 } },
  });
  t.like(await at(session, 10, 'listen ::1 4002'), { ok: true, lines: ['listening for QEMU on [::1]:4002 in VLAN 10'] });
  t.like(await at(session, 10, 'listen [::1] 4003'), { ok: true, lines: ['listening for QEMU on [::1]:4003 in VLAN 10'] });
  t.like(await at(session, 10, 'listen vmhost.example 4004'), { ok: true });
  t.deepEqual(
    sw.changes.map((c) => c.args),
    [
      [10, { kind: 'tcp', host: '0.0.0.0', port: 4001 }],
      [10, { kind: 'tcp', host: '::1', port: 4002 }],
      [10, { kind: 'tcp', host: '::1', port: 4003 }],
      [10, { kind: 'tcp', host: 'vmhost.example', port: 4004 }],
    ],
  );
});

test('listen unix PATH opens a UNIX socket listener, with quotes for spaces', async (t) => {
  const { sw, session } = fixture();
  t.deepEqual(await at(session, 10, 'listen unix "/run/my vms/a.sock"'), {
    ok: true,
    lines: ['listening for QEMU on unix:/run/my vms/a.sock in VLAN 10'],
    json: { listener: { vid: 10, spec: { kind: 'unix', path: '/run/my vms/a.sock' }, address: 'unix:/run/my vms/a.sock', connections: 0 } },
  });
  t.like(await at(session, 10, 'listen unix vm.sock'), { ok: true, lines: ['listening for QEMU on unix:vm.sock in VLAN 10'] });
  t.deepEqual(sw.changes[1], { method: 'listen', args: [10, { kind: 'unix', path: 'vm.sock' }] });
});

test('no listen closes TCP and UNIX listeners', async (t) => {
  const { sw, session } = fixture();
  t.deepEqual(await at(session, 10, 'no listen 127.0.0.1 4000'), {
    ok: true,
    lines: ['stopped listening on 127.0.0.1:4000 in VLAN 10'],
    json: { stopped: { vid: 10, spec: { kind: 'tcp', host: '127.0.0.1', port: 4000 } } },
  });
  t.deepEqual(await at(session, 20, 'no listen unix /run/dives/vm.sock'), {
    ok: true,
    lines: ['stopped listening on unix:/run/dives/vm.sock in VLAN 20'],
    json: { stopped: { vid: 20, spec: { kind: 'unix', path: '/run/dives/vm.sock' } } },
  });
  t.is(sw.listeners.length, 0);
});

test('debug crash-worker ID asks the switch to crash that VLAN\'s worker', async (t) => {
  const { sw, session } = fixture();
  t.deepEqual(await session.execute('debug crash-worker 10'), {
    ok: true,
    lines: ['crashed the forwarding worker of VLAN 10'],
    json: { crashed: 10 },
  });
  t.deepEqual(sw.changes, [{ method: 'crashWorker', args: [10] }]);
});

test('debug crash-tap DEVNAME, crash-peers and crash-qemu ask the switch to stop that I/O thread as a crash would', async (t) => {
  const { sw, session } = fixture();
  t.deepEqual(await session.execute('debug crash-tap tap0'), {
    ok: true,
    lines: ['stopped the I/O thread of tap tap0 as a crash would'],
    json: { crashed: 'tap0' },
  });
  t.deepEqual(sw.changes, [{ method: 'crashTapIo', args: ['tap0'] }]);
  t.deepEqual(await session.execute('debug crash-peers'), { ok: true, lines: ['stopped the peer I/O thread as a crash would'], json: { crashed: 'peers' } });
  t.deepEqual(sw.changes.at(-1), { method: 'crashPeerIo', args: [] });
  t.deepEqual(await session.execute('debug crash-qemu'), { ok: true, lines: ['stopped the QEMU I/O thread as a crash would'], json: { crashed: 'qemu' } });
  t.deepEqual(sw.changes.at(-1), { method: 'crashQemuIo', args: [] });
});

test('help lists every visible command grouped by level, and help debug the hidden ones', async (t) => {
  const { session } = fixture();
  const reply = await session.execute('help');
  t.snapshot(reply);
  t.true(reply.ok);
  if (!reply.ok) return;
  for (const syntax of ['show vlans', 'show macs', 'tap DEVNAME', 'no listen unix PATH', 'vlan ID [COMMAND...]', 'quit']) {
    t.true(reply.lines.some((l) => l.startsWith(`  ${syntax}  `)), syntax);
  }
  t.false(reply.lines.some((l) => l.includes('crash-')));
  t.deepEqual(reply.lines.filter((l) => !l.startsWith(' ')).slice(0, 3), [
    'Switch level:',
    'VLAN level (enter with "vlan ID", leave with "exit"):',
    'Either level:',
  ]);

  const debug = await session.execute('help debug');
  t.snapshot(debug);
  t.like(debug, {
    ok: true,
    lines: [
      'Either level:',
      '  debug crash-worker ID    Crash the forwarding worker of VLAN ID on purpose, for recovery drills.',
      '  debug crash-tap DEVNAME  Stop the I/O thread of TAP DEVNAME as a crash would, for recovery drills.',
      '  debug crash-peers        Stop the peer I/O thread as a crash would, for recovery drills.',
      '  debug crash-qemu         Stop the QEMU I/O thread as a crash would, for recovery drills.',
    ],
  });
});

test('help WORD lists the commands that start with it, and its JSON lists them too', async (t) => {
  const { session } = fixture();
  const reply = await session.execute('json help no listen');
  t.like(reply, { ok: true });
  if (!reply.ok) return;
  t.deepEqual((reply.json as { commands: { syntax: string }[] }).commands.map((c) => c.syntax), ['no listen HOSTNAME PORT', 'no listen unix PATH']);
  t.like(await session.execute('help nope'), { ok: false, code: 'EBADCMD', message: 'no command starts with "nope"; try "help"' });
});

test('VLAN ids are 1..4094 in plain decimal', (t) => {
  t.is(parseVid('1'), 1);
  t.is(parseVid('4094'), 4094);
  t.is(parseVid('0010'), 10);
  for (const bad of ['0', '4095', 'abc', '', '-1', '1.5', '0x10', '10a', '99999']) {
    t.throws(() => parseVid(bad), { code: 'EBADARG', message: `VLAN ID must be a number 1..4094, got ${JSON.stringify(bad)}` }, bad);
  }
});

test('ports are 1..65535', (t) => {
  t.is(parsePort('1'), 1);
  t.is(parsePort('65535'), 65535);
  for (const bad of ['0', '65536', 'http', '', '1e3', '123456']) {
    t.throws(() => parsePort(bad), { code: 'EBADARG' }, bad);
  }
});

test('device names are 1..15 characters of letters, digits, _ . and -', (t) => {
  t.is(parseDevname('tap0'), 'tap0');
  t.is(parseDevname('a.b-c_D9'), 'a.b-c_D9');
  t.is(parseDevname('x'.repeat(15)), 'x'.repeat(15));
  for (const bad of ['', 'x'.repeat(16), 'tap/0', 'tap 0', 'täp', 'tap:0']) {
    t.throws(() => parseDevname(bad), { code: 'EBADARG' }, bad);
  }
});

test('host names take IPv4, IPv6 with or without brackets, and names, but not nothing', (t) => {
  t.is(parseHostname('10.0.0.1'), '10.0.0.1');
  t.is(parseHostname('fe80::1'), 'fe80::1');
  t.is(parseHostname('[fe80::1]'), 'fe80::1');
  t.is(parseHostname('host-1.example'), 'host-1.example');
  t.throws(() => parseHostname(''), { code: 'EBADARG' });
  t.throws(() => parseHostname('[]'), { code: 'EBADARG' });
});

test('paths may be absolute or relative but not empty', (t) => {
  t.is(parsePath('/run/vm.sock'), '/run/vm.sock');
  t.is(parsePath('vm.sock'), 'vm.sock');
  t.throws(() => parsePath(''), { code: 'EBADARG' });
  t.throws(() => parsePath('a\0b'), { code: 'EBADARG' });
});

test('listener specs print as the address QEMU connects to', (t) => {
  t.is(formatListenSpec({ kind: 'tcp', host: '127.0.0.1', port: 4000 }), '127.0.0.1:4000');
  t.is(formatListenSpec({ kind: 'tcp', host: '::1', port: 4000 }), '[::1]:4000');
  t.is(formatListenSpec({ kind: 'unix', path: '/run/vm.sock' }), 'unix:/run/vm.sock');
});
