// Ring: a single-producer single-consumer ring of variable-length frame records
// in a SharedArrayBuffer. It is how every frame crosses between an I/O thread
// (TAP, QEMU, peer) and a forwarding thread, in both directions.
//
// Contract (read this first):
// - Exactly one producer thread calls write/reserve/commit, and exactly one
//   consumer thread calls consume. Which threads those are is written where
//   each ring is made (src/forwarding/ring-table.ts names both for `show rings`).
// - Nothing here throws or blocks. A full ring drops the frame and counts it in
//   `drops`; the producer never waits for the consumer.
// - Each record is contiguous in memory, so the consumer reads a frame in place
//   (zero copy) and the producer can even receive straight into the ring
//   (reserve + commit).
// - Counters read from the other thread can be late, never wrong for long.
//
// Thread safety: HEAD is written only by the producer, TAIL only by the consumer,
// both with Atomics.store, and read by the other side with Atomics.load. The
// producer writes the record bytes before it stores HEAD and the consumer reads
// them after it loads HEAD; seq-cst atomics order those plain accesses. The
// consumer stores TAIL only after it finished with the bytes, so the producer
// never overwrites a record that is still being read.
//
// Byte layout of the SharedArrayBuffer (cursors on separate cache lines):
//
// | byte      | name      | written by | meaning                                             |
// |-----------|-----------|------------|-----------------------------------------------------|
// | 0         | HEAD      | producer   | bytes ever committed, mod 2^32                      |
// | 64        | TAIL      | consumer   | bytes ever consumed, mod 2^32                       |
// | 68        | CDROPS    | consumer   | frames the consumer took but could not deliver      |
// | 128       | DROPS     | producer   | frames dropped: ring full                           |
// | 132       | OVERSIZE  | producer   | frames dropped: larger than the ring can ever hold  |
// | 136       | PUSHED    | producer   | frames published (updated on commit)                |
// | 192       | CAPACITY  | creator    | size of the data region in bytes (power of two)     |
// | 256 ..    | DATA      | both       | records, each 8-byte aligned                        |
//
// A record at data offset p (p = cursor & (CAPACITY-1)):
//
// | offset | size        | field                                                       |
// |--------|-------------|-------------------------------------------------------------|
// | p      | 4           | LEN: frame length in bytes, or WRAP (0xffffffff)            |
// | p+4    | 4           | META: a port id, chosen by whoever made the ring            |
// | p+8    | LEN         | the frame                                                   |
// | ..     | pad to 8    |                                                             |
//
// WRAP means "the rest of the data region is unused; continue at offset 0". The
// producer writes it when the next record does not fit before the end.

import { RING_COUNTER, RING_COUNTERS } from './counters.js';
import type { Doorbell } from './doorbell.js';

export const RING_HEADER_BYTES = 256;
const HEAD = 0 >> 2;
const TAIL = 64 >> 2;
const CDROPS = 68 >> 2;
const DROPS = 128 >> 2;
const OVERSIZE = 132 >> 2;
const PUSHED = 136 >> 2;
const CAPACITY = 192 >> 2;
const REC_HDR = 8;
const WRAP = -1; // 0xffffffff read through an Int32Array

/** Called once per frame by consume(); `buf` is the ring's data, valid only during the call. */
export type FrameHandler = (buf: Buffer, off: number, len: number, meta: number) => void;

function recordBytes(len: number): number {
  return REC_HDR + ((len + 7) & ~7);
}

export class Ring {
  readonly sab: SharedArrayBuffer;
  /**
   * The data region: record offsets handed out by this class index into it. A
   * Buffer rather than a plain Uint8Array because Buffer#copy moves bytes
   * without allocating a view per frame (subarray() would allocate).
   */
  readonly data: Buffer;
  readonly capacity: number;
  /** The largest frame this ring can ever carry: half the data region less a record header. */
  readonly maxFrame: number;
  private readonly words: Int32Array;
  private readonly mask: number;
  private readonly doorbell: Doorbell | null;
  // Producer-local state: the head not yet published, and a cached tail so most
  // pushes do not touch the consumer's cache line.
  private wHead: number;
  private wTail: number;
  private reservedAt = -1;
  private staged = false;
  private wPushed: number;
  // Consumer-local state: a cached head so an empty check after a batch is cheap.
  private rTail: number;
  private rHead: number;

  /** Create a ring whose data region holds `capacity` bytes (rounded up to a power of two, at least 256). */
  static create(capacity: number, doorbell: Doorbell | null = null): Ring {
    let cap = 256;
    while (cap < capacity && cap < 1 << 30) cap *= 2;
    const sab = new SharedArrayBuffer(RING_HEADER_BYTES + cap);
    new Int32Array(sab)[CAPACITY] = cap;
    return new Ring(sab, doorbell);
  }

