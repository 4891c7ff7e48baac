// Tests for src/control/event-stream.ts: a monitor gets the kinds it asked for, as text or
// JSON lines; while its sink is not ready it is dropped events, counted, and told how many
// before the next one; closing it lets go of the bus. Pure units.

import test from 'ava';
import { createLogger } from '../../src/core/log.js';
import { EventBus } from '../../src/core/event-bus.js';
import { EventStream } from '../../src/control/event-stream.js';

function sink(): { ready: boolean; lines: string[]; write(l: string): void } {
  return {
    ready: true,
    lines: [],
    write(l: string) {
      this.lines.push(l);
    },
  };
}

const bus = (): EventBus => new EventBus(createLogger('silent'), () => Date.UTC(2026, 0, 1));

test('only the kinds asked for, in text or JSON', (t) => {
  const b = bus();
  const text = sink();
  const json = sink();
  new EventStream(b, text, { json: false, kinds: new Set(['vlan-down'] as const) });
  new EventStream(b, json, { json: true, kinds: null });
  b.emit({ kind: 'capture-started', target: 'VLAN 1', to: 'f' });
  b.emit({ kind: 'vlan-down', vid: 3, reason: 'r' });
  t.deepEqual(text.lines, ['2026-01-01T00:00:00.000Z vlan-down VLAN 3 is down: r; its frames are dropped, the other VLANs carry on']);
  t.deepEqual(
    json.lines.map((l) => JSON.parse(l) as { kind: string }).map((e) => e.kind),
    ['capture-started', 'vlan-down'],
  );
});

test('a client that does not read is dropped events, counted, and told how many once it reads again', (t) => {
  const b = bus();
  const s = sink();
  const stream = new EventStream(b, s, { json: true, kinds: null });
  b.emit({ kind: 'vlan-down', vid: 1, reason: 'a' });
  s.ready = false;
  for (let i = 0; i < 1000; i++) b.emit({ kind: 'vlan-down', vid: 2, reason: 'b' });
  t.is(s.lines.length, 1, 'nothing is held for it');
  t.is(stream.droppedTotal, 1000);
  s.ready = true;
  stream.resume();
  b.emit({ kind: 'vlan-down', vid: 3, reason: 'c' });
  t.deepEqual(s.lines.slice(1).map((l) => JSON.parse(l) as Record<string, unknown>), [
    { time: '2026-01-01T00:00:00.000Z', kind: 'events-dropped', count: 1000 },
    { time: '2026-01-01T00:00:00.000Z', kind: 'vlan-down', vid: 3, reason: 'c' },
  ]);
});

test('the notice also comes before the next event when the sink is ready again without a resume', (t) => {
  const b = bus();
  const s = sink();
  new EventStream(b, s, { json: false, kinds: null });
  s.ready = false;
  b.emit({ kind: 'vlan-down', vid: 2, reason: 'b' });
  s.ready = true;
  b.emit({ kind: 'vlan-down', vid: 3, reason: 'c' });
  t.regex(s.lines[0], /events-dropped 1 events were not sent to this monitor/);
  t.regex(s.lines[1], /VLAN 3 is down/);
});

test('a closed stream sends nothing and leaves the bus', (t) => {
  const b = bus();
  const s = sink();
  const stream = new EventStream(b, s, { json: false, kinds: null });
  t.is(b.subscribers, 1);
  stream.close();
  stream.close();
  t.is(b.subscribers, 0);
  b.emit({ kind: 'vlan-down', vid: 2, reason: 'b' });
  t.deepEqual(s.lines, []);
});
