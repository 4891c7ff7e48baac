// FrameTrace: where a frame's time goes inside the switch, for `debug trace on` and
// `show trace`. While tracing is on, the thread that takes a frame in (a TAP, QEMU or
// peer I/O thread) marks it traced with bit 29 of its ring meta (src/core/ring-record.ts),
// if no other traced frame is in flight; the forwarding thread and the thread that sends
// it out stamp the time it reached each stage into a SharedArrayBuffer every thread maps,
// and the last adds the time between stages to shared sums and frees the trace for the
// next frame. One frame at a time: a probe at ping rate, not a load profile.
//
// Why one bit: V8 keeps integers in -2^30..2^30-1 unboxed (a Smi); a meta with bit 30 or
// 31 set would be a heap number on the forwarding path and make the traced frame slower
// than the frames it stands for.
//
// Thread safety: the stamps are written by one thread at a time, in the order the frame
// moves (ring hand-offs order the writes); a flooded frame is finished by the first
// output that sends it, and the others find the trace free and add nothing. Two I/O
// threads may both start a trace at once; the sums may then mix their stamps, which a
// diagnostic can afford. Off (the default) costs a test of the meta's trace bit.
//
// Layout (Float64 words):
//
// | word         | meaning                                                        |
// |--------------|----------------------------------------------------------------|
// | 0            | 1 while tracing is on                                          |
// | 8 + stage    | when the traced frame reached `stage` (ms, on one clock); 0: free |
// | 16 + 2*stage | sum of the time from the stage before to `stage` (ms)          |
// | 17 + 2*stage | how many frames that sum covers                                |

/** The ring meta bit of a traced frame. */
export const TRACE_MASK = 1 << 29;

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

const STAMPS = 8;
const SUMS = 16;
/** A traced frame not finished after this long was dropped on the way: trace the next one. */
const STALE_MS = 100;
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
    this.w[0] = on ? 1 : 0;
  }

  /** The thread taking a frame in: TRACE_MASK to carry in its meta (stamping `read`), or 0. */
  begin(): number {
    const w = this.w;
    if (w[0] !== 1) return 0;
    const t = now();
    if (w[STAMPS] !== 0 && t - w[STAMPS] < STALE_MS) return 0;
    for (let s = 1; s < STAGES.length; s++) w[STAMPS + s] = 0;
    w[STAMPS] = t;
    return TRACE_MASK;
  }

  /** Stamp `stage` for a traced frame (meta has TRACE_MASK). */
  stamp(meta: number, stage: number): void {
    if ((meta & TRACE_MASK) !== 0) this.w[STAMPS + stage] = now();
  }

  /** The frame left the switch: stamp `written`, add its steps to the sums and free the trace. */
  finish(meta: number): void {
    if ((meta & TRACE_MASK) === 0) return;
    const w = this.w;
    let last = w[STAMPS];
    if (last === 0) return;
    w[STAMPS + STAGE_WRITTEN] = now();
    for (let s = 1; s < STAGES.length; s++) {
      const t = w[STAMPS + s];
      if (t === 0) continue;
      w[SUMS + 2 * s] += t - last;
      w[SUMS + 2 * s + 1]++;
      last = t;
    }
    w[STAMPS] = 0;
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
