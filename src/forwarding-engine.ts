// VlanEngine: the forwarding decision for one VLAN — learn, lookup, forward or
// flood — over frames read in place from rx rings, written to the tx rings of
// the member ports. Runs on the forwarding worker that owns the VLAN; nothing
// here is shared with another thread except the rings it writes to.
//
// The per-frame path (forward) never throws and never allocates: it returns how
// many copies it queued and counts every frame it drops under a named reason.

import { Fdb, LEARN_FULL, type FdbOptions } from './fdb.js';
import { dstMac, isGroupAddr, srcMac, validateFrame, FRAME_OK, FRAME_RUNT, DEFAULT_MAX_FRAME } from './frame.js';
import {
  PortStats,
  DROP_GIANT,
  DROP_NO_PORT,
  DROP_RING_FULL,
  DROP_RUNT,
  DROP_SAME_PORT,
  DROP_SPLIT_HORIZON,
} from './port-stats.js';
import type { Ring } from './ring.js';

/** Ring meta: the VLAN id in the high 16 bits, the port id in the low 16. */
export function ringMeta(vid: number, port: number): number {
  return ((vid << 16) | (port & 0xffff)) | 0;
}
export function metaVid(meta: number): number {
  return (meta >>> 16) & 0xfff;
}
export function metaPort(meta: number): number {
  return meta & 0xffff;
}

export const MAX_PORT_ID = 0xffff;

/** One member port of a VLAN, as the engine sees it. */
export class EnginePort {
  readonly id: number;
  /** Frames from a peer are never sent to another peer (split horizon). */
  readonly isPeer: boolean;
  /** Where frames for this port go; the port's I/O thread consumes it. */
  readonly tx: Ring;
  /** Precomputed ring meta so the flood loop does no arithmetic. */
  readonly meta: number;
  readonly stats = new PortStats();

  constructor(vid: number, id: number, isPeer: boolean, tx: Ring) {
    this.id = id;
    this.isPeer = isPeer;
    this.tx = tx;
    this.meta = ringMeta(vid, id);
  }
}

/** The clock an engine learns and ages by; one per worker, shared by its engines, set once per batch. */
export interface EngineClock {
  nowMs: number;
}

export interface VlanEngineOptions {
  fdb?: FdbOptions;
  maxFrame?: number;
  clock?: EngineClock;
}

export interface VlanCounters {
  forwarded: number; // frames sent to one known port
  flooded: number; // frames sent to every member but the ingress
  dropped: number; // frames that left through no port
}

export class VlanEngine {
  readonly vid: number;
  readonly fdb: Fdb;
  readonly maxFrame: number;
  readonly counters: VlanCounters = { forwarded: 0, flooded: 0, dropped: 0 };
  /** The clock for learning and ageing, set by the worker once per batch. */
  readonly clock: EngineClock;
  // Members in a dense array for the flood loop, and by id for lookups. Ids are
  // small (the main thread reuses freed ids), so the sparse array stays dense.
  private members: EnginePort[] = [];
  private readonly byId: (EnginePort | undefined)[] = [];
  // The learn cache (see forward()); -1 never matches a MAC.
  private learnedMac = -1;
  private learnedPort = -1;
  private learnedAt = -1;
  /** Drops for frames whose port id is not a member (no EnginePort to count on). */
  readonly orphanStats = new PortStats();

  constructor(vid: number, opts: VlanEngineOptions = {}) {
    this.vid = vid;
    this.fdb = new Fdb(opts.fdb);
    this.maxFrame = opts.maxFrame ?? DEFAULT_MAX_FRAME;
    this.clock = opts.clock ?? { nowMs: 0 };
  }

  get nowMs(): number {
    return this.clock.nowMs;
  }

  set nowMs(ms: number) {
    this.clock.nowMs = ms;
  }

  get ports(): readonly EnginePort[] {
    return this.members;
  }

  port(id: number): EnginePort | undefined {
    return this.byId[id];
  }

  /** Make `id` a member port whose frames go to `tx`. Replaces an existing member with the same id. */
  addPort(id: number, isPeer: boolean, tx: Ring): EnginePort {
    if (this.byId[id] !== undefined) this.removePort(id);
    const p = new EnginePort(this.vid, id, isPeer, tx);
    this.byId[id] = p;
    this.members = [...this.members, p];
    return p;
  }

