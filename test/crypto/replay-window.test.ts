// Tests for src/crypto/replay-window.ts: which counters of one peer's session pass once
// and which are refused as replays — in order, reordered, duplicated, too old, after a
// long jump, across the 32-bit halves and at the 2^53 limit — a seeded run against a
// plain Set that states the same rule, and a window kept in memory given to it (zeroed
// memory is an empty window; two windows over the same memory are one). Pure units on
// ava's thread.

import test from 'ava';
import { REPLAY_WINDOW, REPLAY_WORDS, ReplayWindow } from '../../src/crypto/replay-window.js';
import { mulberry32, randInt } from '../helpers/prng.js';

const TWO_32 = 0x1_0000_0000;
/** The largest counter accepted: one more still fits the stored newest + 1 exactly. */
const MAX_COUNTER = 2 ** 53 - 2;

/** accept() of a counter written as one number, split into the header's two 32-bit halves. */
function accept(w: ReplayWindow, c: number): boolean {
  const hi = Math.floor(c / TWO_32);
  return w.accept(hi, c - hi * TWO_32);
}

/**
 * The rule the window keeps, without the bitmap: a counter passes when it is newer than the
 * newest, or at most REPLAY_WINDOW - 1 behind it and not seen before.
 */
class SetModel {
  private readonly seen = new Set<number>();
  private newest = -1;

  accept(c: number): boolean {
    if (c > MAX_COUNTER) return false;
    if (c <= this.newest && (this.newest - c >= REPLAY_WINDOW || this.seen.has(c))) return false;
    this.seen.add(c);
    this.newest = Math.max(this.newest, c);
    return true;
  }
}

// --- order and duplicates -------------------------------------------------------------

test('counters in order are each accepted', (t) => {
  const w = new ReplayWindow();
  for (let c = 0; c < 5000; c++) t.true(accept(w, c), `counter ${c}`);
});

test('a counter seen before is refused, the newest as well as an older one', (t) => {
  const w = new ReplayWindow();
  for (let c = 0; c < 10; c++) accept(w, c);
  t.false(accept(w, 9), 'the newest again');
  t.false(accept(w, 3), 'an older one again');
  t.true(accept(w, 10), 'the next one still passes');
});

test('counters reordered within the window are accepted once each', (t) => {
  const w = new ReplayWindow();
  t.true(accept(w, 100));
  t.true(accept(w, 40));
  t.true(accept(w, 99));
  t.true(accept(w, 0), 'the first counter, 100 behind');
  t.false(accept(w, 40));
  t.false(accept(w, 0));
  t.true(accept(w, 70));
});

// --- the window's edge ------------------------------------------------------------------

test('a counter REPLAY_WINDOW - 1 behind the newest passes and one REPLAY_WINDOW behind is refused', (t) => {
  t.is(REPLAY_WINDOW, 2016);
  const w = new ReplayWindow();
  const newest = 10_000;
  t.true(accept(w, newest));
  t.true(accept(w, newest - (REPLAY_WINDOW - 1)));
  t.false(accept(w, newest - REPLAY_WINDOW), 'too old, though never seen');
  t.false(accept(w, 0));
});

test('a jump far ahead clears the window: older counters are then too old, new neighbours pass', (t) => {
  const w = new ReplayWindow();
  for (let c = 0; c < 100; c++) accept(w, c);
  const far = 1_000_000;
  t.true(accept(w, far));
  t.false(accept(w, 99), 'before the jump, now far too old');
  t.true(accept(w, far - 1));
  t.true(accept(w, far - (REPLAY_WINDOW - 1)));
  t.true(accept(w, far + 1));
  t.false(accept(w, far));
});

test('a jump by exactly the bitmap size does not mistake the new counter for the old one in the same bit', (t) => {
  // 64 words of 32 bits: counter c and c + 2048 share a bit, which the slide must clear.
  const w = new ReplayWindow();
  t.true(accept(w, 100));
  t.true(accept(w, 100 + 2048));
  t.true(accept(w, 100 + 2047), 'its neighbour, in the word cleared by the slide');
  t.false(accept(w, 100 + 2048));
});

test('a slide shorter than the window keeps the counters still inside it', (t) => {
  const w = new ReplayWindow();
  for (let c = 0; c < 64; c++) accept(w, c);
  t.true(accept(w, 2000), 'newest moves on by 1937, less than the window');
  for (let c = 0; c < 64; c++) t.false(accept(w, c), `counter ${c} is still remembered`);
  t.true(accept(w, 64), 'one never seen, still inside the window');
});

test('after a long jump, counters in the oldest word of the window pass though they share bits with counters seen long before', (t) => {
  // Counters 0..31 fill word 0 of the bitmap; newest 4064 puts 2048..2079 (word 0 again) at the window's far end.
  const w = new ReplayWindow();
  for (let c = 0; c < 32; c++) accept(w, c);
  t.true(accept(w, 4064));
  t.false(accept(w, 2048), 'exactly REPLAY_WINDOW behind');
  t.true(accept(w, 2049));
  t.true(accept(w, 2079));
});

test('for every jump up to twice the bitmap, the window afterwards refuses exactly the counters seen', (t) => {
  let wrong = 0;
  for (let d = 1; d <= 4200; d++) {
    const w = new ReplayWindow();
    for (let c = 0; c < 2048; c++) accept(w, c);
    const newest = 2047 + d;
    accept(w, newest);
    for (let c = newest - (REPLAY_WINDOW - 1); c < newest; c++) {
      if (accept(w, c) !== c > 2047 && wrong++ < 5) t.log(`jump ${d}: counter ${c} ${c > 2047 ? 'refused' : 'accepted'} wrongly`);
    }
  }
  t.is(wrong, 0);
});

