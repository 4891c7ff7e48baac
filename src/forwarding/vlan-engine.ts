// VlanEngine: the forwarding decision for one VLAN — learn, lookup, forward or
// flood — over frames read in place from rx rings, written to the tx rings of
// the member ports. Runs on the forwarding thread that owns the VLAN; nothing
// here is shared with another thread except the rings it writes to.
//
// The per-frame path (forward) never throws and never allocates: it returns how
// many copies it queued and counts every frame it drops under a named reason.
//
// The VLAN's port limits (src/forwarding/port-limits.ts) apply per local ingress port (a
// peer carries a whole host's VMs, whose own switch limits them): a frame
// from a new source MAC of a port that has mac-limit MACs learned is dropped, and a frame
// to be flooded past the port's storm-control rate for its class is dropped, each counted
// on that port — the other ports' frames are untouched.

import { Fdb, LEARN_FULL, LEARN_MOVED, type FdbOptions } from './fdb.js';
import type { MacMoveLog } from './mac-moves.js';
import { dstMac, isBroadcastAddr, isGroupAddr, srcMac, validateFrame, FRAME_OK, FRAME_RUNT, DEFAULT_MAX_FRAME } from '../core/frame.js';
import { PORT_DROP, VLAN_COUNTER, VLAN_COUNTERS } from '../core/counters.js';
import { PortStats } from './port-stats.js';
import type { Ring } from '../core/ring.js';
import { STORM_BROADCAST, STORM_MULTICAST, STORM_UNKNOWN, StormMeter, type PortLimits } from './port-limits.js';
import { GSO_MAX_FRAME, META_VNET, VNET_HDR_LEN, ZERO_VNET_HDR, ringMeta, vnetAsksWork } from '../core/ring-record.js';
import type { FrameObserver } from './frame-observer.js';

const D_RUNT = PORT_DROP.runt;
const D_GIANT = PORT_DROP.giant;
const D_SAME_PORT = PORT_DROP['same-port'];
const D_SPLIT_HORIZON = PORT_DROP['split-horizon'];
const D_RING_FULL = PORT_DROP['ring-full'];
const D_OFFLOAD = PORT_DROP.offload;
const D_MAC_LIMIT = PORT_DROP['mac-limit'];
/** The drop of each storm class, indexed by STORM_BROADCAST, STORM_MULTICAST, STORM_UNKNOWN. */
const D_STORM = [PORT_DROP['storm-broadcast'], PORT_DROP['storm-multicast'], PORT_DROP['storm-unknown']];
const V_FORWARDED = VLAN_COUNTER.forwarded;
const V_FLOODED = VLAN_COUNTER.flooded;
const V_DROPPED = VLAN_COUNTER.dropped;
const V_NO_PORT = VLAN_COUNTER['no-port'];
const V_LEFT_PORT_DROPS = VLAN_COUNTER['left-port-drops'];
const V_MAC_FLAPS = VLAN_COUNTER['mac-flaps'];

/**
 * What the records a port's I/O thread takes start with: always a virtio_net_hdr (a vnet
 * TAP: true), never (a VM, a VTEP, a trunk: false; an offloaded frame is dropped), or only
 * an offloaded frame's own, marked META_VNET in its meta ('offloaded': a peer, whose
 * datagrams carry a header only when the frame needs one).
 */
export type VnetMode = boolean | 'offloaded';
const VNET_NEVER = 0;
const VNET_ALWAYS = 1;
const VNET_OFFLOADED = 2;

/** One member port of a VLAN, as the engine sees it. */
export class EnginePort {
  readonly id: number;
  /** Frames from a peer (a DiVES switch, a VXLAN VTEP) are never sent to another peer (split horizon). */
  readonly isPeer: boolean;
  /** Flooded frames reach it; false for a port that takes only unicast learned on it (a VTEP learned on a group). */
  readonly floods: boolean;
  /** VNET_ALWAYS, VNET_NEVER or VNET_OFFLOADED: when its records start with a virtio_net_hdr (VnetMode). */
  readonly vnet: number;
  /** Where frames for this port go; the port's I/O thread consumes it. */
  readonly tx: Ring;
  /** Precomputed ring meta so the flood loop does no arithmetic. */
  readonly meta: number;
  readonly stats = new PortStats();
  /** What the port has flooded lately, against the VLAN's storm-control rates. */
  readonly meter: StormMeter;

