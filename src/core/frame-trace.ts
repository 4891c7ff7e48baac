// FrameTrace: where a frame's time goes inside the switch, for `debug trace on` and
// `show trace`. While tracing is on, the thread that takes a frame in (a TAP, QEMU or
// peer I/O thread) gives it one of 7 trace slots, carried in bits 29-31 of the ring meta
// (src/core/ring-record.ts) to the forwarding thread and on to the thread that sends it
// out; each stamps the time it reached its stage into the slot, and the last adds the
// time between stages to shared sums. Every thread maps the same SharedArrayBuffer.
//
// Thread safety: a slot is written by one thread at a time, in the order the frame moves
// (ring hand-offs order the writes); the sums are added to with plain += by the sending
// thread of each frame: two I/O threads finishing frames at once can lose an addition,
// which a diagnostic can afford. Off (the default) costs a test of the meta's trace bits.
//
// Layout (Float64 words):
//
// | word                  | meaning                                                      |
// |-----------------------|--------------------------------------------------------------|
// | 0                     | 1 while tracing is on                                        |
// | 1                     | the next slot to hand out (1..7)                             |
// | 8 + 8*slot + stage    | when the slot's frame reached `stage` (ms, performance clock) |
// | 72 + 2*stage          | sum of the time from the stage before to `stage` (ms)         |
// | 73 + 2*stage          | how many frames that sum covers                              |

export const TRACE_SHIFT = 29;
/** The ring meta bits that carry a trace slot (0: not traced). */
export const TRACE_MASK = 7 << TRACE_SHIFT;

/**
 * A frame's stages, in the order it passes them: read by its I/O thread (in its rx ring);
 * taken by the forwarding thread; published on the output's tx ring; taken by the output's
 * I/O thread; written out (a TAP write, a datagram, a VM's socket).
 */
export const STAGES = ['read', 'forwarding', 'tx-commit', 'picked', 'written'] as const;
export const STAGE_READ = 0;
export const STAGE_FORWARDING = 1;
export const STAGE_TX_COMMIT = 2;
export const STAGE_PICKED = 3;
export const STAGE_WRITTEN = 4;

const SLOTS = 8;
const STAMPS = 8;
const SUMS = STAMPS + SLOTS * STAMPS;
export const FRAME_TRACE_BYTES = 8 * (SUMS + 2 * STAGES.length);

/** The mean time between consecutive stages, as `show trace` prints it. */
export interface TraceStep {
  from: string;
  to: string;
  /** Mean microseconds, or null when no frame was traced through this step. */
  meanUs: number | null;
  frames: number;
}

/** The clock every thread stamps with: the same origin on every thread. */
function now(): number {
  return performance.timeOrigin + performance.now();
}

export class FrameTrace {
  readonly sab: SharedArrayBuffer;
  private readonly w: Float64Array;

  constructor(sab?: SharedArrayBuffer) {
    this.sab = sab ?? new SharedArrayBuffer(FRAME_TRACE_BYTES);
    this.w = new Float64Array(this.sab);
  }

  get on(): boolean {
    return this.w[0] === 1;
  }

  /** Turn tracing on (clearing the sums) or off. Main thread. */
  set(on: boolean): void {
    if (on) this.w.fill(0);
    this.w[1] = 1;
    this.w[0] = on ? 1 : 0;
  }

  /** The thread taking a frame in: a slot to carry in the meta (slot << TRACE_SHIFT), 0 when off. Stamps `read`. */
  begin(): number {
    const w = this.w;
    if (w[0] !== 1) return 0;
    const slot = w[1];
    w[1] = slot >= SLOTS - 1 ? 1 : slot + 1;
    const base = STAMPS + slot * STAMPS;
    for (let s = 0; s < STAGES.length; s++) w[base + s] = 0;
    w[base + STAGE_READ] = now();
    return slot << TRACE_SHIFT;
  }

  /** Stamp `stage` for the frame whose meta carries a slot; nothing for an untraced frame. */
  stamp(meta: number, stage: number): void {
    const slot = (meta & TRACE_MASK) >>> TRACE_SHIFT;
    if (slot !== 0) this.w[STAMPS + slot * STAMPS + stage] = now();
  }

  /** The frame left the switch: stamp `written` and add its steps to the sums. */
  finish(meta: number): void {
    const slot = (meta & TRACE_MASK) >>> TRACE_SHIFT;
    if (slot === 0) return;
    const w = this.w;
    const base = STAMPS + slot * STAMPS;
    w[base + STAGE_WRITTEN] = now();
    let last = w[base];
    for (let s = 1; s < STAGES.length; s++) {
      const t = w[base + s];
      if (t === 0 || last === 0) continue;
      w[SUMS + 2 * s] += t - last;
      w[SUMS + 2 * s + 1]++;
      last = t;
    }
  }

  /** Every step's mean time so far. */
  steps(): TraceStep[] {
    const w = this.w;
    const out: TraceStep[] = [];
    for (let s = 1; s < STAGES.length; s++) {
      const n = w[SUMS + 2 * s + 1];
      out.push({ from: STAGES[s - 1], to: STAGES[s], meanUs: n === 0 ? null : Math.round((w[SUMS + 2 * s] / n) * 10_000) / 10, frames: n });
    }
    return out;
  }
}