  /**
   * Attach to a ring made by create(), possibly on another thread. `doorbell` is
   * the consumer's doorbell; the producer side rings it on commit.
   */
  constructor(sab: SharedArrayBuffer, doorbell: Doorbell | null = null) {
    this.sab = sab;
    this.words = new Int32Array(sab);
    this.capacity = Atomics.load(this.words, CAPACITY);
    this.mask = this.capacity - 1;
    this.maxFrame = (this.capacity >> 1) - REC_HDR;
    this.data = Buffer.from(sab, RING_HEADER_BYTES, this.capacity);
    this.doorbell = doorbell;
    this.wHead = Atomics.load(this.words, HEAD) >>> 0;
    this.wTail = Atomics.load(this.words, TAIL) >>> 0;
    this.wPushed = Atomics.load(this.words, PUSHED) >>> 0;
    this.rTail = this.wTail;
    this.rHead = this.wHead;
  }

  // ---- producer side -------------------------------------------------------

  /**
   * Find room for a record of `len` bytes, writing a WRAP marker if needed.
   * Returns the data offset of the record header, or -1 when there is no room.
   */
  private claim(len: number): number {
    const rec = recordBytes(len);
    const pos = this.wHead & this.mask;
    const toEnd = this.capacity - pos;
    const need = rec <= toEnd ? rec : toEnd + rec;
    if (((this.wHead - this.wTail) >>> 0) + need > this.capacity) {
      this.wTail = Atomics.load(this.words, TAIL) >>> 0;
      if (((this.wHead - this.wTail) >>> 0) + need > this.capacity) return -1;
    }
    if (rec > toEnd) {
      this.words[(RING_HEADER_BYTES + pos) >> 2] = WRAP;
      this.wHead = (this.wHead + toEnd) >>> 0;
      return 0;
    }
    return pos;
  }

  /**
   * Stage one frame without publishing it. Returns 1 if staged, 0 if dropped
   * (ring full or frame too large; both counted). Call commit() to publish.
   */
  write(buf: Buffer, off: number, len: number, meta: number): number {
    if (len > this.maxFrame) {
      Atomics.add(this.words, OVERSIZE, 1);
      return 0;
    }
    const at = this.claim(len);
    if (at < 0) {
      Atomics.add(this.words, DROPS, 1);
      return 0;
    }
    const w = (RING_HEADER_BYTES + at) >> 2;
    this.words[w] = len;
    this.words[w + 1] = meta;
    buf.copy(this.data, at + REC_HDR, off, off + len);
    this.wHead = (this.wHead + recordBytes(len)) >>> 0;
    this.staged = true;
    this.wPushed++;
    return 1;
  }

  /**
   * Stage one record made of `prefix[pOff..pOff+pLen)` followed by `buf[off..off+len)`
   * (e.g. a zero virtio_net_hdr in front of a plain frame). Same results as write().
   */
  writeWithPrefix(prefix: Buffer, pLen: number, buf: Buffer, off: number, len: number, meta: number, pOff = 0): number {
    const total = pLen + len;
    if (total > this.maxFrame) {
      Atomics.add(this.words, OVERSIZE, 1);
      return 0;
    }
    const at = this.claim(total);
    if (at < 0) {
      Atomics.add(this.words, DROPS, 1);
      return 0;
    }
    const w = (RING_HEADER_BYTES + at) >> 2;
    this.words[w] = total;
    this.words[w + 1] = meta;
    prefix.copy(this.data, at + REC_HDR, pOff, pOff + pLen);
    buf.copy(this.data, at + REC_HDR + pLen, off, off + len);
    this.wHead = (this.wHead + recordBytes(total)) >>> 0;
    this.staged = true;
    this.wPushed++;
    return 1;
  }

  /**
   * Reserve room for a frame of up to `maxLen` bytes that the caller writes
   * straight into `data` at the returned offset (for example a TAP read).
   * Returns -1 when the ring is full (not counted: the caller decides whether a
   * frame was really lost). Finish with commitReserved().
   */
  reserve(maxLen: number): number {
    if (maxLen > this.maxFrame) return -1;
    const at = this.claim(maxLen);
    if (at < 0) return -1;
    this.reservedAt = at;
    return at + REC_HDR;
  }

