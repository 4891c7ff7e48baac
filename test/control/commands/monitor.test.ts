// Tests for src/control/commands/monitor.ts against the sample switch: what `monitor`
// answers (text and JSON), which kinds it takes, and that a session whose transport cannot
// carry a stream (the stdio console, an rc file) refuses it. Pure units: no sockets.

import test from 'ava';
import { createCommandRegistry } from '../../../src/control/commands/create-command-registry.js';
import { MONITOR_KINDS } from '../../../src/control/commands/monitor.js';
import { ConsoleSession } from '../../../src/control/console-session.js';
import { sampleSwitch } from '../../../src/docs/sample-data.js';
import { at, fixture } from '../../helpers/command-session.js';

test('monitor says what it watches, and gives the stream of the switch\'s events', async (t) => {
  const { sw, session } = fixture();
  const all = await at(session, null, 'monitor');
  t.like(all, { ok: true, lines: ['monitoring every event; a line sent, or closing the connection, stops it'] });
  const some = await at(session, 10, 'monitor peer-up peer-down peer-up', true);
  t.like(some, { ok: true, lines: ['{"kinds":["peer-up","peer-down"]}'] });
  if (!some.ok || some.stream === undefined) return t.fail('no stream');
  const lines: string[] = [];
  const handle = some.stream.open({ ready: true, write: (l) => lines.push(l) });
  sw.events.emit({ kind: 'vlan-down', vid: 10, reason: 'x' });
  sw.events.emit({ kind: 'peer-down', peer: '10.0.0.2:3333', learned: 'static', reason: 'removed', silentSeconds: null });
  handle.close();
  t.deepEqual(lines.map((l) => (JSON.parse(l) as { kind: string }).kind), ['peer-down'], 'JSON lines, as the request asked');
  t.is(sw.events.subscribers, 0);
});

test('every kind the bus carries may be asked for; anything else is refused with the list', async (t) => {
  const { session } = fixture();
  t.false(MONITOR_KINDS.includes('events-dropped'));
  t.like(await at(session, null, `monitor ${MONITOR_KINDS.join(' ')}`), { ok: true });
  const bad = await at(session, null, 'monitor peer-up peer-sideways');
  t.like(bad, { ok: false, code: 'EBADARG' });
  if (!bad.ok) t.regex(bad.message, /^KIND must be one of port-attached, .*; got "peer-sideways"$/);
});

test('a session that cannot carry a stream (the stdio console, an rc file) refuses monitor and says where it works', async (t) => {
  const session = new ConsoleSession(createCommandRegistry(), sampleSwitch());
  t.deepEqual(await session.execute('monitor --json'), {
    ok: false,
    code: 'EBADARG',
    message: 'KIND must be one of port-attached, port-detached, vm-connected, vm-disconnected, peer-up, peer-down, mac-moved, mac-flap, mac-moves-unreported, thread-restarted, thread-down, vlan-down, capture-started, capture-stopped, drops-rising; got "--json"',
  });
  t.deepEqual(await session.execute('monitor'), {
    ok: false,
    code: 'EBADCMD',
    message: '"monitor" streams what happens until stopped, which only the control socket carries: run "dives ctl monitor" (the log has the same events at info)',
  });
});
