// TrunkDemux: the per-frame tag work of an 802.1Q trunk, shared by a trunk TAP's I/O
// thread (src/tap/trunk-io-loop.ts) and a QEMU I/O thread serving trunk connections
// (src/qemu/qemu-conn.ts). A frame from the trunk has its tag read and removed
// (src/core/vlan-tag.ts) and is queued on the rx ring toward its VLAN's forwarding thread
// with the trunk's port in that VLAN; untagged and priority-tagged frames belong to the
// native VLAN, if there is one. tagInto() puts a frame's tag back on the way out. Runs on
// the trunk's I/O thread, per frame: it neither throws nor allocates, and counts every
// frame no member takes under TRUNK_DROPS (src/core/counters.ts).
//
// Thread safety: one instance per trunk (or per trunk connection), used by the one thread
// that produces into its rx rings and writes its counters.

import { TRUNK_DROP } from './counters.js';
import type { FrameTrace } from './frame-trace.js';
import { ringMeta } from './ring-record.js';
import type { Ring } from './ring.js';
import type { TrunkCounters } from './trunk-counters.js';
import { TAG_OFFSET, VLAN_TAG_LEN, isTpid, writeTag } from './vlan-tag.js';

const D_UNTAGGED = TRUNK_DROP.untagged;
const D_UNLISTED = TRUNK_DROP['unlisted-vid'];
const D_DOUBLE = TRUNK_DROP['double-tag'];
const D_BAD = TRUNK_DROP['bad-tag'];

/** A member VLAN of a trunk: its vid, the trunk's port in it, and which ring pair (forwarding thread) serves it. */
export interface TrunkMember {
  vid: number;
  portId: number;
  pair: number;
}

export class TrunkDemux {
  /** vid → index into members, or -1. */
  private readonly memberOf = new Int16Array(4096).fill(-1);
  /** Per member: its rx ring and the meta its frames are queued with. */
  private readonly memberRx: Ring[];
  private readonly memberMeta: Int32Array;

  constructor(
    /** The VLAN of untagged frames (a member too), or 0 for none. */
    readonly native: number,
    members: readonly TrunkMember[],
    /** One rx ring per pair, as members[].pair indexes them. */
    rx: readonly Ring[],
    private readonly counters: TrunkCounters,
    private readonly trace: FrameTrace,
    /** Counts a frame of member `m` its rx ring had no room for. */
    private readonly ringFull: (m: number) => void,
  ) {
    members.forEach((m, i) => (this.memberOf[m.vid] = i));
    this.memberRx = members.map((m) => rx[m.pair]);
    this.memberMeta = Int32Array.from(members.map((m) => ringMeta(m.vid, m.portId)));
  }

  /** The member index of `vid`, or -1. */
  member(vid: number): number {
    return this.memberOf[vid];
  }

  /**
   * One frame from the trunk, buf[off, off + len): untag it and stage it on its member's rx
   * ring (the caller commits), or drop and count it. Returns the member index when queued, else -1.
   */
  push(buf: Buffer, off: number, len: number): number {
    const t = off + TAG_OFFSET;
    let vid = this.native;
    let tagged = false;
    if (len >= TAG_OFFSET + 2 && isTpid(buf, t)) {
      // Only a customer tag (0x8100) is taken; an outer service tag is not ours to strip.
      if (buf[t] !== 0x81 || buf[t + 1] !== 0x00 || len < TAG_OFFSET + VLAN_TAG_LEN + 2) return this.drop(D_BAD);
      const tagVid = ((buf[t + 2] & 0x0f) << 8) | buf[t + 3];
      if (tagVid === 4095) return this.drop(D_BAD);
      if (isTpid(buf, t + VLAN_TAG_LEN)) return this.drop(D_DOUBLE);
      // vid 0 is a priority tag: the frame is the native VLAN's, as an untagged one.
      if (tagVid !== 0) vid = tagVid;
      tagged = true;
    }
    if (vid === 0) return this.drop(D_UNTAGGED);
    const m = this.memberOf[vid];
    if (m < 0) return this.drop(D_UNLISTED);
    const meta = this.memberMeta[m] | this.trace.begin();
    const ring = this.memberRx[m];
    const ok = tagged
      ? ring.writeWithPrefix(buf, TAG_OFFSET, buf, t + VLAN_TAG_LEN, len - TAG_OFFSET - VLAN_TAG_LEN, meta, off)
      : ring.write(buf, off, len, meta);
    if (ok === 0) {
      this.ringFull(m);
      return -1;
    }
    return m;
  }

  private drop(index: number): number {
    this.counters.drop(index);
    return -1;
  }
}

/** Copy buf[off, off + len) to out[at, at + len + 4) with an 802.1Q tag for `vid` after the MACs. */
export function tagInto(out: Buffer, at: number, buf: Buffer, off: number, len: number, vid: number): void {
  buf.copy(out, at, off, off + TAG_OFFSET);
  writeTag(out, at + TAG_OFFSET, vid);
  buf.copy(out, at + TAG_OFFSET + VLAN_TAG_LEN, off + TAG_OFFSET, off + len);
}
