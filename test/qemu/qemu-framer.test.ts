// Tests for QemuFramer: reassembly of QEMU's length-prefixed stream across arbitrary
// read boundaries, and rejection of hostile lengths before anything is sized from them.
// Pure unit tests on the test runner's thread; no sockets.

import test from 'ava';
import {
  FRAMER_GIANT,
  FRAMER_OK,
  FRAMER_REASON_TEXT,
  FRAMER_RUNT,
  FRAMER_ZERO_LENGTH,
  QEMU_HDR_LEN,
  QemuFramer,
  writeQemuHeader,
} from '../../src/qemu/qemu-framer.js';
import { mulberry32 as rng } from '../helpers/prng.js';

const MAX = 65535;


/** One frame of `len` bytes: a 4-byte sequence number, then seeded noise. */
function makeFrame(seq: number, len: number, rand: () => number): Buffer {
  const f = Buffer.alloc(len);
  f[0] = seq >>> 24;
  f[1] = (seq >>> 16) & 0xff;
  f[2] = (seq >>> 8) & 0xff;
  f[3] = seq & 0xff;
  for (let i = 4; i < len; i++) f[i] = (rand() * 256) | 0;
  return f;
}

/** Concatenates frames into the byte stream QEMU would send. */
function encodeStream(frames: Buffer[]): Buffer {
  let total = 0;
  for (const f of frames) total += QEMU_HDR_LEN + f.length;
  const out = Buffer.alloc(total);
  let off = 0;
  for (const f of frames) {
    writeQemuHeader(f.length, out, off);
    out.set(f, off + QEMU_HDR_LEN);
    off += QEMU_HDR_LEN + f.length;
  }
  return out;
}

function header(len: number): Buffer {
  const h = Buffer.alloc(QEMU_HDR_LEN);
  writeQemuHeader(len, h, 0);
  return h;
}

function concat(...parts: Buffer[]): Buffer {
  return Buffer.concat(parts);
}

/** A framer whose sink copies every delivered frame, since views die after the call. */
function collecting(maxFrame?: number): { framer: QemuFramer; got: Uint8Array[] } {
  const got: Uint8Array[] = [];
  const framer = new QemuFramer((buf, off, len) => {
    got.push(Buffer.from(buf.subarray(off, off + len))); // a copy: Buffer#slice would be a view
  }, maxFrame);
  return { framer, got };
}

function assertSameFrames(t: import('ava').ExecutionContext, got: Uint8Array[], want: Uint8Array[]): void {
  t.is(got.length, want.length, 'frame count');
  for (let i = 0; i < want.length; i++) {
    if (Buffer.compare(got[i], want[i]) !== 0) {
      t.fail(`frame ${i} differs (got ${got[i].length} bytes, want ${want[i].length})`);
      return;
    }
  }
  t.pass();
}

for (const seed of [1, 0xdecafbad, 20240607]) {
  test(`a seeded random stream cut at random boundaries reassembles byte-exact and in order (seed ${seed})`, (t) => {
    const rand = rng(seed);
    const frames: Buffer[] = [];
    for (let i = 0; i < 3000; i++) {
      // Mostly Ethernet-sized frames, with the edges and some jumbo frames mixed in.
      const r = rand();
      const len = r < 0.05 ? 14 : r < 0.1 ? MAX : r < 0.2 ? 14 + ((rand() * 9000) | 0) : 14 + ((rand() * 1500) | 0);
      frames.push(makeFrame(i, len, rand));
    }
    const stream = encodeStream(frames);
    const { framer, got } = collecting();
    let notOk = 0;
    let off = 0;
    while (off < stream.length) {
      const r = rand();
      // A third of the reads are 1..3 bytes so that headers split 1+3, 2+2 and 3+1 often.
      const size = r < 0.15 ? 1 : r < 0.33 ? 1 + ((rand() * 3) | 0) : r < 0.8 ? 1 + ((rand() * 4000) | 0) : 1 + ((rand() * 200000) | 0);
      const chunk = stream.subarray(off, Math.min(stream.length, off + size));
      if (framer.push(chunk) !== FRAMER_OK) notOk++;
      off += chunk.length;
    }
    t.is(notOk, 0);
    assertSameFrames(t, got, frames);
    t.is(framer.frames, frames.length);
    t.is(framer.pending, 0);
    t.is(framer.error, FRAMER_OK);
    // The reassembly buffer is allocated once, at maxFrame, however many frames straddled.
    t.is(framer.bufferBytes, MAX);
  });
}

