// Tests for src/core/event-bus.ts: an event is stamped, logged at its kind's level (an
// outsider's through the LogLimiter) and handed to every subscriber in order; one bus per
// Logger; a failing subscriber harms no one. Pure units.

import test from 'ava';
import type { Logger } from '../../src/core/log.js';
import { EventBus } from '../../src/core/event-bus.js';
import type { StampedEvent } from '../../src/core/event-kinds.js';

function recorder(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (m: string) => void lines.push(`${level} ${m}`);
  return { log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

test('an event is logged at its level and reaches every subscriber, stamped, in order', (t) => {
  const { log, lines } = recorder();
  const bus = new EventBus(log, () => 1234);
  const seen: StampedEvent[] = [];
  const stop = bus.subscribe((e) => seen.push(e));
  bus.emit({ kind: 'vlan-down', vid: 10, reason: 'boom' });
  bus.emit({ kind: 'capture-started', target: 'VLAN 10', to: '/tmp/x.pcap' });
  t.deepEqual(lines, ['error VLAN 10 is down: boom; its frames are dropped, the other VLANs carry on', 'info capture of VLAN 10 to /tmp/x.pcap started']);
  t.deepEqual(seen, [
    { kind: 'vlan-down', vid: 10, reason: 'boom', time: 1234 },
    { kind: 'capture-started', target: 'VLAN 10', to: '/tmp/x.pcap', time: 1234 },
  ]);
  t.is(bus.subscribers, 1);
  stop();
  t.is(bus.subscribers, 0);
  bus.emit({ kind: 'vlan-down', vid: 11, reason: 'boom' });
  t.is(seen.length, 2);
  t.is(bus.counts['vlan-down'], 2);
  t.is(bus.counts['peer-up'], 0);
});

test('what an outsider can cause is rate-limited in the log, never for subscribers', (t) => {
  const { log, lines } = recorder();
  const bus = new EventBus(log);
  let seen = 0;
  bus.subscribe(() => seen++);
  for (let i = 0; i < 100; i++) bus.emit({ kind: 'vm-connected', vid: 10, portId: i + 1, port: `qemu:x#${i}`, remote: '127.0.0.1:1', listener: 'x' });
  t.is(seen, 100);
  t.is(lines.length, 5, lines.join('\n'));
  t.regex(lines[4], /further similar lines are suppressed/);
});

test('a flood of discovered peers going down cannot hide a static peer going down in the log', (t) => {
  const { log, lines } = recorder();
  const bus = new EventBus(log, () => 1);
  for (let i = 0; i < 100; i++) bus.emit({ kind: 'peer-down', peer: `10.9.0.${i}:3333`, learned: 'discovered', reason: 'expired', silentSeconds: 3 });
  bus.emit({ kind: 'peer-down', peer: '10.0.0.2:3333', learned: 'static', reason: 'expired', silentSeconds: 3 });
  t.true(lines.filter((l) => l.includes('10.9.0.')).length <= 5, 'the discovered ones are limited');
  t.true(lines.some((l) => l.includes('peer 10.0.0.2:3333 expired')), lines.slice(-3).join('\n'));
});

test('a subscriber that throws is logged, and the others still get the event', (t) => {
  const { log, lines } = recorder();
  const bus = new EventBus(log);
  bus.subscribe(() => {
    throw new Error('bug');
  });
  let got = 0;
  bus.subscribe(() => got++);
  t.notThrows(() => bus.emit({ kind: 'vlan-down', vid: 10, reason: 'x' }));
  t.is(got, 1);
  t.true(lines.some((l) => l.startsWith('error events: a subscriber failed on vlan-down: Error: bug')), lines.join('\n'));
});

test('EventBus.of gives everything that logs through one Logger the same bus', (t) => {
  const a = recorder().log;
  t.is(EventBus.of(a), EventBus.of(a));
  t.not(EventBus.of(a), EventBus.of(recorder().log));
});