// --- the counter's range ----------------------------------------------------------------

test('counters pass across the 32-bit boundary of the low half', (t) => {
  const w = new ReplayWindow();
  t.true(w.accept(0, 0xffff_fffe));
  t.true(w.accept(0, 0xffff_ffff));
  t.true(w.accept(1, 0));
  t.true(w.accept(1, 1));
  t.false(w.accept(0, 0xffff_ffff), 'the last of hi 0 again');
  t.false(w.accept(1, 0), 'the first of hi 1 again');
  t.true(w.accept(0, 0xffff_fff0), 'hi 0 inside the window, not seen');
});

test('counters from 2^53 - 1 on are refused, and 2^53 - 2 is the last one accepted', (t) => {
  const w = new ReplayWindow();
  t.true(w.accept(0x1f_ffff, 0xffff_fffe), '2^53 - 2');
  t.false(w.accept(0x1f_ffff, 0xffff_fffe), '2^53 - 2 again is a replay');
  t.false(w.accept(0x1f_ffff, 0xffff_ffff), '2^53 - 1');
  t.false(w.accept(0x20_0000, 0), '2^53');
  t.false(w.accept(0xffff_ffff, 0xffff_ffff), '2^64 - 1');
  t.true(w.accept(0x1f_ffff, 0xffff_fff0), 'a counter just below, inside the window, still passes');
  t.false(new ReplayWindow().accept(0x1f_ffff, 0xffff_ffff), '2^53 - 1 also as the first counter');
  t.false(new ReplayWindow().accept(0x20_0000, 5), '2^53 + 5 also as the first counter');
});

test('reset() forgets every counter: a new session starts from nothing', (t) => {
  const w = new ReplayWindow();
  for (let c = 0; c < 50; c++) accept(w, c);
  accept(w, 1_000_000);
  w.reset();
  t.true(accept(w, 0));
  t.true(accept(w, 49));
  t.true(accept(w, 7));
  t.false(accept(w, 7));
});

// --- against the model ------------------------------------------------------------------

test('a seeded run of reordering, duplicates and jumps agrees with a Set-based model', (t) => {
  for (const seed of [1, 7, 42, 2024, 0xdead]) {
    const rand = mulberry32(seed);
    // Start just below 2^32 so the run crosses the boundary of the low half.
    let next = TWO_32 - 3000;
    const sent: number[] = [];
    const w = new ReplayWindow();
    const model = new SetModel();
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const r = rand();
      let c: number;
      if (r < 0.6 || sent.length === 0) {
        c = next++;
        sent.push(c);
      } else if (r < 0.85) {
        // A reordered or repeated counter, up to a little past the window behind.
        c = sent[Math.max(0, sent.length - 1 - randInt(rand, 0, REPLAY_WINDOW + 50))];
      } else if (r < 0.99) {
        c = next + randInt(rand, 1, 40);
      } else {
        next += randInt(rand, 0, 3 * REPLAY_WINDOW);
        c = next++;
      }
      const want = model.accept(c);
      if (accept(w, c) !== want) {
        t.fail(`seed ${seed}, step ${i}: counter ${c} should be ${want ? 'accepted' : 'refused'}`);
        return;
      }
      if (want) accepted++;
    }
    t.true(accepted > 10_000, `seed ${seed}: the run exercised accepting (${accepted})`);
  }
});

// --- memory given to it -------------------------------------------------------------------

test('nums[at] holds the newest counter accepted plus one, 0 while empty, and reset() zeroes it', (t) => {
  const bits = new Uint32Array(REPLAY_WORDS);
  const nums = new Float64Array([11, 0, 22]);
  const w = new ReplayWindow(bits, nums, 1);
  t.true(accept(w, 0));
  t.deepEqual(Array.from(nums), [11, 1, 22], 'counter 0 stored as 1, the neighbours untouched');
  t.true(accept(w, TWO_32 + 5));
  t.is(nums[1], TWO_32 + 6);
  t.true(accept(w, TWO_32 + 1), 'an older one does not move it');
  t.is(nums[1], TWO_32 + 6);
  t.true(bits.some((b) => b !== 0), 'the bitmap is the memory given');
  w.reset();
  t.deepEqual(Array.from(nums), [11, 0, 22]);
  t.deepEqual(bits, new Uint32Array(REPLAY_WORDS));
});

test('zeroed memory is an empty window: counter 0 passes once, as in a new one', (t) => {
  const w = new ReplayWindow(new Uint32Array(REPLAY_WORDS), new Float64Array(1), 0);
  t.true(accept(w, 0));
  t.false(accept(w, 0));
  t.true(accept(w, 1));
});

test('two windows over the same memory are one: a counter one took is a replay at the other', (t) => {
  const bits = new Uint32Array(REPLAY_WORDS);
  const nums = new Float64Array(1);
  const first = new ReplayWindow(bits, nums, 0);
  for (let c = 0; c < 100; c++) accept(first, c);
  accept(first, 5000);
  const second = new ReplayWindow(bits, nums, 0);
  t.false(accept(second, 42), 'inside the window, seen');
  t.false(accept(second, 5000), 'the newest');
  t.false(accept(second, 5000 - REPLAY_WINDOW), 'too old for the window the first slid');
  t.true(accept(second, 4999), 'never seen, inside the window');
  t.false(accept(first, 4999), 'and back again');
});