test('a stream fed one byte at a time reassembles byte-exact', (t) => {
  const rand = rng(7);
  const frames = Array.from({ length: 200 }, (_, i) => makeFrame(i, 14 + ((rand() * 1600) | 0), rand));
  const stream = encodeStream(frames);
  const { framer, got } = collecting();
  let notOk = 0;
  for (let i = 0; i < stream.length; i++) {
    if (framer.push(stream.subarray(i, i + 1)) !== FRAMER_OK) notOk++;
    if (i === 0) t.is(framer.pending, 1);
  }
  t.is(notOk, 0);
  assertSameFrames(t, got, frames);
  t.is(framer.pending, 0);
});

for (const split of [1, 2, 3]) {
  test(`a header split ${split}+${QEMU_HDR_LEN - split} across reads is reassembled`, (t) => {
    const frame = makeFrame(42, 60, rng(split));
    const stream = encodeStream([frame]);
    const { framer, got } = collecting();
    t.is(framer.push(stream.subarray(0, split)), FRAMER_OK);
    t.is(framer.pending, split);
    t.is(got.length, 0);
    t.is(framer.push(stream.subarray(split)), FRAMER_OK);
    assertSameFrames(t, got, [frame]);
  });
}

test('many frames in one read are each delivered as a zero-copy view into that read', (t) => {
  const rand = rng(99);
  const frames = Array.from({ length: 100 }, (_, i) => makeFrame(i, 14 + i * 10, rand));
  const stream = encodeStream(frames);
  const seen: { same: boolean; off: number; len: number }[] = [];
  const framer = new QemuFramer((buf, off, len) => seen.push({ same: buf === stream, off, len }));
  t.is(framer.push(stream), FRAMER_OK);
  t.is(seen.length, 100);
  t.true(seen.every((s) => s.same));
  let off = 0;
  for (let i = 0; i < frames.length; i++) {
    off += QEMU_HDR_LEN;
    t.deepEqual({ off: seen[i].off, len: seen[i].len }, { off, len: frames[i].length });
    off += frames[i].length;
  }
  // Nothing straddled, so nothing was allocated.
  t.is(framer.bufferBytes, 0);
});

test('frames that straddle reads are delivered from the one reassembly buffer', (t) => {
  const rand = rng(5);
  const frames = Array.from({ length: 20 }, (_, i) => makeFrame(i, 1514, rand));
  const stream = encodeStream(frames);
  const buffers = new Set<Uint8Array>();
  const framer = new QemuFramer((buf) => {
    if (buf !== stream) buffers.add(buf);
  });
  // 1000-byte reads split nearly every frame.
  for (let off = 0; off < stream.length; off += 1000) framer.push(stream.subarray(off, off + 1000));
  t.is(framer.frames, 20);
  t.is(buffers.size, 1);
});

test('frames of exactly 14 bytes and exactly maxFrame bytes are accepted', (t) => {
  const rand = rng(3);
  const frames = [makeFrame(1, 14, rand), makeFrame(2, MAX, rand), makeFrame(3, 14, rand)];
  const { framer, got } = collecting();
  t.is(framer.push(encodeStream(frames)), FRAMER_OK);
  assertSameFrames(t, got, frames);
});

