// TrunkCounters: the counters of one trunk, in a SharedArrayBuffer its I/O thread writes
// (a trunk TAP's, src/tap/trunk-io-loop.ts; a QEMU trunk listener's, src/qemu/qemu-io.ts)
// and main reads for `show trunks`, `show listeners` and `show ports` — as a ring keeps its
// counters in its header, for a thread that has no request channel.
//
// Thread safety: only the trunk's I/O thread writes (Atomics.add); main reads with
// Atomics.load, so its counts can be late, never torn.
//
// | word        | what                                                  |
// |-------------|-------------------------------------------------------|
// | 0 .. T-1    | TRUNK_DROPS, by TRUNK_DROP index (T names)            |
// | T + 2i      | member i (TrunkIoStart.members order): rx-ring-full   |
// | T + 2i + 1  | member i: tap-write                                   |

import { TRUNK_DROPS } from './counters.js';

const T = TRUNK_DROPS.names.length;

export class TrunkCounters {
  readonly sab: SharedArrayBuffer;
  private readonly words: Int32Array;

  constructor(membersOrSab: number | SharedArrayBuffer) {
    this.sab = typeof membersOrSab === 'number' ? new SharedArrayBuffer(4 * (T + 2 * membersOrSab)) : membersOrSab;
    this.words = new Int32Array(this.sab);
  }

  /** Count a trunk drop (TRUNK_DROP index). */
  drop(index: number): void {
    Atomics.add(this.words, index, 1);
  }

  /** Count a frame of member `i` the rx ring had no room for. */
  rxRingFull(i: number): void {
    Atomics.add(this.words, T + 2 * i, 1);
  }

  /** Count a frame of member `i` the TAP refused. */
  tapWrite(i: number): void {
    Atomics.add(this.words, T + 2 * i + 1, 1);
  }

  /** The trunk drops, by name. */
  drops(): Record<(typeof TRUNK_DROPS.names)[number], number> {
    return TRUNK_DROPS.toRecord(TRUNK_DROPS.names.map((_, i) => Atomics.load(this.words, i) >>> 0));
  }

  /** Member `i`'s I/O drops, as `show ports` adds them to the port's. */
  member(i: number): { 'rx-ring-full': number; 'tap-write': number } {
    return { 'rx-ring-full': Atomics.load(this.words, T + 2 * i) >>> 0, 'tap-write': Atomics.load(this.words, T + 2 * i + 1) >>> 0 };
  }
}