  constructor(vid: number, id: number, isPeer: boolean, tx: Ring, vnet: VnetMode = false, nowMs = 0, floods = true) {
    this.meter = new StormMeter(nowMs);
    this.id = id;
    this.isPeer = isPeer;
    this.floods = floods;
    this.vnet = vnet === 'offloaded' ? VNET_OFFLOADED : vnet ? VNET_ALWAYS : VNET_NEVER;
    this.tx = tx;
    this.meta = ringMeta(vid, id, vnet === true);
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
  /** Where MAC moves are recorded for main's events (one per forwarding thread); none: not reported. */
  moves?: MacMoveLog;
}

/** A frame that came in through `from` may leave through `out`: not back out its own port, never from a peer to a peer (split horizon). */
export function shouldDeliver(from: EnginePort, out: EnginePort): boolean {
  return out !== from && !(from.isPeer && out.isPeer);
}

export class VlanEngine {
  readonly vid: number;
  readonly fdb: Fdb;
  readonly maxFrame: number;
  /**
   * Indexed by VLAN_COUNTER. The engine counts forwarded, flooded, dropped and no-port;
   * counts() fills in the fdb's own counters when `show vlans` asks.
   */
  private readonly counters = VLAN_COUNTERS.create();
  /** The clock for learning and ageing, set by the forwarding thread once per batch. */
  readonly clock: EngineClock;
  // Members in a dense array for the flood loop, and by id for lookups. Ids are
  // small (the main thread reuses freed ids), so the sparse array stays dense.
  private members: EnginePort[] = [];
  private readonly byId: (EnginePort | undefined)[] = [];
  // The learn cache (see forward()); -1 never matches a MAC.
  private learnedMac = -1;
  private learnedPort = -1;
  private learnedAt = -1;
  /** The port limits: frames/s per storm class (0: off), and MACs per port (0: off). */
  private readonly storm = new Float64Array(3);
  private macLimit = 0;
  private readonly moves: MacMoveLog | null;
  /**
   * The captures and mirrors watching this VLAN (src/forwarding/frame-observer.ts), or null:
   * without one, a frame costs a test of this field on the way in and per copy out.
   */
  observer: FrameObserver | null = null;

