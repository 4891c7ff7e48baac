// Tests for src/control/console-session.ts: prompts and modes, the one-shot
// `vlan ID ...` prefix, tokenizing (quotes, comments), the `json` prefix, the
// line limit, every error path as one reply line, and tab completion. Pure units.

import test from 'ava';
import { createCommandRegistry } from '../../src/control/commands/create-command-registry.js';
import { ConsoleSession, MAX_LINE, tokenize } from '../../src/control/console-session.js';
import { DivesError } from '../../src/core/errors.js';
import { SampleSwitch } from '../../src/docs/sample-switch.js';

function session(log?: (m: string) => void): { sw: SampleSwitch; s: ConsoleSession } {
  const sw = new SampleSwitch();
  return { sw, s: new ConsoleSession(createCommandRegistry(), sw, { log }) };
}

test('the prompt shows the level, and vlan / exit / end move between levels', async (t) => {
  const { s } = session();
  t.is(s.mode, null);
  t.is(s.prompt, 'dives> ');
  await s.execute('vlan 10');
  t.is(s.prompt, 'dives(vlan 10)> ');
  await s.execute('exit');
  t.is(s.prompt, 'dives> ');
  await s.execute('vlan 20');
  await s.execute('vlan 30');
  t.is(s.prompt, 'dives(vlan 30)> ');
  t.deepEqual(await s.execute('end'), { ok: true, lines: [], json: { vid: null } });
  t.is(s.mode, null);
});

test('exit, end and quit at switch level ask the transport to close; quit does so in VLAN mode too', async (t) => {
  const { s } = session();
  for (const line of ['exit', 'end', 'quit']) {
    t.deepEqual(await s.execute(line), { ok: true, lines: [], json: { close: true }, close: true }, line);
  }
  await s.execute('vlan 10');
  t.like(await s.execute('quit'), { ok: true, close: true });
});

test('a one-shot vlan prefix runs a VLAN command without changing the mode', async (t) => {
  const { sw, s } = session();
  t.like(await s.execute('vlan 10 tap tap3'), { ok: true, lines: ['tap tap3 attached to VLAN 10 as port 1 (created)'] });
  t.is(s.mode, null);
  t.like(await s.execute('vlan 10 show macs'), { ok: true, lines: ['MAC  PORT  AGE', '(no MACs learned)'] });
  await s.execute('vlan 20');
  t.like(await s.execute('vlan 10 show taps'), { ok: true, json: { vid: 10 } });
  t.deepEqual(s.mode, { vid: 20 });
  // The one-shot form does not create the VLAN itself; the switch method it calls decides.
  t.deepEqual(
    sw.changes.map((c) => c.method),
    ['attachTap', 'ensureVlan'],
  );
});

test('a one-shot vlan prefix refuses commands that change the mode', async (t) => {
  const { s } = session();
  t.deepEqual(await s.execute('vlan 10 exit'), { ok: false, code: 'EBADCMD', message: '"exit" cannot follow a one-shot "vlan 10" prefix' });
  t.deepEqual(await s.execute('vlan 10 vlan 20 show macs'), { ok: false, code: 'EBADCMD', message: '"vlan" cannot follow a one-shot "vlan 10" prefix' });
  t.like(await s.execute('vlan 10 shw'), { ok: false, code: 'EBADCMD', message: 'unknown command "shw"; try "help"' });
  t.is(s.mode, null);
});

test('blank lines and comments are no-ops', async (t) => {
  const { sw, s } = session();
  for (const line of ['', '   ', '\t', '# a comment', '   # indented comment']) {
    t.deepEqual(await s.execute(line), { ok: true, lines: [] }, JSON.stringify(line));
  }
  t.deepEqual(sw.calls, []);
});

test('a comment after a command is ignored, but # inside a word is kept', async (t) => {
  const { sw, s } = session();
  t.like(await s.execute('vlan 10 tap tap3   # the build VM'), { ok: true });
  t.like(await s.execute('vlan 10 listen unix vm#1.sock'), { ok: true });
  t.deepEqual(sw.changes[1].args, [10, { kind: 'unix', path: 'vm#1.sock' }]);
});

test('words split on whitespace and double quotes group words with spaces', (t) => {
  t.deepEqual(tokenize('  show   macs\t'), ['show', 'macs']);
  // Spaces and tabs only, as docs/console.md says (and the CR of a CR LF line end): other
  // whitespace is part of a word, so a pasted no-break space cannot split one.
  t.deepEqual(tokenize('show macs\r'), ['show', 'macs']);
  for (const odd of ['\u00a0', '\u2003', '\u3000', '\v', '\f', '\r']) t.deepEqual(tokenize(`show${odd}macs`), [`show${odd}macs`], JSON.stringify(odd));
  t.deepEqual(tokenize('listen unix "/run/my vms/a.sock"'), ['listen', 'unix', '/run/my vms/a.sock']);
  t.deepEqual(tokenize('a"b c"d'), ['ab cd']);
  t.deepEqual(tokenize('say "a \\"quoted\\" \\\\ word"'), ['say', 'a "quoted" \\ word']);
  t.deepEqual(tokenize('x "" y'), ['x', '', 'y']);
  t.deepEqual(tokenize('x "# not a comment"'), ['x', '# not a comment']);
  t.throws(() => tokenize('listen unix "/run/x'), { message: 'unterminated double quote' });
});

