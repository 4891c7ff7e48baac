// Unit tests of the SPSC ring on one thread: records, wrap markers, full-ring
// drops, reserve/commit, and the doorbell handshake. Cross-thread tests are in
// ring-threads.test.ts.

import test from 'ava';
import { Doorbell } from '../../src/core/doorbell.js';
import { Ring } from '../../src/core/ring.js';

function frame(len: number, fill: number): Buffer {
  return Buffer.alloc(len, fill);
}

test('a pushed frame pops back with its bytes and meta', (t) => {
  const ring = Ring.create(1024);
  t.is(ring.push(Buffer.from('hello world, frame'), 6, 5, 0x000a0003), 1);
  const out = Buffer.alloc(64);
  t.is(ring.pop(out), 5);
  t.is(out.subarray(0, 5).toString(), 'world');
  t.is(ring.lastMeta, 0x000a0003);
  t.is(ring.pop(out), 0, 'the ring is empty afterwards');
});

test('capacity rounds up to a power of two and maxFrame is half of it less the record header', (t) => {
  const ring = Ring.create(3000);
  t.is(ring.capacity, 4096);
  t.is(ring.maxFrame, 2048 - 8);
});

test('staged frames are invisible to the consumer until commit', (t) => {
  const ring = Ring.create(1024);
  t.is(ring.write(frame(20, 1), 0, 20, 1), 1);
  t.true(ring.isEmpty());
  ring.commit();
  t.false(ring.isEmpty());
  t.is(ring.pushed, 1);
});

test('a full ring drops and counts, never overwrites, and recovers once drained', (t) => {
  const ring = Ring.create(256);
  let accepted = 0;
  for (let i = 0; i < 100; i++) accepted += ring.push(frame(40, i), 0, 40, i);
  // 48 bytes per record: 5 fit in 256 bytes.
  t.is(accepted, 5);
  t.is(ring.drops, 95);
  const seen: number[] = [];
  t.is(ring.consume(100, (buf, off, len, meta) => { t.is(buf[off + len - 1], meta); seen.push(meta); }), 5);
  t.deepEqual(seen, [0, 1, 2, 3, 4]);
  t.is(ring.push(frame(40, 7), 0, 40, 7), 1);
});

test('a frame larger than the ring can hold is dropped as oversize', (t) => {
  const ring = Ring.create(256);
  t.is(ring.push(frame(200, 0), 0, 200, 0), 0);
  t.is(ring.oversize, 1);
  t.is(ring.drops, 0);
});

test('records wrap around the end of the data region, in order, many times', (t) => {
  const ring = Ring.create(2048);
  const out = Buffer.alloc(512);
  let next = 0;
  for (let i = 0; i < 20000; i++) {
    const len = 1 + ((i * 37) % 300);
    t.is(ring.push(frame(len, i & 0xff), 0, len, i), 1);
    if (i % 3 === 2) {
      while (true) {
        const n = ring.pop(out);
        if (n === 0) break;
        if (ring.lastMeta !== next || out[n - 1] !== (next & 0xff) || n !== 1 + ((next * 37) % 300)) {
          t.fail(`frame ${next} came back wrong`);
          return;
        }
        next++;
      }
    }
  }
  t.is(next, 20000 - (20000 % 3), 'every frame but the last partial batch came back');
  t.is(ring.drops, 0);
});

test('consume hands frames in place and honours its batch limit', (t) => {
  const ring = Ring.create(4096);
  for (let i = 0; i < 10; i++) ring.push(frame(60, i), 0, 60, i);
  let count = 0;
  t.is(ring.consume(4, (buf, off) => { t.is(buf[off], count++); }), 4);
  t.is(ring.consume(100, (buf, off) => { t.is(buf[off], count++); }), 6);
  t.is(ring.consume(100, () => t.fail()), 0);
});

test('a wrap marker published without a record after it reads as empty', (t) => {
  const ring = Ring.create(256);
  const out = Buffer.alloc(256);
  ring.push(frame(100, 1), 0, 100, 1); // 112 bytes at 0
  t.is(ring.pop(out), 100);
  ring.write(frame(100, 2), 0, 100, 2); // 112 bytes at 112: 32 left before the end
  t.true(ring.reserve(100) === 8, 'the reserve wrapped to the start'); // writes a wrap marker, then is abandoned
  ring.commit(); // publishes the frame and the wrap, but no record after it
  t.is(ring.pop(out), 100);
  t.is(out[0], 2);
  t.is(ring.pop(out), 0);
  t.is(ring.consume(10, () => t.fail()), 0);
  t.is(ring.push(frame(50, 3), 0, 50, 3), 1);
  t.is(ring.pop(out), 50);
  t.is(out[0], 3);
});

test('pop into a too-small buffer returns the negated length and keeps the frame', (t) => {
  const ring = Ring.create(1024);
  ring.push(frame(100, 9), 0, 100, 1);
  t.is(ring.pop(Buffer.alloc(10)), -100);
  t.is(ring.pop(Buffer.alloc(100)), 100);
});

test('reserve lets the producer write a frame in place, and an abandoned reserve leaves no record', (t) => {
  const ring = Ring.create(4096);
  const at = ring.reserve(1514);
  t.true(at >= 0);
  ring.data.fill(0x5a, at, at + 70);
  ring.commitReserved(70, 42);
  ring.commit();
  t.is(ring.reserve(100) >= 0, true); // abandoned: never committed
  const out = Buffer.alloc(2000);
  t.is(ring.pop(out), 70);
  t.is(ring.lastMeta, 42);
  t.is(out[69], 0x5a);
  t.is(ring.pop(out), 0);
});

test('the producer rings the doorbell only when the consumer announced sleep', (t) => {
  const bell = new Doorbell();
  const ring = Ring.create(1024, bell);
  ring.push(frame(20, 0), 0, 20, 0);
  t.is(bell.wakeups, 0, 'an awake consumer costs no wake-up');
  bell.prepareSleep();
  ring.push(frame(20, 0), 0, 20, 0);
  t.is(bell.wakeups, 1);
  ring.push(frame(20, 0), 0, 20, 0);
  t.is(bell.wakeups, 1, 'one wake-up per sleep');
});

test('a ring attached from its SharedArrayBuffer sees the same records', (t) => {
  const a = Ring.create(1024);
  const b = new Ring(a.sab);
  a.push(frame(30, 3), 0, 30, 3);
  const out = Buffer.alloc(64);
  t.is(b.pop(out), 30);
  t.is(b.lastMeta, 3);
});

test('writeWithPrefix stores the prefix and the frame as one record', (t) => {
  const ring = Ring.create(4096);
  t.is(ring.writeWithPrefix(Buffer.from([9, 9, 9]), 2, Buffer.from('xxframe'), 2, 5, 7), 1);
  ring.commit();
  const out = Buffer.alloc(64);
  t.is(ring.pop(out), 7);
  t.is(ring.lastMeta, 7);
  t.deepEqual([...out.subarray(0, 7)], [9, 9, ...Buffer.from('frame')]);
  t.is(ring.writeWithPrefix(Buffer.alloc(10), 10, Buffer.alloc(4096), 0, 4096, 0), 0, 'too large for the ring');
  t.is(ring.oversize, 1);
});