  /** Remove a member port and every MAC learned on it. Returns the MACs removed, or -1 if not a member. */
  removePort(id: number): number {
    if (this.byId[id] === undefined) return -1;
    this.byId[id] = undefined;
    this.members = this.members.filter((p) => p.id !== id);
    this.learnedMac = -1;
    return this.fdb.deleteByPort(id);
  }

  /** Remove every learned MAC (e.g. a peer expired). Returns how many. */
  flush(): number {
    this.learnedMac = -1;
    return this.fdb.flush();
  }

  /** Remove MACs older than the ageing time. Call about once a second. */
  age(): number {
    this.learnedMac = -1;
    return this.fdb.age(this.clock.nowMs);
  }

  /** Remove the MACs learned on one port, keeping the port (e.g. a peer restarted). */
  deleteByPort(id: number): number {
    this.learnedMac = -1;
    return this.fdb.deleteByPort(id);
  }

  /** A frame may leave through `out` when it came in through `from`. */
  shouldDeliver(from: EnginePort, out: EnginePort): boolean {
    return out !== from && !(from.isPeer && out.isPeer);
  }

  /**
   * Forward one frame that arrived on port `inId`. Stages copies on the tx
   * rings (the caller commits them after the batch). Returns the number of
   * copies queued.
   */
  forward(buf: Buffer, off: number, len: number, inId: number): number {
    const from = this.byId[inId];
    if (from === undefined) {
      this.orphanStats.drops[DROP_NO_PORT]++;
      this.counters.dropped++;
      return 0;
    }
    const st = from.stats;
    const bad = validateFrame(len, this.maxFrame);
    if (bad !== FRAME_OK) {
      st.drops[bad === FRAME_RUNT ? DROP_RUNT : DROP_GIANT]++;
      this.counters.dropped++;
      return 0;
    }
    st.rxFrames++;
    st.rxBytes += len;

    // Learn: a group address is never a station's source, so it is not learned.
    // A burst from one station learns once per clock tick: the cache below
    // remembers the last (source, port, tick) the fdb accepted, and every fdb
    // removal goes through this class and clears it.
    const now = this.clock.nowMs;
    if (!isGroupAddr(buf, off + 6)) {
      const src = srcMac(buf, off);
      if (src !== this.learnedMac || inId !== this.learnedPort || now !== this.learnedAt) {
        if (this.fdb.learn(src, inId, now) !== LEARN_FULL) {
          this.learnedMac = src;
          this.learnedPort = inId;
          this.learnedAt = now;
        }
      }
    }

    if (!isGroupAddr(buf, off)) {
      const outId = this.fdb.lookup(dstMac(buf, off), now);
      if (outId >= 0) {
        const out = this.byId[outId];
        if (out !== undefined) {
          if (out === from) {
            st.drops[DROP_SAME_PORT]++;
            this.counters.dropped++;
            return 0;
          }
          if (from.isPeer && out.isPeer) {
            st.drops[DROP_SPLIT_HORIZON]++;
            this.counters.dropped++;
            return 0;
          }
          this.counters.forwarded++;
          return this.transmit(out, buf, off, len);
        }
      }
    }
    return this.flood(from, buf, off, len);
  }

  /** Publish every frame staged on the members' tx rings; call once per batch. */
  commit(): void {
    const members = this.members;
    for (let i = 0; i < members.length; i++) members[i].tx.commit();
  }

  /** Send to every member the frame may reach: broadcast, multicast, unknown unicast. */
  private flood(from: EnginePort, buf: Buffer, off: number, len: number): number {
    const members = this.members;
    let sent = 0;
    for (let i = 0; i < members.length; i++) {
      const out = members[i];
      if (out === from || (from.isPeer && out.isPeer)) continue;
      sent += this.transmit(out, buf, off, len);
    }
    this.counters.flooded++;
    return sent;
  }

  private transmit(out: EnginePort, buf: Buffer, off: number, len: number): number {
    if (out.tx.write(buf, off, len, out.meta) === 0) {
      out.stats.drops[DROP_RING_FULL]++;
      return 0;
    }
    out.stats.txFrames++;
    out.stats.txBytes += len;
    return 1;
  }
}
