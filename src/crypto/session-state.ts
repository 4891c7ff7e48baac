// SessionState: what a keyed switch knows of one peer's sealed datagrams — the session
// it takes them from, the newest timestamp the peer showed, and the replay window of that
// session (src/crypto/replay-window.ts); src/peer/peer-seal.ts applies the rules. Made by
// main for each known peer (src/peer/told-peer-thread.ts), used by the peer I/O thread.
//
// Thread safety: it lives in a SharedArrayBuffer main makes and keeps, so a peer thread
// that restarts takes over the window of the one that died, and a datagram it had taken
// cannot be replayed to the new one. Only the one peer I/O thread alive at a time reads or
// writes it; main only hands it on.
//
// Layout:
//
// | bytes   | view         | field                                          |
// |---------|--------------|------------------------------------------------|
// | 0..256  | u32[0..64)   | replay window bitmap                           |
// | 256     | u32[64]      | 1 once a session is known                      |
// | 260     | u32[65]      | the session's high 32 bits                     |
// | 264     | u32[66]      | the session's low 32 bits                      |
// | 272     | f64[0]       | the window's newest counter + 1 (0: none yet)  |
// | 280     | f64[1]       | the newest timestamp the peer showed (ms)      |

import { REPLAY_WORDS, ReplayWindow } from './replay-window.js';

export const SESSION_STATE_BYTES = 288;
const KNOWN = REPLAY_WORDS;
const HI = REPLAY_WORDS + 1;
const LO = REPLAY_WORDS + 2;
const F64_AT = 272;

export class SessionState {
  private readonly u32: Uint32Array;
  private readonly f64: Float64Array;
  readonly window: ReplayWindow;

  constructor(sab: SharedArrayBuffer | ArrayBuffer = new ArrayBuffer(SESSION_STATE_BYTES)) {
    this.u32 = new Uint32Array(sab, 0, REPLAY_WORDS + 4);
    this.f64 = new Float64Array(sab, F64_AT, 2);
    this.window = new ReplayWindow(this.u32.subarray(0, REPLAY_WORDS), this.f64, 0);
  }

  get known(): boolean {
    return this.u32[KNOWN] !== 0;
  }

  get hi(): number {
    return this.u32[HI];
  }

  get lo(): number {
    return this.u32[LO];
  }

  /** True when session hi:lo is the one taken. */
  is(hi: number, lo: number): boolean {
    return this.u32[KNOWN] !== 0 && this.u32[HI] === hi && this.u32[LO] === lo;
  }

  get lastTs(): number {
    return this.f64[1];
  }

  set lastTs(ts: number) {
    this.f64[1] = ts;
  }

  /** Take session hi:lo, shown fresh at ts: a new window. */
  adopt(hi: number, lo: number, ts: number): void {
    this.window.reset();
    this.u32[HI] = hi;
    this.u32[LO] = lo;
    this.u32[KNOWN] = 1;
    this.f64[1] = ts;
  }
}
