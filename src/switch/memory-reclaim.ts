// MemoryReclaim: gives the memory of ports, connections and peers that went back to the
// kernel. Main thread.
//
// Why it takes work: a ring is a SharedArrayBuffer each thread that used it holds a
// handle to, and its memory is freed only once every one of those threads has collected
// its handle — but a thread that allocates nothing per frame may not collect for hours.
// And glibc, having freed one large block, raises its mmap threshold and keeps later
// blocks of that size in its heap, where free() returns nothing to the kernel. So:
//  - enableMemoryReclaim(), before the first thread starts, exposes V8's gc() to every
//    thread and fixes glibc's mmap threshold (a fixed threshold is never raised), so
//    each ring and large buffer is its own mapping, unmapped when freed;
//  - after a ring goes, once removals have paused for DELAY_MS, each forwarding and QEMU
//    I/O thread is asked to collect ('gc'), main collects, and malloc_trim() returns any
//    free heap pages. TAP I/O threads end with their TAP, which frees their heap whole.
// A collection of a thread's small heap takes about a millisecond, once per burst of
// removals, never per frame. docs/operations.md ("Memory") has the measured figures.

import v8 from 'node:v8';
import { collectGarbage } from '../core/collect-garbage.js';
import { loadLibc } from '../linux/libc.js';

/** glibc's M_MMAP_THRESHOLD, and the threshold set: 128 KiB, glibc's own default. */
const M_MMAP_THRESHOLD = -3;
const MMAP_THRESHOLD = 128 * 1024;
/** Removals closer together than this are reclaimed for at once. */
const DELAY_MS = 300;
/** How long to wait for the threads to have collected before trimming. */
const SETTLE_MS = 100;

let enabled = false;

/** Expose gc() to every thread made from now on, and fix glibc's mmap threshold. Idempotent. */
export function enableMemoryReclaim(): void {
  if (enabled) return;
  enabled = true;
  v8.setFlagsFromString('--expose-gc');
  try {
    loadLibc().mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
  } catch {
    // Not glibc: freed memory is given back as that allocator does.
  }
}

export class MemoryReclaim {
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Reclaims done, for tests and `show memory`. */
  runs = 0;

  /** `askThreads` posts a 'gc' message to every forwarding and QEMU I/O thread. */
  constructor(private readonly askThreads: () => void) {}

  /** Something went: reclaim once removals pause. */
  soon(): void {
    if (this.closed) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.now(), DELAY_MS);
    this.timer.unref();
  }

  /** Reclaim now: every thread collects, main collects, free heap pages go back to the kernel. */
  async now(): Promise<void> {
    this.timer = null;
    this.askThreads();
    collectGarbage();
    await new Promise((r) => setTimeout(r, SETTLE_MS).unref());
    if (this.closed) return;
    collectGarbage();
    try {
      loadLibc().malloc_trim(0);
    } catch {
      // Not glibc.
    }
    this.runs++;
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
