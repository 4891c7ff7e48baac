// ReplayWindow: which datagram counters of one peer's session were seen, so a datagram
// captured and sent again is dropped (`replay`) while datagrams reordered by the network
// still pass. A sliding bitmap after RFC 6479, as WireGuard keeps per session: the newest
// counter and the REPLAY_WINDOW before it; anything older is refused.
// Peer I/O thread; one per peer, allocated when the peer is made. Never throws or allocates.

const WORDS = 64;
/** Counters this far behind the newest are still accepted once; WireGuard keeps 8192 - 64 bits, 2048 - 32 serves one peer here. */
export const REPLAY_WINDOW = WORDS * 32 - 32;
const TWO_32 = 0x1_0000_0000;
/** Counters at or past 2^53 cannot be held exactly; a sender never gets there (2^53 datagrams). */
const MAX_COUNTER = 2 ** 53 - 1;

export class ReplayWindow {
  private readonly bits = new Uint32Array(WORDS);
  /** The newest counter accepted; -1 before the first. */
  private newest = -1;

  /** Forget everything: a new session starts. */
  reset(): void {
    this.bits.fill(0);
    this.newest = -1;
  }

  /**
   * Call only for a datagram whose MAC was genuine. True (and the counter is remembered)
   * when it was not seen before and is not older than the window; false for a replay.
   */
  accept(hi: number, lo: number): boolean {
    const c = hi * TWO_32 + lo;
    if (c > MAX_COUNTER) return false;
    const bits = this.bits;
    if (c > this.newest) {
      const from = this.newest < 0 ? -1 : Math.floor(this.newest / 32);
      const to = Math.floor(c / 32);
      // Clear the words the window slides over (all of them after a long jump).
      const n = Math.min(to - from, WORDS);
      for (let i = 1; i <= n; i++) bits[(to - n + i) % WORDS] = 0;
      this.newest = c;
    } else if (this.newest - c >= REPLAY_WINDOW) {
      return false;
    }
    const word = Math.floor(c / 32) % WORDS;
    const bit = 1 << (c % 32);
    if ((bits[word] & bit) !== 0) return false;
    bits[word] |= bit;
    return true;
  }
}