  constructor(vid: number, opts: VlanEngineOptions = {}) {
    this.vid = vid;
    this.fdb = new Fdb(opts.fdb);
    this.maxFrame = opts.maxFrame ?? DEFAULT_MAX_FRAME;
    this.clock = opts.clock ?? { nowMs: 0 };
    this.moves = opts.moves ?? null;
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
  addPort(id: number, isPeer: boolean, tx: Ring, vnet: VnetMode = false, floods = true): EnginePort {
    if (this.byId[id] !== undefined) this.removePort(id);
    const p = new EnginePort(this.vid, id, isPeer, tx, vnet, this.clock.nowMs, floods);
    this.fdb.trackPort(id);
    this.byId[id] = p;
    this.members = [...this.members, p];
    return p;
  }

  /**
   * Remove a member port and every MAC learned on it; its drops are added to the VLAN's
   * left-port-drops. Returns the port's last counters, or undefined if not a member.
   */
  removePort(id: number): PortStats | undefined {
    const p = this.byId[id];
    if (p === undefined) return undefined;
    this.byId[id] = undefined;
    this.members = this.members.filter((m) => m !== p);
    this.learnedMac = -1;
    this.fdb.deleteByPort(id);
    let drops = 0;
    for (const n of p.stats.drops) drops += n;
    this.counters[V_LEFT_PORT_DROPS] += drops;
    return p.stats;
  }

  /** Apply the VLAN's port limits (`storm-control`, `mac-limit`); from the next frame on. */
  setLimits(l: PortLimits): void {
    this.storm.set(l.storm);
    this.macLimit = l.macLimit;
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

  /** The VLAN's counters, indexed by VLAN_COUNTER, with the fdb's filled in; for `show vlans`. */
  counts(): Float64Array {
    const out = this.counters.slice();
    const c = this.fdb.counters;
    out[VLAN_COUNTER.learned] = c.learned;
    out[VLAN_COUNTER.moved] = c.moved;
    out[VLAN_COUNTER['fdb-full']] = c.full;
    out[VLAN_COUNTER.aged] = c.aged;
    out[VLAN_COUNTER.flushed] = c.flushed;
    out[VLAN_COUNTER.deleted] = c.deleted;
    return out;
  }

  /**
   * Forward one record that arrived on port `inId`: a frame, preceded by a
   * `hdr`-byte virtio_net_hdr when hdr is VNET_HDR_LEN. Stages copies on the tx
   * rings (the caller commits them after the batch), their meta carrying `trace`
   * (the frame's trace bits, src/core/frame-trace.ts). Returns the number of copies queued.
   */
  forward(buf: Buffer, off: number, len: number, inId: number, hdr = 0, trace = 0): number {
    const from = this.byId[inId];
    if (from === undefined) {
      this.counters[V_NO_PORT]++;
      this.counters[V_DROPPED]++;
      return 0;
    }
    const st = from.stats;
    const bad = validateFrame(len - hdr, hdr === 0 ? this.maxFrame : GSO_MAX_FRAME);
    if (bad !== FRAME_OK) {
      st.drops[bad === FRAME_RUNT ? D_RUNT : D_GIANT]++;
      this.counters[V_DROPPED]++;
      return 0;
    }
    st.rxFrames++;
    st.rxBytes += len - hdr;
    if (this.observer !== null) this.observer.rx(inId, buf, off, len, hdr);
    const f = off + hdr;

    // Learn: a group address is never a station's source, so it is not learned.
    // A burst from one station learns once per clock tick: the cache below
    // remembers the last (source, port, tick) the fdb accepted, and every fdb
    // removal goes through this class and clears it.
    const now = this.clock.nowMs;
    if (!isGroupAddr(buf, f + 6)) {
      const src = srcMac(buf, f);
      if (src !== this.learnedMac || inId !== this.learnedPort || now !== this.learnedAt) {
        // A new MAC for a port at its mac-limit: the frame goes no further.
        if (this.macLimit > 0 && !from.isPeer && this.fdb.portCount(inId) >= this.macLimit && this.fdb.lookup(src, now) !== inId) {
          st.drops[D_MAC_LIMIT]++;
          this.counters[V_DROPPED]++;
          return 0;
        }
        const learned = this.fdb.learn(src, inId, now);
        if (learned !== LEARN_FULL) {
          this.learnedMac = src;
          this.learnedPort = inId;
          this.learnedAt = now;
        }
        // A move is rare (a VM migrated, a loop): recorded for main, a flap counted once.
        if (learned === LEARN_MOVED && this.moves !== null && this.moves.record(this.vid, src, this.fdb.movedFrom, inId)) this.counters[V_MAC_FLAPS]++;
      }
    }

    let storm = STORM_UNKNOWN;
    if (isGroupAddr(buf, f)) {
      storm = isBroadcastAddr(buf, f) ? STORM_BROADCAST : STORM_MULTICAST;
    } else {
      const outId = this.fdb.lookup(dstMac(buf, f), now);
      if (outId >= 0) {
        const out = this.byId[outId];
        if (out !== undefined) {
          if (!shouldDeliver(from, out)) {
            st.drops[out === from ? D_SAME_PORT : D_SPLIT_HORIZON]++;
            this.counters[V_DROPPED]++;
            return 0;
          }
          this.counters[V_FORWARDED]++;
          return this.transmit(out, buf, off, len, hdr, trace);
        }
      }
    }
    const rate = this.storm[storm];
    if (rate > 0 && !from.isPeer && !from.meter.take(storm, rate, now)) {
      st.drops[D_STORM[storm]]++;
      this.counters[V_DROPPED]++;
      return 0;
    }
    return this.flood(from, buf, off, len, hdr, trace);
  }

  /** Send to every member the frame may reach that takes floods: broadcast, multicast, unknown unicast. */
  private flood(from: EnginePort, buf: Buffer, off: number, len: number, hdr: number, trace: number): number {
    const members = this.members;
    let sent = 0;
    for (let i = 0; i < members.length; i++) {
      const out = members[i];
      if (out.floods && shouldDeliver(from, out)) sent += this.transmit(out, buf, off, len, hdr, trace);
    }
    this.counters[V_FLOODED]++;
    return sent;
  }

  /**
   * Stage one copy for `out`. A vnet port gets a virtio_net_hdr first (the frame's own,
   * or zeros for a plain frame); any other port gets the bare frame, but a peer keeps an
   * offloaded frame's header (marked META_VNET), and any other port that cannot take an
   * offloaded frame drops it, counted. A header that asks for nothing is left off.
   */
  private transmit(out: EnginePort, buf: Buffer, off: number, len: number, hdr: number, trace: number): number {
    let ok: number;
    const meta = out.meta | trace;
    if (out.vnet === VNET_ALWAYS) {
      ok = hdr !== 0 ? out.tx.write(buf, off, len, meta) : out.tx.writeWithPrefix(ZERO_VNET_HDR, VNET_HDR_LEN, buf, off, len, meta);
    } else if (hdr !== 0) {
      if (!vnetAsksWork(buf, off)) {
        ok = out.tx.write(buf, off + hdr, len - hdr, meta);
      } else if (out.vnet === VNET_OFFLOADED) {
        ok = out.tx.write(buf, off, len, meta | META_VNET);
      } else {
        out.stats.drops[D_OFFLOAD]++;
        return 0;
      }
    } else {
      ok = out.tx.write(buf, off, len, meta);
    }
    if (ok === 0) {
      out.stats.drops[D_RING_FULL]++;
      return 0;
    }
    out.stats.txFrames++;
    out.stats.txBytes += len - hdr;
    if (this.observer !== null) this.observer.tx(out.id, buf, off, len, hdr);
    return 1;
  }
}
