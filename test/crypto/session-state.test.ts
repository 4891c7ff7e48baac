// Tests for src/crypto/session-state.ts: what a keyed switch knows of one peer's sealed
// datagrams, kept in a SharedArrayBuffer — zeroed memory is an unknown session with an
// empty window; adopt() takes a session and starts a new window; the fields sit where the
// layout says; and two views over one buffer are one state, so a peer thread that restarts
// goes on with the window of the one before. Pure units on ava's thread.

import test from 'ava';
import { REPLAY_WINDOW, REPLAY_WORDS } from '../../src/crypto/replay-window.js';
import { SESSION_STATE_BYTES, SessionState } from '../../src/crypto/session-state.js';

const TWO_32 = 0x1_0000_0000;
const T0 = 1_700_000_000_000;
/** A session with the high bit set in both words: compared as unsigned. */
const HI = 0xfedc_ba98;
const LO = 0x8765_4321;

function sab(): SharedArrayBuffer {
  return new SharedArrayBuffer(SESSION_STATE_BYTES);
}

/** accept() of a counter written as one number. */
function accept(s: SessionState, c: number): boolean {
  const hi = Math.floor(c / TWO_32);
  return s.window.accept(hi, c - hi * TWO_32);
}

/** The fields, as one object. */
function fields(s: SessionState): { known: boolean; hi: number; lo: number; lastTs: number } {
  return { known: s.known, hi: s.hi, lo: s.lo, lastTs: s.lastTs };
}

// --- zeroed memory ----------------------------------------------------------------------

test('a zeroed SharedArrayBuffer is an unknown session with no timestamp and an empty window', (t) => {
  t.is(SESSION_STATE_BYTES, 288);
  const s = new SessionState(sab());
  t.deepEqual(fields(s), { known: false, hi: 0, lo: 0, lastTs: 0 });
  t.false(s.is(0, 0), 'the zero session is not taken while none is known');
  t.true(accept(s, 0), 'the window is empty: counter 0 passes');
  t.false(accept(s, 0));
  t.true(accept(s, 1));
});

test('with no buffer given it keeps private memory, zeroed too', (t) => {
  const s = new SessionState();
  t.deepEqual(fields(s), { known: false, hi: 0, lo: 0, lastTs: 0 });
  t.true(accept(s, 5));
  const again = new SessionState();
  t.true(accept(again, 5), 'another private one shares nothing');
});

test('a plain ArrayBuffer serves as well', (t) => {
  const buf = new ArrayBuffer(SESSION_STATE_BYTES);
  const s = new SessionState(buf);
  s.adopt(HI, LO, T0);
  t.true(new SessionState(buf).is(HI, LO));
});

// --- adopt --------------------------------------------------------------------------------

test('adopt() takes the session and its timestamp: known, hi, lo, lastTs and is()', (t) => {
  const s = new SessionState(sab());
  s.adopt(HI, LO, T0);
  t.deepEqual(fields(s), { known: true, hi: HI, lo: LO, lastTs: T0 });
  t.true(s.is(HI, LO));
  t.false(s.is(HI, LO ^ 1), 'another low word');
  t.false(s.is(HI ^ 0x8000_0000, LO), 'another high word');
  t.false(s.is(LO, HI), 'the words swapped');
});

test('adopt() of a session with zero words is known, and told apart from no session', (t) => {
  const s = new SessionState(sab());
  t.false(s.is(0, 0));
  s.adopt(0, 0, T0);
  t.true(s.known);
  t.true(s.is(0, 0));
});

test('adopt() starts a new, empty window, also of the session already held', (t) => {
  const s = new SessionState(sab());
  s.adopt(HI, LO, T0);
  for (let c = 0; c < 50; c++) accept(s, c);
  accept(s, 1_000_000);
  t.false(accept(s, 7), 'a replay before');
  s.adopt(0x1111_1111, 0x2222_2222, T0 + 1000);
  t.deepEqual(fields(s), { known: true, hi: 0x1111_1111, lo: 0x2222_2222, lastTs: T0 + 1000 });
  t.true(accept(s, 7), 'counter 7 of the new session');
  t.true(accept(s, 0), 'and counter 0: the jump to 1,000,000 is forgotten');
  s.adopt(0x1111_1111, 0x2222_2222, T0 + 2000);
  t.true(accept(s, 7), 'adopting the same session again also starts anew');
});

