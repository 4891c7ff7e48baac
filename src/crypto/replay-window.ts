// ReplayWindow: which datagram counters of one peer's session were seen, so a datagram
// captured and sent again is dropped (`replay`) while datagrams reordered by the network
// still pass. A sliding bitmap after RFC 6479, as WireGuard keeps per session: the newest
// counter and the REPLAY_WINDOW before it; anything older is refused.
// Peer I/O thread; one per peer. Never throws or allocates.
//
// Thread safety: its memory may be shared (src/crypto/session-state.ts keeps it in a
// SharedArrayBuffer main made, so a restarted peer thread goes on with the same window);
// only the one peer I/O thread alive at a time reads or writes it.

/** 32-bit words of bitmap. */
export const REPLAY_WORDS = 64;
/** Counters this far behind the newest are still accepted once; WireGuard keeps 8192 - 64 bits, 2048 - 32 serves one peer here. */
export const REPLAY_WINDOW = REPLAY_WORDS * 32 - 32;
const TWO_32 = 0x1_0000_0000;
/** Counters at or past 2^53 - 1 cannot be held exactly; a sender never gets there (2^53 datagrams). */
const MAX_COUNTER = 2 ** 53 - 2;

export class ReplayWindow {
  constructor(
    /** REPLAY_WORDS words of bitmap. */
    private readonly bits: Uint32Array = new Uint32Array(REPLAY_WORDS),
    /** nums[at] is the newest counter accepted plus one; 0 before the first, so zeroed memory is an empty window. */
    private readonly nums: Float64Array = new Float64Array(1),
    private readonly at = 0,
  ) {}

  /** Forget everything: a new session starts. */
  reset(): void {
    this.bits.fill(0);
    this.nums[this.at] = 0;
  }

  /**
   * Call only for a datagram whose MAC was genuine. True (and the counter is remembered)
   * when it was not seen before and is not older than the window; false for a replay.
   */
  accept(hi: number, lo: number): boolean {
    const c = hi * TWO_32 + lo;
    if (c > MAX_COUNTER) return false;
    const bits = this.bits;
    const newest = this.nums[this.at] - 1;
    if (c > newest) {
      const from = newest < 0 ? -1 : Math.floor(newest / 32);
      const to = Math.floor(c / 32);
      // Clear the words the window slides over (all of them after a long jump).
      const n = Math.min(to - from, REPLAY_WORDS);
      for (let i = 1; i <= n; i++) bits[(to - n + i) % REPLAY_WORDS] = 0;
      this.nums[this.at] = c + 1;
    } else if (newest - c >= REPLAY_WINDOW) {
      return false;
    }
    const word = Math.floor(c / 32) % REPLAY_WORDS;
    const bit = 1 << (c % 32);
    if ((bits[word] & bit) !== 0) return false;
    bits[word] |= bit;
    return true;
  }
}