test('an unterminated quote is a bad argument', async (t) => {
  const { s } = session();
  t.deepEqual(await s.execute('vlan 10 listen unix "/run/x'), { ok: false, code: 'EBADARG', message: 'unterminated double quote' });
});

test('a line over 4096 characters is rejected before it is parsed', async (t) => {
  const { sw, s } = session();
  const long = `vlan 10 listen unix /${'a'.repeat(MAX_LINE)}`;
  t.deepEqual(await s.execute(long), { ok: false, code: 'EBADARG', message: `line is ${long.length} characters long; the limit is 4096` });
  t.deepEqual(sw.calls, []);
  t.like(await s.execute(`#${'x'.repeat(MAX_LINE - 1)}`), { ok: true });
});

test('a json prefix or the json option replies with the JSON form as the one line', async (t) => {
  const { s } = session();
  await s.execute('vlan 10');
  const viaPrefix = await s.execute('json show taps');
  const viaOption = await s.execute('show taps', { json: true });
  t.deepEqual(viaPrefix, { ok: true, lines: ['{"vid":10,"taps":[]}'], json: { vid: 10, taps: [] } });
  t.deepEqual(viaOption, viaPrefix);
  t.deepEqual(await s.execute('json'), { ok: false, code: 'EBADCMD', message: '"json" needs a command after it, e.g. "json show macs"' });
});

test('text replies carry the JSON form alongside the lines', async (t) => {
  const { s } = session();
  t.like(await s.execute('show vlans'), { ok: true, lines: ['VID  STATE  PORTS  MACS  WORKER  FORWARDED  FLOODED  DROPPED', '(no VLANs)'], json: { vlans: [] } });
});

test('an unknown command is one error line that points at help', async (t) => {
  const { s } = session();
  t.deepEqual(await s.execute('shw macs'), { ok: false, code: 'EBADCMD', message: 'unknown command "shw macs"; try "help"' });
  t.deepEqual(await s.execute('show mac'), { ok: false, code: 'EBADCMD', message: 'unknown command "show mac"; try "help show"' });
  t.deepEqual(await s.execute('no'), { ok: false, code: 'EBADCMD', message: 'incomplete command "no"; try "help no"' });
});

test('a VLAN-level command at switch level says how to enter VLAN mode', async (t) => {
  const { sw, s } = session();
  for (const [line, name] of [
    ['show macs', 'show macs'],
    ['tap tap0', 'tap'],
    ['no tap tap0', 'no tap'],
    ['listen 127.0.0.1 4000', 'listen'],
    ['listen unix /x', 'listen unix'],
    ['no listen unix /x', 'no listen unix'],
  ]) {
    t.deepEqual(await s.execute(line), { ok: false, code: 'EBADCMD', message: `"${name}" needs VLAN mode; enter it with "vlan ID"` }, line);
  }
  t.deepEqual(sw.calls, []);
});

test('bad VLAN ids are refused without touching the switch', async (t) => {
  const { sw, s } = session();
  for (const vid of ['0', '4095', 'abc']) {
    t.deepEqual(await s.execute(`vlan ${vid}`), { ok: false, code: 'EBADARG', message: `VLAN ID must be a number 1..4094, got "${vid}"` });
    t.like(await s.execute(`vlan ${vid} show macs`), { ok: false, code: 'EBADARG' });
    t.like(await s.execute(`debug crash-worker ${vid}`), { ok: false, code: 'EBADARG' });
  }
  t.is(s.mode, null);
  t.deepEqual(sw.calls, []);
});

