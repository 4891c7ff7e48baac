// Tests for src/forwarding/mac-moves.ts: moves are reported as they happen; a MAC that
// moves more than MAC_FLAP_MOVES times within a second is reported once as a flap and
// damped until it settles for a second; what one report holds is bounded; and a VLAN
// engine records its fdb's moves and counts each flap once (mac-flaps). Pure units on
// one thread.

import test from 'ava';
import { VLAN_COUNTERS } from '../../src/core/counters.js';
import { Ring } from '../../src/core/ring.js';
import { MAC_FLAP_MOVES, MAX_REPORTED_MOVES } from '../../src/core/mac-move-limits.js';
import { MOVE_FIELDS, MacMoveLog } from '../../src/forwarding/mac-moves.js';
import { VlanEngine } from '../../src/forwarding/vlan-engine.js';
import { BCAST, frame as ethernetFrame } from '../helpers/frames.js';

const MAC = 0x02_00_00_00_00_09;

/** The report as [vid, mac, from, to, flap] tuples. */
function take(log: MacMoveLog): { moves: number[][]; unreported: number } {
  const r = log.take();
  if (r === null) return { moves: [], unreported: 0 };
  const moves: number[][] = [];
  for (let i = 0; i < r.moves.length; i += MOVE_FIELDS) moves.push([...r.moves.subarray(i, i + MOVE_FIELDS)]);
  return { moves, unreported: r.unreported };
}

test('each move is reported with its VLAN, MAC and ports, once', (t) => {
  const log = new MacMoveLog();
  t.false(log.owed);
  t.false(log.record(10, MAC, 1, 2));
  t.true(log.owed);
  t.deepEqual(take(log), { moves: [[10, MAC, 1, 2, 0]], unreported: 0 });
  t.false(log.owed);
  t.is(log.take(), null);
});

test('a flapping MAC is reported once, damped until a second without more than MAC_FLAP_MOVES moves, then reported again', (t) => {
  const log = new MacMoveLog();
  const flaps: boolean[] = [];
  for (let i = 0; i < 1000; i++) flaps.push(log.record(10, MAC, 1 + (i % 2), 2 - (i % 2)));
  t.is(flaps.filter(Boolean).length, 1, 'counted once');
  const first = take(log).moves;
  t.is(first.length, MAC_FLAP_MOVES + 1);
  t.deepEqual(first.map((m) => m[4]), [...Array<number>(MAC_FLAP_MOVES).fill(0), 1]);
  // The same MAC in another VLAN is another MAC.
  t.false(log.record(20, MAC, 1, 2));
  t.is(take(log).moves.length, 1);
  log.roll();
  for (let i = 0; i < 1000; i++) t.false(log.record(10, MAC, 1, 2), 'still flapping: not counted again');
  t.deepEqual(take(log).moves, [], 'still flapping: not reported');
  log.roll();
  log.record(10, MAC, 2, 1);
  t.deepEqual(take(log).moves, [], 'a quiet second has not passed yet');
  log.roll();
  t.false(log.record(10, MAC, 1, 2));
  t.deepEqual(take(log).moves, [[10, MAC, 1, 2, 0]], 'settled: reported again');
});

test('a report holds MAX_REPORTED_MOVES moves at most; the rest are counted', (t) => {
  const log = new MacMoveLog();
  for (let i = 0; i < MAX_REPORTED_MOVES + 500; i++) log.record(10, MAC + i, 1, 2);
  const r = take(log);
  t.is(r.moves.length, MAX_REPORTED_MOVES);
  t.is(r.unreported, 500);
  t.false(log.owed);
});

test('past the MACs it can track, moves are still reported, undamped', (t) => {
  const log = new MacMoveLog();
  for (let i = 0; i < 600; i++) {
    log.record(10, MAC + i, 1, 2);
    log.take();
  }
  t.false(log.record(10, MAC + 10_000, 1, 2));
  t.deepEqual(take(log).moves, [[10, MAC + 10_000, 1, 2, 0]]);
});

test('the mac-flaps counter says how many moves make a flap', (t) => {
  t.true(VLAN_COUNTERS.defs['mac-flaps'].help.includes(`more than ${MAC_FLAP_MOVES} times within a second`));
});

function frame(src: number): Buffer {
  return ethernetFrame({ dst: BCAST, src, padTo: 64 });
}

test('a VLAN engine records its fdb\'s moves and counts a flapping MAC once', (t) => {
  const moves = new MacMoveLog();
  const engine = new VlanEngine(10, { moves, clock: { nowMs: 1000 } });
  for (let id = 1; id <= 2; id++) engine.addPort(id, false, Ring.create(1 << 20));
  const f = frame(MAC);
  for (let i = 0; i < 1000; i++) {
    engine.nowMs = 1000 + i;
    engine.forward(f, 0, f.length, 1 + (i % 2));
  }
  const counts = VLAN_COUNTERS.toRecord(engine.counts());
  t.is(counts.moved, 999);
  t.is(counts['mac-flaps'], 1);
  const r = take(moves);
  t.deepEqual(r.moves[0], [10, MAC, 1, 2, 0]);
  t.is(r.moves.length, MAC_FLAP_MOVES + 1);
});

test('an engine without a move log forwards as before and counts no flap', (t) => {
  const engine = new VlanEngine(10);
  for (let id = 1; id <= 2; id++) engine.addPort(id, false, Ring.create(1 << 20));
  const f = frame(MAC);
  for (let i = 0; i < 10; i++) {
    engine.nowMs = i;
    engine.forward(f, 0, f.length, 1 + (i % 2));
  }
  t.is(VLAN_COUNTERS.toRecord(engine.counts())['mac-flaps'], 0);
});
