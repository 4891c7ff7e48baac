// DiscoveryLimits: how many peers discovery may make, and how fast — anyone on the
// multicast group can announce, so 2,000 fake announcers must not become 2,000 peers,
// each with a port and a record in the peer I/O thread. A new discovered peer needs room
// under --max-peers and a token from a bucket that refills at --peer-rate a second
// (holding at most one second's worth); a refusal is counted under DISCOVERY_COUNTERS'
// peer-limit or peer-rate and logged, rate-limited. Static peers are not limited: they are
// the operator's. Used by src/peer/peering.ts; main thread, the clock passed in.

import { DISCOVERY_COUNTERS } from '../core/counters.js';
import type { LogLimiter } from '../core/log-limiter.js';

export const DEFAULT_MAX_PEERS = 256;
export const DEFAULT_PEER_RATE = 16;

const C = DISCOVERY_COUNTERS.index;

export interface DiscoveryLimitsOptions {
  /** Discovered peers at most (--max-peers). */
  maxPeers: number;
  /** New discovered peers a second at most (--peer-rate); also the burst. */
  peerRate: number;
  /** Discovery's counters (Discovery.counts), where refusals are counted. */
  counts: Float64Array;
  lines: LogLimiter;
}

export class DiscoveryLimits {
  private tokens: number;
  private refilledAt = -Infinity;

  constructor(private readonly opts: DiscoveryLimitsOptions) {
    this.tokens = opts.peerRate;
  }

  /**
   * May `key` (announced from `source`) become a new discovered peer now, with
   * `discovered` of them already (names being resolved included)? Takes a token when it
   * may; counts and logs the refusal when not.
   */
  admit(key: string, source: string, discovered: number, nowMs: number): boolean {
    const o = this.opts;
    if (discovered >= o.maxPeers) {
      o.counts[C['peer-limit']]++;
      o.lines.warn('discovery-peer-limit', `discovery: ${key} (announced from ${source}) refused: already ${discovered} discovered peers, the most --max-peers allows (counted as peer-limit)`);
      return false;
    }
    this.refill(nowMs);
    if (this.tokens < 1) {
      o.counts[C['peer-rate']]++;
      o.lines.warn('discovery-peer-rate', `discovery: ${key} (announced from ${source}) refused for now: new peers come faster than --peer-rate ${o.peerRate} a second (counted as peer-rate; its next announcement may be taken)`);
      return false;
    }
    this.tokens--;
    return true;
  }

  private refill(nowMs: number): void {
    const rate = this.opts.peerRate;
    const elapsed = nowMs - this.refilledAt;
    this.refilledAt = nowMs;
    // A clock that stepped back refills nothing rather than draining the bucket.
    if (elapsed > 0) this.tokens = Math.min(rate, this.tokens + (elapsed * rate) / 1000);
  }
}