  /** Finish a reserve(): the frame is `len` (≤ the reserved length) bytes. Stages it; commit() publishes. */
  commitReserved(len: number, meta: number): void {
    const at = this.reservedAt;
    if (at < 0) return;
    const w = (RING_HEADER_BYTES + at) >> 2;
    this.words[w] = len;
    this.words[w + 1] = meta;
    this.wHead = (this.wHead + recordBytes(len)) >>> 0;
    this.reservedAt = -1;
    this.staged = true;
    this.wPushed++;
  }

  /**
   * Producer side: free bytes now, from the producer's cached view of the consumer
   * (refreshed when it looks short), so a producer that can wait (one reading a stream)
   * takes no more than fits instead of dropping. Records need their 8-byte header and
   * padding, and one may not straddle the end of the region (up to one record's worth is
   * skipped at the wrap): the caller leaves room for that. Can be late: the consumer may
   * free more right after. Never allocates.
   */
  room(): number {
    let free = this.capacity - ((this.wHead - this.wTail) >>> 0);
    if (free < this.capacity >> 1) {
      this.wTail = Atomics.load(this.words, TAIL) >>> 0;
      free = this.capacity - ((this.wHead - this.wTail) >>> 0);
    }
    return free;
  }

  /** Count a frame the producer could not stage (e.g. no room for a reserve). */
  countDrop(): void {
    Atomics.add(this.words, DROPS, 1);
  }

  /** Publish every staged record and ring the consumer's doorbell if it sleeps. */
  commit(): void {
    if (!this.staged) return;
    this.staged = false;
    // PUSHED is published with HEAD rather than per frame: one atomic per batch.
    Atomics.store(this.words, PUSHED, this.wPushed | 0);
    Atomics.store(this.words, HEAD, this.wHead | 0);
    if (this.doorbell !== null) this.doorbell.ring();
  }

  // ---- consumer side -------------------------------------------------------

  /** True when the consumer has nothing to read. Can be late: a frame may land right after. */
  isEmpty(): boolean {
    if (this.rTail !== this.rHead) return false;
    this.rHead = Atomics.load(this.words, HEAD) >>> 0;
    return this.rTail === this.rHead;
  }

  /**
   * Hand up to `max` frames to `handler`, in order, in place, and no more than
   * `maxBytes` of frames (the first frame always, whatever its size): a consumer that
   * copies the batch into a buffer of its own never overfills it. Space is released to
   * the producer once, after the batch. Returns the number of frames handled.
   */
  consume(max: number, handler: FrameHandler, maxBytes = Infinity): number {
    let tail = this.rTail;
    let head = this.rHead;
    if (tail === head) {
      head = this.rHead = Atomics.load(this.words, HEAD) >>> 0;
      if (tail === head) return 0;
    }
    const words = this.words;
    const data = this.data;
    let n = 0;
    while (n < max && tail !== head) {
      const pos = tail & this.mask;
      const w = (RING_HEADER_BYTES + pos) >> 2;
      const len = words[w];
      if (len === WRAP) {
        tail = (tail + this.capacity - pos) >>> 0;
        continue;
      }
      if (len > maxBytes && n > 0) break;
      maxBytes -= len;
      handler(data, pos + REC_HDR, len, words[w + 1]);
      tail = (tail + recordBytes(len)) >>> 0;
      n++;
    }
    this.rTail = tail;
    Atomics.store(words, TAIL, tail | 0);
    return n;
  }

  /** Consumer side: count a frame it took off the ring but could not deliver (e.g. a TAP write failed). */
  countConsumerDrop(): void {
    Atomics.add(this.words, CDROPS, 1);
  }

  // ---- counters (any thread; may be late) -----------------------------------

  get consumerDrops(): number {
    return Atomics.load(this.words, CDROPS) >>> 0;
  }

  get drops(): number {
    return Atomics.load(this.words, DROPS) >>> 0;
  }

  get oversize(): number {
    return Atomics.load(this.words, OVERSIZE) >>> 0;
  }

  get pushed(): number {
    return Atomics.load(this.words, PUSHED) >>> 0;
  }

  /** Every counter above, indexed by RING_COUNTER (src/core/counters.ts); for `show rings`. */
  counts(): Float64Array {
    const c = RING_COUNTERS.create();
    c[RING_COUNTER.pushed] = this.pushed;
    c[RING_COUNTER.full] = this.drops;
    c[RING_COUNTER.oversize] = this.oversize;
    c[RING_COUNTER.undelivered] = this.consumerDrops;
    return c;
  }

  /** Bytes currently queued (records, padding and wrap gaps included). */
  get used(): number {
    return (Atomics.load(this.words, HEAD) - Atomics.load(this.words, TAIL)) >>> 0;
  }
}