const hostile: { len: number; code: number }[] = [
  { len: 0, code: FRAMER_ZERO_LENGTH },
  { len: 1, code: FRAMER_RUNT },
  { len: 13, code: FRAMER_RUNT },
  { len: MAX + 1, code: FRAMER_GIANT },
  { len: 0x7fffffff, code: FRAMER_GIANT },
  { len: 0x80000000, code: FRAMER_GIANT },
  { len: 0xffffffff, code: FRAMER_GIANT },
];

for (const { len, code } of hostile) {
  test(`a length of ${len} (0x${len.toString(16)}) is rejected as "${FRAMER_REASON_TEXT[code]}" once its 4 header bytes arrive`, (t) => {
    const { framer, got } = collecting();
    const h = header(len);
    // Split 3+1 so the verdict must come on the byte that completes the header,
    // without waiting for any of the frame it announces.
    t.is(framer.push(h.subarray(0, 3)), FRAMER_OK);
    t.is(framer.push(h.subarray(3)), code);
    t.is(framer.error, code);
    t.is(framer.badLength, len);
    t.is(got.length, 0);
    // Nothing was sized from the hostile length.
    t.is(framer.bufferBytes, 0);
    t.is(framer.pending, 0);
  });
}

test('after an error nothing more is delivered and every push returns the same code', (t) => {
  const rand = rng(11);
  const good = makeFrame(1, 100, rand);
  const later = makeFrame(2, 100, rand);
  const { framer, got } = collecting();
  // A good frame, then a giant header in the same read: the good frame still arrives.
  t.is(framer.push(concat(encodeStream([good]), header(0xffffffff), encodeStream([later]))), FRAMER_GIANT);
  assertSameFrames(t, got, [good]);
  t.is(framer.push(encodeStream([later])), FRAMER_GIANT);
  t.is(framer.push(Buffer.alloc(0)), FRAMER_GIANT);
  t.is(framer.frames, 1);
  t.is(got.length, 1);
  t.is(framer.badLength, 0xffffffff);
});

test('a custom maxFrame accepts frames up to it, rejects longer ones and sizes the buffer to it', (t) => {
  const rand = rng(13);
  const ok = makeFrame(1, 1518, rand);
  const { framer, got } = collecting(1518);
  const stream = encodeStream([ok]);
  t.is(framer.push(stream.subarray(0, 700)), FRAMER_OK);
  t.is(framer.push(stream.subarray(700)), FRAMER_OK);
  assertSameFrames(t, got, [ok]);
  t.is(framer.bufferBytes, 1518);
  t.is(framer.push(header(1519)), FRAMER_GIANT);
  t.is(framer.badLength, 1519);
});

test('an empty read changes nothing', (t) => {
  const { framer, got } = collecting();
  t.is(framer.push(Buffer.alloc(0)), FRAMER_OK);
  t.is(framer.pending, 0);
  t.is(got.length, 0);
});

test('writeQemuHeader writes the length big-endian', (t) => {
  const out = Buffer.alloc(6);
  writeQemuHeader(0x01020304, out, 1);
  t.deepEqual(Array.from(out), [0, 1, 2, 3, 4, 0]);
  writeQemuHeader(65535, out, 0);
  t.deepEqual(Array.from(out.subarray(0, 4)), [0, 0, 0xff, 0xff]);
  writeQemuHeader(0xffffffff, out, 2);
  t.deepEqual(Array.from(out.subarray(2)), [0xff, 0xff, 0xff, 0xff]);
});

test('every reason code has human text', (t) => {
  for (const code of [FRAMER_OK, FRAMER_ZERO_LENGTH, FRAMER_RUNT, FRAMER_GIANT]) {
    t.is(typeof FRAMER_REASON_TEXT[code], 'string');
    t.true(FRAMER_REASON_TEXT[code].length > 0);
  }
  t.is(FRAMER_REASON_TEXT.length, 4);
});
