// Ring and doorbell calls only tests and benches make, kept out of src/core/ring.ts and
// src/core/doorbell.ts: push() (write + commit), a RingReader that pops one frame at a
// time into the caller's buffer, and sleepAsync() for a consumer on a thread with an
// event loop. Test code, any thread (ring-producer.ts pushes from a worker).
//
// RingReader reads the ring's SharedArrayBuffer by the byte layout table at the top of
// src/core/ring.ts, not through the Ring's own consumer. A ring has one consumer: a test
// reads a ring with a RingReader or with ring.consume(), never both.

import type { Doorbell } from '../../src/core/doorbell.js';
import type { Ring } from '../../src/core/ring.js';

// Byte offsets, from the layout table in src/core/ring.ts.
const HEAD = 0;
const TAIL = 64;
const CAPACITY = 192;
const DATA = 256;
// A record: LEN (a 32-bit word, or WRAP), META (a 32-bit word), the frame, padding to 8;
// the words in the machine's byte order, as the Ring writes them through an Int32Array.
const REC_HDR = 8;
const WRAP = 0xffffffff;

const recordBytes = (len: number): number => REC_HDR + ((len + 7) & ~7);

/** write() + commit(): 1 if the frame was queued, 0 if it was dropped (and counted). */
export function push(ring: Ring, buf: Buffer, off: number, len: number, meta: number): number {
  const n = ring.write(buf, off, len, meta);
  if (n === 1) ring.commit();
  return n;
}

/** The consumer side of a ring, one frame at a time, copied out. */
export class RingReader {
  /** Meta of the record the last pop() returned. */
  lastMeta = 0;
  private readonly words: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly capacity: number;
  private tail: number;

  constructor(ring: Ring | SharedArrayBuffer) {
    const sab = 'sab' in ring ? ring.sab : ring;
    this.words = new Int32Array(sab);
    this.bytes = new Uint8Array(sab);
    this.capacity = Atomics.load(this.words, CAPACITY >> 2);
    this.tail = Atomics.load(this.words, TAIL >> 2) >>> 0;
  }

  /**
   * Copy the next frame into `out` at `outOff`. Returns its length (meta in lastMeta),
   * 0 when the ring is empty, or -len without consuming the frame when `out` is too
   * small to hold it. A wrap marker in the way is passed (and released) first.
   */
  pop(out: Uint8Array, outOff = 0): number {
    const head = Atomics.load(this.words, HEAD >> 2) >>> 0;
    if (this.tail === head) return 0;
    let pos = this.tail & (this.capacity - 1);
    let len = this.words[(DATA + pos) >> 2] >>> 0;
    if (len === WRAP) {
      this.release((this.tail + this.capacity - pos) >>> 0);
      // The wrap can be the last thing published (an abandoned reserve).
      if (this.tail === head) return 0;
      pos = 0;
      len = this.words[DATA >> 2] >>> 0;
    }
    if (len > out.length - outOff) return -len;
    out.set(this.bytes.subarray(DATA + pos + REC_HDR, DATA + pos + REC_HDR + len), outOff);
    this.lastMeta = this.words[((DATA + pos) >> 2) + 1];
    this.release((this.tail + recordBytes(len)) >>> 0);
    return len;
  }

  /** Hand the bytes up to `tail` back to the producer (TAIL is the consumer's to write). */
  private release(tail: number): void {
    this.tail = tail;
    Atomics.store(this.words, TAIL >> 2, tail | 0);
  }
}

/**
 * Doorbell.sleep() for a thread that keeps an event loop (the ava worker's main thread):
 * wait on the SLEEPING word (word 0, see src/core/doorbell.ts) until a producer clears it
 * or timeoutMs passes, then clear it, as the consumer does after every sleep.
 */
export async function sleepAsync(bell: Doorbell, timeoutMs: number): Promise<void> {
  const words = new Int32Array(bell.sab);
  const r = Atomics.waitAsync(words, 0, 1, timeoutMs);
  if (r.async) await r.value;
  Atomics.store(words, 0, 0);
}