test('bad ports, device names and missing or extra arguments are one EBADARG line', async (t) => {
  const { sw, s } = session();
  await s.execute('vlan 10');
  const cases: [string, string][] = [
    ['listen 127.0.0.1 0', 'PORT must be a number 1..65535, got "0"'],
    ['listen 127.0.0.1 65536', 'PORT must be a number 1..65535, got "65536"'],
    ['no listen ::1 http', 'PORT must be a number 1..65535, got "http"'],
    ['tap this-name-is-too-long', 'DEVNAME must be 1..15 characters of A-Z a-z 0-9 _ . -, got "this-name-is-too-long"'],
    ['no tap tap/0', 'DEVNAME must be 1..15 characters of A-Z a-z 0-9 _ . -, got "tap/0"'],
    ['tap', '"tap" needs DEVNAME; usage: tap DEVNAME'],
    ['listen 127.0.0.1', '"listen" needs PORT; usage: listen HOSTNAME PORT [max-connections N]'],
    ['listen unix', '"listen unix" needs PATH; usage: listen unix PATH [max-connections N]'],
    ['listen unix ""', 'PATH must be a non-empty path, got ""'],
    ['vlan', '"vlan" needs ID; usage: vlan ID [COMMAND...]'],
    ['debug crash-worker', '"debug crash-worker" needs ID; usage: debug crash-worker ID'],
    ['tap tap0 tap1', 'unexpected argument "tap1" to "tap"; usage: tap DEVNAME'],
    ['show macs now', 'unexpected argument "now" to "show macs"; usage: show macs'],
    ['exit now', 'unexpected argument "now" to "exit"; usage: exit'],
  ];
  for (const [line, message] of cases) {
    t.deepEqual(await s.execute(line), { ok: false, code: 'EBADARG', message }, line);
  }
  t.deepEqual(sw.changes, [{ method: 'ensureVlan', args: [10] }]);
  t.deepEqual(s.mode, { vid: 10 });
});

test('a DivesError from the switch comes back with its code and message', async (t) => {
  const { sw, s } = session();
  await s.execute('vlan 10');
  sw.failNext('attachTap', new DivesError('ETAPPERM', 'tap tap7: permission denied; run as root or create it with `ip tuntap add`'));
  t.deepEqual(await s.execute('tap tap7'), {
    ok: false,
    code: 'ETAPPERM',
    message: 'tap tap7: permission denied; run as root or create it with `ip tuntap add`',
  });
  t.deepEqual(await s.execute('no tap tap9'), { ok: false, code: 'ENOTATTACHED', message: 'tap tap9: is not attached; "show taps" lists the attached ones' });
  sw.failNext('showMacs', new DivesError('ETIMEOUT', 'VLAN 10 worker did not answer in 1000 ms'));
  t.deepEqual(await s.execute('json show macs'), { ok: false, code: 'ETIMEOUT', message: 'VLAN 10 worker did not answer in 1000 ms' });
  sw.failNext('ensureVlan', new DivesError('EWORKER', 'cannot start a worker for VLAN 11'));
  t.deepEqual(await s.execute('vlan 11'), { ok: false, code: 'EWORKER', message: 'cannot start a worker for VLAN 11' });
  t.deepEqual(s.mode, { vid: 10 }, 'a failed vlan command leaves the mode alone');
});

test('a non-Dives error is EINTERNAL, is logged with its stack, and the session carries on', async (t) => {
  const logged: string[] = [];
  const { sw, s } = session((m) => logged.push(m));
  sw.failNext('showVlans', new TypeError('cannot read properties of undefined'));
  t.deepEqual(await s.execute('show vlans'), { ok: false, code: 'EINTERNAL', message: 'internal error: cannot read properties of undefined' });
  t.is(logged.length, 1);
  t.regex(logged[0], /^internal error running "show vlans": TypeError: cannot read properties of undefined\n\s+at /);
  sw.failNext('crashWorker', 'a bare string');
  t.deepEqual(await s.execute('debug crash-worker 1'), { ok: false, code: 'EINTERNAL', message: 'internal error: a bare string' });
  t.like(await s.execute('show vlans'), { ok: true });
});

test('completion offers command words for the level, after json and after a one-shot vlan prefix', (t) => {
  const { s } = session();
  t.deepEqual(s.complete(''), [['capture', 'end', 'exit', 'help', 'json', 'key', 'listen', 'mirror', 'monitor', 'no', 'peer', 'quit', 'show', 'tap', 'vlan', 'write'], '']);
  t.deepEqual(s.complete('sh'), [['show'], 'sh']);
  t.deepEqual(s.complete('show '), [['captures', 'keys', 'listeners', 'mirrors', 'peers', 'ports', 'rings', 'running-config', 'taps', 'threads', 'trace', 'trunks', 'vlans', 'vxlan'], '']);
  t.deepEqual(s.complete('json show v'), [['vlans', 'vxlan'], 'v']);
  t.deepEqual(s.complete('vlan 10 show m'), [['macs'], 'm']);
  t.deepEqual(s.complete('vlan 10 no l'), [['listen'], 'l']);
  t.deepEqual(s.complete('vlan 99999 sh'), [[], 'sh']);
  t.deepEqual(s.complete('debug '), [['crash-on-frame', 'crash-peers', 'crash-qemu', 'crash-tap', 'crash-vxlan', 'crash-worker', 'trace'], '']);
  t.deepEqual(s.complete('help de'), [['debug'], 'de']);
  t.deepEqual(s.complete('help no '), [['listen', 'mac-limit', 'mirror', 'peer', 'storm-control', 'tap', 'vxlan'], '']);
  s.mode = { vid: 10 };
  t.deepEqual(s.complete('t'), [['tap'], 't']);
  t.deepEqual(s.complete('show m'), [['macs'], 'm']);
});
