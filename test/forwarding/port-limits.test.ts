// Unit tests of a VLAN's port limits on one thread: the storm meter's token buckets,
// the fdb's per-port MAC counts, and the engine dropping (and counting on the ingress
// port only) floods past storm-control and new MACs past mac-limit.

import test from 'ava';
import { PORT_DROPS } from '../../src/core/counters.js';
import { Ring } from '../../src/core/ring.js';
import { Fdb } from '../../src/forwarding/fdb.js';
import { StormMeter, STORM_BROADCAST, STORM_UNKNOWN, limitLines, noLimits } from '../../src/forwarding/port-limits.js';
import { VlanEngine } from '../../src/forwarding/vlan-engine.js';
import { ETHERTYPE_IPV4, frame as ethernetFrame } from '../helpers/frames.js';

function frame(dst: number, src: number): Buffer {
  return ethernetFrame({ dst, src, ethertype: ETHERTYPE_IPV4, padTo: 64 });
}
const BCAST = 0xffffffffffff;
const MCAST = 0x01005e000001;

function engine(n: number) {
  const e = new VlanEngine(10);
  const rings: Ring[] = [];
  for (let id = 1; id <= n; id++) {
    const r = Ring.create(1 << 20);
    rings.push(r);
    e.addPort(id, false, r);
  }
  const drops = (id: number) => PORT_DROPS.toRecord(e.port(id)?.stats.drops ?? []);
  return { e, rings, drops };
}

test('a storm meter lets a second of frames through at once, then the rate, each class on its own', (t) => {
  const m = new StormMeter(0);
  let ok = 0;
  for (let i = 0; i < 250; i++) if (m.take(STORM_BROADCAST, 100, 0)) ok++;
  t.is(ok, 100, 'the first second\'s worth as a burst');
  t.false(m.take(STORM_BROADCAST, 100, 5), '5 ms later half a frame has come: not yet');
  t.true(m.take(STORM_BROADCAST, 100, 10), '10 ms later one');
  t.true(m.take(STORM_UNKNOWN, 100, 10), 'another class has its own bucket');
  ok = 0;
  for (let ms = 1000; ms < 3000; ms++) if (m.take(STORM_BROADCAST, 100, ms)) ok++;
  t.true(ok >= 297 && ok <= 301, `a bucket refilled while idle (99) then 2 s at 100/s, one frame per ms offered: ${ok} passed`);
  t.true(m.take(STORM_BROADCAST, 0, 3000), 'rate 0 is no limit');
});

test('the fdb counts the MACs of each tracked port through learn, move, age, delete and flush', (t) => {
  const f = new Fdb({ ageingTimeMs: 1000 });
  f.trackPort(1);
  f.trackPort(2);
  for (let m = 1; m <= 5; m++) f.learn(m, 1, 0);
  t.is(f.portCount(1), 5);
  f.learn(3, 2, 10); // moved
  t.deepEqual([f.portCount(1), f.portCount(2)], [4, 1]);
  f.learn(1, 1, 500); // refreshed
  t.is(f.age(1200), 4, 'all but the refreshed one aged');
  t.deepEqual([f.portCount(1), f.portCount(2)], [1, 0]);
  f.learn(9, 2, 1200);
  f.learn(1, 2, 2000); // expired on port 1: learned anew on 2
  t.deepEqual([f.portCount(1), f.portCount(2)], [0, 2]);
  t.is(f.deleteByPort(2), 2);
  t.is(f.portCount(2), 0);
  f.learn(7, 1, 3000);
  f.flush();
  t.is(f.portCount(1), 0);
  t.is(f.portCount(99), 0, 'an untracked port has none');
});

test('storm-control drops floods of the ingress port past its rate, counted there; other ports and known unicast are untouched', (t) => {
  const { e, drops } = engine(3);
  e.setLimits({ storm: [10, 5, 2], macLimit: 0 });
  e.nowMs = 1000;
  let b = 0;
  let m = 0;
  let u = 0;
  for (let i = 0; i < 50; i++) {
    b += e.forward(frame(BCAST, 0x020000000001), 0, 64, 1) > 0 ? 1 : 0;
    m += e.forward(frame(MCAST, 0x020000000001), 0, 64, 1) > 0 ? 1 : 0;
    u += e.forward(frame(0x02000000ffff, 0x020000000001), 0, 64, 1) > 0 ? 1 : 0;
  }
  t.deepEqual([b, m, u], [10, 5, 2]);
  t.like(drops(1), { 'storm-broadcast': 40, 'storm-multicast': 45, 'storm-unknown': 48 });
  // Port 2 has buckets of its own.
  t.is(e.forward(frame(BCAST, 0x020000000002), 0, 64, 2), 2);
  // A unicast to a learned MAC is not a flood: never limited.
  for (let i = 0; i < 50; i++) t.is(e.forward(frame(0x020000000002, 0x020000000001), 0, 64, 1), 1);
  t.is(drops(2)['storm-broadcast'], 0);
  // A second later the port may flood again.
  e.nowMs = 2000;
  t.is(e.forward(frame(BCAST, 0x020000000001), 0, 64, 1), 2);
  e.setLimits(noLimits());
  for (let i = 0; i < 50; i++) t.is(e.forward(frame(BCAST, 0x020000000001), 0, 64, 1), 2, 'off again');
});

test('mac-limit drops frames from new source MACs of a port that has its limit learned; known MACs and other ports go on', (t) => {
  const { e, drops } = engine(2);
  e.setLimits({ storm: [0, 0, 0], macLimit: 4 });
  e.nowMs = 1;
  let passed = 0;
  for (let s = 1; s <= 100; s++) passed += e.forward(frame(BCAST, 0x020000000100 + s), 0, 64, 1) > 0 ? 1 : 0;
  t.is(passed, 4);
  t.is(drops(1)['mac-limit'], 96);
  t.is(e.fdb.portCount(1), 4);
  t.is(e.forward(frame(BCAST, 0x020000000101), 0, 64, 1), 1, 'a learned MAC still goes');
  t.is(e.forward(frame(BCAST, 0x020000000200), 0, 64, 2), 1, 'port 2 learns its own');
  t.is(drops(2)['mac-limit'], 0);
  // The limit counts what is learned now: once the port's MACs are gone it may learn again.
  e.deleteByPort(1);
  t.is(e.forward(frame(BCAST, 0x020000000199), 0, 64, 1), 1);
});

test('a peer port is never limited: it carries a whole host\'s VMs, limited by their own switch', (t) => {
  const e = new VlanEngine(10);
  e.addPort(1, false, Ring.create(1 << 20));
  e.addPort(2, true, Ring.create(1 << 20));
  e.setLimits({ storm: [1, 1, 1], macLimit: 1 });
  e.nowMs = 1;
  let passed = 0;
  for (let s = 1; s <= 20; s++) passed += e.forward(frame(BCAST, 0x020000000300 + s), 0, 64, 2);
  t.is(passed, 20);
  t.is(e.fdb.portCount(2), 20);
});

test('the limits print as the commands that set them', (t) => {
  t.deepEqual(limitLines({ storm: [1000, 0, 50], macLimit: 8 }), ['storm-control broadcast 1000', 'storm-control unknown 50', 'mac-limit 8']);
  t.deepEqual(limitLines(noLimits()), []);
});
