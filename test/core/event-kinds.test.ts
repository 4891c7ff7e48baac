// Tests for src/core/event-kinds.ts: every kind is defined once with when it happens, its
// level and an example; its text form is one line; its JSON form is the time, the kind and
// exactly its fields. Pure units.

import test from 'ava';
import { EVENT_KINDS, EVENT_KIND_NAMES, eventLine, eventText, type DivesEvent, type StampedEvent } from '../../src/core/event-kinds.js';

const TIME = Date.UTC(2026, 11, 1, 12, 0, 0);

function example(kind: (typeof EVENT_KIND_NAMES)[number]): StampedEvent {
  return { kind, ...EVENT_KINDS[kind].example, time: TIME } as StampedEvent;
}

test('every kind says when it happens, at what level it is logged, and has an example', (t) => {
  t.true(EVENT_KIND_NAMES.length >= 16);
  for (const k of EVENT_KIND_NAMES) {
    const d = EVENT_KINDS[k];
    t.regex(k, /^[a-z][a-z-]*$/);
    t.true(d.help.length > 20, k);
    t.true(['debug', 'info', 'warn', 'error', 'none'].includes(d.level), k);
    t.true(Object.keys(d.example).length > 0, k);
  }
});

test('the text form is the time, the kind and one line of text', (t) => {
  for (const k of EVENT_KIND_NAMES) {
    const e = example(k);
    t.is(eventLine(e, false), `2026-12-01T12:00:00.000Z ${k} ${eventText(e)}`);
    t.notRegex(eventText(e), /\n/);
  }
  const odd: DivesEvent = { kind: 'vm-disconnected', vid: 10, portId: 2, port: 'qemu:x#1', reason: 'read error:\nreset\r\nby peer' };
  t.is(eventLine({ ...odd, time: TIME }, false), '2026-12-01T12:00:00.000Z vm-disconnected qemu port 2 (VLAN 10) disconnected: read error: reset by peer');
});

test('the JSON form is {time, kind, ...fields}, exactly the fields of the kind', (t) => {
  for (const k of EVENT_KIND_NAMES) {
    const parsed = JSON.parse(eventLine(example(k), true)) as Record<string, unknown>;
    t.deepEqual(parsed, { time: '2026-12-01T12:00:00.000Z', kind: k, ...EVENT_KINDS[k].example }, k);
    t.deepEqual(Object.keys(parsed).slice(0, 2), ['time', 'kind']);
  }
});

test('a peer that expired and one whose static configuration was removed say why', (t) => {
  const expired = eventText({ kind: 'peer-down', peer: '10.0.0.2:3333', learned: 'discovered', reason: 'expired', silentSeconds: 3.04 });
  t.is(expired, 'peer 10.0.0.2:3333 expired: not heard for 3.0 s; its port and MACs are gone from every VLAN (forgotten until it announces itself again)');
  t.is(eventText({ kind: 'peer-down', peer: '10.0.0.2:3333', learned: 'static', reason: 'removed', silentSeconds: null }), 'peer 10.0.0.2:3333: static peer removed; its port and MACs are gone from every VLAN');
});