test('adopt() sets lastTs to the given timestamp even when it is older; lastTs can be moved on by hand', (t) => {
  // Whether a session is newer is the caller's rule (src/peer/peer-seal.ts); adopt() only records it.
  const s = new SessionState(sab());
  s.adopt(HI, LO, T0);
  s.lastTs = T0 + 5000;
  t.is(s.lastTs, T0 + 5000);
  s.adopt(HI, LO + 1, T0 - 1);
  t.is(s.lastTs, T0 - 1);
});

test('lastTs holds any millisecond timestamp exactly, past 2^32', (t) => {
  const s = new SessionState(sab());
  for (const ts of [1, TWO_32 + 1, T0, 2 ** 53 - 1]) {
    s.lastTs = ts;
    t.is(s.lastTs, ts);
  }
  t.false(s.known, 'lastTs alone does not make a session known');
});

// --- layout -----------------------------------------------------------------------------

test('the fields sit where the layout says: bitmap, known, hi, lo, newest + 1, lastTs', (t) => {
  const buf = sab();
  const s = new SessionState(buf);
  s.adopt(HI, LO, T0);
  t.true(accept(s, 33));
  const u32 = new Uint32Array(buf);
  const f64 = new Float64Array(buf);
  t.deepEqual([u32[REPLAY_WORDS], u32[REPLAY_WORDS + 1], u32[REPLAY_WORDS + 2], u32[REPLAY_WORDS + 3]], [1, HI, LO, 0]);
  t.is(u32[1], 2, 'counter 33 is bit 1 of word 1');
  t.is(u32.subarray(0, REPLAY_WORDS).reduce((n, w) => n + (w === 0 ? 0 : 1), 0), 1, 'no other word of the bitmap is set');
  t.is(f64[272 / 8], 34, 'the newest counter plus one');
  t.is(f64[280 / 8], T0);
});

test('memory written as the layout says reads back as that state', (t) => {
  // Main keeps the buffer; what a thread wrote is what the next one reads, field by field.
  const buf = sab();
  const u32 = new Uint32Array(buf);
  const f64 = new Float64Array(buf);
  u32[REPLAY_WORDS] = 1;
  u32[REPLAY_WORDS + 1] = HI;
  u32[REPLAY_WORDS + 2] = LO;
  f64[272 / 8] = 101;
  f64[280 / 8] = T0;
  u32[3] = 1 << 4; // counter 100
  const s = new SessionState(buf);
  t.deepEqual(fields(s), { known: true, hi: HI, lo: LO, lastTs: T0 });
  t.false(accept(s, 100), 'counter 100 was seen');
  t.true(accept(s, 99), 'counter 99 was not');
  t.false(accept(s, 100 - REPLAY_WINDOW), 'too old behind newest 100');
});

// --- two views over one buffer -------------------------------------------------------------

test('two SessionStates over one SharedArrayBuffer see the same session and timestamp', (t) => {
  const buf = sab();
  const a = new SessionState(buf);
  const b = new SessionState(buf);
  a.adopt(HI, LO, T0);
  t.deepEqual(fields(b), { known: true, hi: HI, lo: LO, lastTs: T0 });
  t.true(b.is(HI, LO));
  b.lastTs = T0 + 10;
  t.is(a.lastTs, T0 + 10);
});

test('a restarted thread goes on: a counter taken through one view is a replay through the other, and a new one passes', (t) => {
  const buf = sab();
  const before = new SessionState(buf);
  before.adopt(HI, LO, T0);
  for (let c = 0; c < 40; c++) t.true(accept(before, c));
  t.true(accept(before, TWO_32 + 3), 'past the 32-bit boundary');
  const after = new SessionState(buf);
  t.false(accept(after, 39), 'taken before the restart');
  t.false(accept(after, TWO_32 + 3), 'the newest taken before the restart');
  t.false(accept(after, 0), 'far behind the newest now');
  t.true(accept(after, TWO_32 + 4), 'the next one passes');
  t.true(accept(after, TWO_32 + 1), 'one never seen, inside the window');
  t.false(accept(before, TWO_32 + 4), 'and what the new view took, the old one refuses');
});

test('adopt() through one view resets the window the other view sees', (t) => {
  const buf = sab();
  const a = new SessionState(buf);
  const b = new SessionState(buf);
  a.adopt(HI, LO, T0);
  accept(a, 9);
  b.adopt(HI, LO + 1, T0 + 1);
  t.true(a.is(HI, LO + 1));
  t.true(accept(a, 9), 'counter 9 of the new session');
});

test('states over two buffers are apart', (t) => {
  const a = new SessionState(sab());
  const b = new SessionState(sab());
  a.adopt(HI, LO, T0);
  accept(a, 1);
  t.false(b.known);
  t.true(accept(b, 1));
});
