// Tests for src/switch/drop-watch.ts: while a monitor is attached, a port's drop counter
// that starts climbing is reported once, and again only after it stood still; first sight
// is a baseline; without a monitor no port is read. Pure units: the ports are made up.

import test from 'ava';
import { PORT_DROPS } from '../../src/core/counters.js';
import { createLogger } from '../../src/core/log.js';
import type { PortInfo } from '../../src/control/switch-api.js';
import { DropWatch } from '../../src/switch/drop-watch.js';
import { EventBus } from '../../src/core/event-bus.js';
import type { StampedEvent } from '../../src/core/event-kinds.js';

function port(drops: Partial<PortInfo['drops']>, id = 2): PortInfo {
  return { id, name: `qemu:x#${id}`, kind: 'qemu', vid: 10, rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, drops: { ...PORT_DROPS.zero(), ...drops } };
}

function fixture(): { watch: DropWatch; bus: EventBus; seen: StampedEvent[]; set(p: PortInfo[]): void; reads: () => number } {
  const bus = new EventBus(createLogger('silent'));
  let ports: PortInfo[] = [];
  let reads = 0;
  const watch = new DropWatch(bus, async () => {
    reads++;
    return ports;
  }, 3_600_000);
  const seen: StampedEvent[] = [];
  return { watch, bus, seen, set: (p) => (ports = p), reads: () => reads };
}

test('a counter that starts climbing is reported once, and again after it stood still', async (t) => {
  const f = fixture();
  t.teardown(() => f.watch.close());
  f.bus.subscribe((e) => f.seen.push(e));
  f.set([port({ 'ring-full': 5 })]);
  await f.watch.check();
  t.deepEqual(f.seen, [], 'first sight is the baseline');
  f.set([port({ 'ring-full': 9 })]);
  await f.watch.check();
  f.set([port({ 'ring-full': 20 })]);
  await f.watch.check();
  f.set([port({ 'ring-full': 20 })]);
  await f.watch.check();
  f.set([port({ 'ring-full': 21, 'mac-limit': 1 })]);
  await f.watch.check();
  t.deepEqual(
    f.seen.map(({ time: _t, ...e }) => e),
    [
      { kind: 'drops-rising', vid: 10, portId: 2, port: 'qemu:x#2', reason: 'ring-full', delta: 4, total: 9 },
      { kind: 'drops-rising', vid: 10, portId: 2, port: 'qemu:x#2', reason: 'ring-full', delta: 1, total: 21 },
      { kind: 'drops-rising', vid: 10, portId: 2, port: 'qemu:x#2', reason: 'mac-limit', delta: 1, total: 1 },
    ],
  );
});

test('without a monitor no port is read, and a monitor that comes later starts from a baseline', async (t) => {
  const f = fixture();
  t.teardown(() => f.watch.close());
  f.set([port({ runt: 1 })]);
  await f.watch.check();
  t.is(f.reads(), 0);
  f.bus.subscribe((e) => f.seen.push(e));
  f.set([port({ runt: 100 })]);
  await f.watch.check();
  t.is(f.reads(), 1);
  t.deepEqual(f.seen, []);
});

test('a port id given to a new port starts afresh', async (t) => {
  const f = fixture();
  t.teardown(() => f.watch.close());
  f.bus.subscribe((e) => f.seen.push(e));
  f.set([port({ runt: 50 })]);
  await f.watch.check();
  f.set([{ ...port({ runt: 60 }), name: 'qemu:x#9' }]);
  await f.watch.check();
  t.deepEqual(f.seen, []);
});
