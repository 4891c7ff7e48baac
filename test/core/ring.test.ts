// Unit tests of the SPSC ring on one thread: records, wrap markers, full-ring
// drops, reserve/commit, and the doorbell handshake. Frames are read back with
// ring.consume() or a RingReader (test/helpers/ring-io.ts), never both on one ring.
// Cross-thread tests are in ring-threads.test.ts.

import test from 'ava';
import { Doorbell } from '../../src/core/doorbell.js';
import { Ring } from '../../src/core/ring.js';
import { RingReader, push } from '../helpers/ring-io.js';

function frame(len: number, fill: number): Buffer {
  return Buffer.alloc(len, fill);
}

test('a pushed frame pops back with its bytes and meta', (t) => {
  const ring = Ring.create(1024);
  const reader = new RingReader(ring);
  t.is(push(ring, Buffer.from('hello world, frame'), 6, 5, 0x000a0003), 1);
  const out = Buffer.alloc(64);
  t.is(reader.pop(out), 5);
  t.is(out.subarray(0, 5).toString(), 'world');
  t.is(reader.lastMeta, 0x000a0003);
  t.is(reader.pop(out), 0, 'the ring is empty afterwards');
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
  for (let i = 0; i < 100; i++) accepted += push(ring, frame(40, i), 0, 40, i);
  // 48 bytes per record: 5 fit in 256 bytes.
  t.is(accepted, 5);
  t.is(ring.drops, 95);
  const seen: number[] = [];
  t.is(ring.consume(100, (buf, off, len, meta) => { t.is(buf[off + len - 1], meta); seen.push(meta); }), 5);
  t.deepEqual(seen, [0, 1, 2, 3, 4]);
  t.is(push(ring, frame(40, 7), 0, 40, 7), 1);
});

test('a frame larger than the ring can hold is dropped as oversize', (t) => {
  const ring = Ring.create(256);
  t.is(push(ring, frame(200, 0), 0, 200, 0), 0);
  t.is(ring.oversize, 1);
  t.is(ring.drops, 0);
});

test('records wrap around the end of the data region, in order, many times', (t) => {
  const ring = Ring.create(2048);
  const reader = new RingReader(ring);
  const out = Buffer.alloc(512);
  let next = 0;
  for (let i = 0; i < 20000; i++) {
    const len = 1 + ((i * 37) % 300);
    t.is(push(ring, frame(len, i & 0xff), 0, len, i), 1);
    if (i % 3 === 2) {
      while (true) {
        const n = reader.pop(out);
        if (n === 0) break;
        if (reader.lastMeta !== next || out[n - 1] !== (next & 0xff) || n !== 1 + ((next * 37) % 300)) {
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
  for (let i = 0; i < 10; i++) push(ring, frame(60, i), 0, 60, i);
  let count = 0;
  t.is(ring.consume(4, (buf, off) => { t.is(buf[off], count++); }), 4);
  t.is(ring.consume(100, (buf, off) => { t.is(buf[off], count++); }), 6);
  t.is(ring.consume(100, () => t.fail()), 0);
});

test('a wrap marker published without a record after it reads as empty', (t) => {
  /** A ring holding, once its first frame is read, a frame and then a bare wrap marker. */
  const wrapped = (read: (ring: Ring) => void): Ring => {
    const ring = Ring.create(256);
    push(ring, frame(100, 1), 0, 100, 1); // 112 bytes at 0
    read(ring);
    ring.write(frame(100, 2), 0, 100, 2); // 112 bytes at 112: 32 left before the end
    t.true(ring.reserve(100) === 8, 'the reserve wrapped to the start'); // writes a wrap marker, then is abandoned
    ring.commit(); // publishes the frame and the wrap, but no record after it
    return ring;
  };
  // Read with a RingReader.
  const out = Buffer.alloc(256);
  let reader: RingReader | undefined;
  const ring = wrapped((r) => {
    reader = new RingReader(r);
    t.is(reader.pop(out), 100);
  });
  const rd = reader as RingReader;
  t.is(rd.pop(out), 100);
  t.is(out[0], 2);
  t.is(rd.pop(out), 0);
  t.is(push(ring, frame(50, 3), 0, 50, 3), 1);
  t.is(rd.pop(out), 50);
  t.is(out[0], 3);
  // And a ring of its own read with consume(), its one consumer: past the frame, only the wrap is left.
  const other = wrapped((r) => r.consume(1, () => {}));
  other.consume(1, () => {});
  t.is(other.consume(10, () => t.fail()), 0);
});

test('pop into a too-small buffer returns the negated length and keeps the frame', (t) => {
  const ring = Ring.create(1024);
  const reader = new RingReader(ring);
  push(ring, frame(100, 9), 0, 100, 1);
  t.is(reader.pop(Buffer.alloc(10)), -100);
  t.is(reader.pop(Buffer.alloc(100)), 100);
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
  const reader = new RingReader(ring);
  t.is(reader.pop(out), 70);
  t.is(reader.lastMeta, 42);
  t.is(out[69], 0x5a);
  t.is(reader.pop(out), 0);
});

test('the producer rings the doorbell only when the consumer announced sleep', (t) => {
  const bell = new Doorbell();
  const ring = Ring.create(1024, bell);
  push(ring, frame(20, 0), 0, 20, 0);
  t.is(bell.wakeups, 0, 'an awake consumer costs no wake-up');
  bell.prepareSleep();
  push(ring, frame(20, 0), 0, 20, 0);
  t.is(bell.wakeups, 1);
  push(ring, frame(20, 0), 0, 20, 0);
  t.is(bell.wakeups, 1, 'one wake-up per sleep');
});

test('a ring attached from its SharedArrayBuffer sees the same records', (t) => {
  const a = Ring.create(1024);
  const b = new Ring(a.sab);
  push(a, frame(30, 3), 0, 30, 3);
  // Read through b, the attached ring, as its consumer thread would.
  let got = { len: 0, meta: 0 };
  b.consume(1, (_buf, _off, len, meta) => (got = { len, meta }));
  t.is(got.len, 30);
  t.is(got.meta, 3);
});

test('writeWithPrefix stores the prefix and the frame as one record', (t) => {
  const ring = Ring.create(4096);
  t.is(ring.writeWithPrefix(Buffer.from([9, 9, 9]), 2, Buffer.from('xxframe'), 2, 5, 7), 1);
  ring.commit();
  const out = Buffer.alloc(64);
  const reader = new RingReader(ring);
  t.is(reader.pop(out), 7);
  t.is(reader.lastMeta, 7);
  t.deepEqual([...out.subarray(0, 7)], [9, 9, ...Buffer.from('frame')]);
  t.is(ring.writeWithPrefix(Buffer.alloc(10), 10, Buffer.alloc(4096), 0, 4096, 0), 0, 'too large for the ring');
  t.is(ring.oversize, 1);
});
