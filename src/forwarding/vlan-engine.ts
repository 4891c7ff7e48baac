// VlanEngine: the forwarding decision for one VLAN — learn, lookup, forward or
// flood — over frames read in place from rx rings, written to the tx rings of
// the member ports. Runs on the forwarding worker that owns the VLAN; nothing
// here is shared with another thread except the rings it writes to.
//
// The per-frame path (forward) never throws and never allocates: it returns how
// many copies it queued and counts every frame it drops under a named reason.

import { Fdb, LEARN_FULL, type FdbOptions } from './fdb.js';
import { dstMac, isGroupAddr, srcMac, validateFrame, FRAME_OK, FRAME_RUNT, DEFAULT_MAX_FRAME } from '../core/frame.js';
import {
  PortStats,
  DROP_GIANT,
  DROP_NO_PORT,
  DROP_OFFLOAD,
  DROP_RING_FULL,
  DROP_RUNT,
  DROP_SAME_PORT,
  DROP_SPLIT_HORIZON,
} from './port-stats.js';
import type { Ring } from '../core/ring.js';

/**
 * Ring meta: the port id in bits 0-15, the VLAN id in bits 16-27, and
 * META_VNET in bit 28 when the record starts with a 10-byte virtio_net_hdr
 * (frames from and to TAPs opened with IFF_VNET_HDR).
 */
export function ringMeta(vid: number, port: number, vnet = false): number {
  return ((vid << 16) | (port & 0xffff) | (vnet ? META_VNET : 0)) | 0;
}
export const META_VNET = 1 << 28;
export const VNET_HDR_LEN = 10;
/** virtio_net_hdr byte 0 flag: the checksum is still to be computed. */
export const VNET_F_NEEDS_CSUM = 1;
/** An offloaded TCP segment may be as long as an IP datagram can be, plus Ethernet and 802.1Q headers. */
const GSO_MAX_FRAME = 65535 + 18;
const ZERO_VNET_HDR = Buffer.alloc(VNET_HDR_LEN);
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
  /** The port's I/O thread takes records that start with a virtio_net_hdr (a vnet TAP). */
  readonly vnet: boolean;
  /** Where frames for this port go; the port's I/O thread consumes it. */
  readonly tx: Ring;
  /** Precomputed ring meta so the flood loop does no arithmetic. */
  readonly meta: number;
  readonly stats = new PortStats();

  constructor(vid: number, id: number, isPeer: boolean, tx: Ring, vnet = false) {
    this.id = id;
    this.isPeer = isPeer;
    this.vnet = vnet;
    this.tx = tx;
    this.meta = ringMeta(vid, id, vnet);
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
  addPort(id: number, isPeer: boolean, tx: Ring, vnet = false): EnginePort {
    if (this.byId[id] !== undefined) this.removePort(id);
    const p = new EnginePort(this.vid, id, isPeer, tx, vnet);
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
   * Forward one record that arrived on port `inId`: a frame, preceded by a
   * `hdr`-byte virtio_net_hdr when hdr is VNET_HDR_LEN. Stages copies on the tx
   * rings (the caller commits them after the batch). Returns the number of
   * copies queued.
   */
  forward(buf: Buffer, off: number, len: number, inId: number, hdr = 0): number {
    const from = this.byId[inId];
    if (from === undefined) {
      this.orphanStats.drops[DROP_NO_PORT]++;
      this.counters.dropped++;
      return 0;
    }
    const st = from.stats;
    const bad = validateFrame(len - hdr, hdr === 0 ? this.maxFrame : GSO_MAX_FRAME);
    if (bad !== FRAME_OK) {
      st.drops[bad === FRAME_RUNT ? DROP_RUNT : DROP_GIANT]++;
      this.counters.dropped++;
      return 0;
    }
    st.rxFrames++;
    st.rxBytes += len - hdr;
    const f = off + hdr;

    // Learn: a group address is never a station's source, so it is not learned.
    // A burst from one station learns once per clock tick: the cache below
    // remembers the last (source, port, tick) the fdb accepted, and every fdb
    // removal goes through this class and clears it.
    const now = this.clock.nowMs;
    if (!isGroupAddr(buf, f + 6)) {
      const src = srcMac(buf, f);
      if (src !== this.learnedMac || inId !== this.learnedPort || now !== this.learnedAt) {
        if (this.fdb.learn(src, inId, now) !== LEARN_FULL) {
          this.learnedMac = src;
          this.learnedPort = inId;
          this.learnedAt = now;
        }
      }
    }

    if (!isGroupAddr(buf, f)) {
      const outId = this.fdb.lookup(dstMac(buf, f), now);
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
          return this.transmit(out, buf, off, len, hdr);
        }
      }
    }
    return this.flood(from, buf, off, len, hdr);
  }

  /** Publish every frame staged on the members' tx rings; call once per batch. */
  commit(): void {
    const members = this.members;
    for (let i = 0; i < members.length; i++) members[i].tx.commit();
  }

  /** Send to every member the frame may reach: broadcast, multicast, unknown unicast. */
  private flood(from: EnginePort, buf: Buffer, off: number, len: number, hdr: number): number {
    const members = this.members;
    let sent = 0;
    for (let i = 0; i < members.length; i++) {
      const out = members[i];
      if (out === from || (from.isPeer && out.isPeer)) continue;
      sent += this.transmit(out, buf, off, len, hdr);
    }
    this.counters.flooded++;
    return sent;
  }

  /**
   * Stage one copy for `out`. A vnet port gets a virtio_net_hdr first (the
   * frame's own, or zeros for a plain frame); a plain port gets the bare frame,
   * and an offloaded frame it could not take is dropped and counted.
   */
  private transmit(out: EnginePort, buf: Buffer, off: number, len: number, hdr: number): number {
    let ok: number;
    if (out.vnet) {
      ok = hdr !== 0 ? out.tx.write(buf, off, len, out.meta) : out.tx.writeWithPrefix(ZERO_VNET_HDR, VNET_HDR_LEN, buf, off, len, out.meta);
    } else if (hdr !== 0) {
      if ((buf[off] & VNET_F_NEEDS_CSUM) !== 0 || buf[off + 1] !== 0) {
        out.stats.drops[DROP_OFFLOAD]++;
        return 0;
      }
      ok = out.tx.write(buf, off + hdr, len - hdr, out.meta);
    } else {
      ok = out.tx.write(buf, off, len, out.meta);
    }
    if (ok === 0) {
      out.stats.drops[DROP_RING_FULL]++;
      return 0;
    }
    out.stats.txFrames++;
    out.stats.txBytes += len - hdr;
    return 1;
  }
}
