// VxlanTxBatch: the datagrams one turn of the VXLAN I/O thread sends. Each frame a
// forwarding thread queued for a VTEP port is copied once from its tx ring into a fixed
// slot behind its VXLAN header (src/vxlan/vxlan-header.ts); the slot belongs to the
// source-port socket a hash of the frame's MACs picks (src/vxlan/vxlan-sockets.ts), and
// each socket's slots leave in one sendmmsg (src/linux/mmsg.ts); what the kernel refuses
// is counted on its VTEP. VXLAN I/O thread only; nothing here throws or allocates per frame.
//
// The slots of source socket s are s * perSource .. (s + 1) * perSource - 1 of one
// MmsgBatch, so a batch fills and sends each socket's run on its own, and one flow (one
// pair of MACs) keeps one source port and its order.

import { VTEP_DROP, VXLAN_COUNTER } from '../core/counters.js';
import { isGroupAddr } from '../core/frame.js';
import { type FrameTrace, STAGE_PICKED, TRACE_MASK } from '../core/frame-trace.js';
import { MmsgBatch, type SendCounts } from '../linux/mmsg.js';
import type { VtepRec } from './vtep-table.js';
import { VXLAN_HDR_LEN, innerFlowHash, writeVxlanHeader } from './vxlan-header.js';

const D_TOO_BIG = VTEP_DROP['too-big'];
const D_QUEUE_FULL = VTEP_DROP['queue-full'];
const D_SEND_ERROR = VTEP_DROP['send-error'];
const C_OUT = VXLAN_COUNTER['datagrams-out'];
const C_FLOODED = VXLAN_COUNTER.flooded;

export class VxlanTxBatch implements SendCounts {
  private readonly tx: MmsgBatch;
  /** Slots filled so far, per source socket. */
  private readonly count: Int32Array;
  /** The VTEP of each filled slot. */
  private readonly vtep: (VtepRec | undefined)[];
  /** 1 where the slot's datagram is a flood: to a group, or a group-addressed frame to a VTEP. */
  private readonly flood: Uint8Array;
  /** The ring meta of each slot's frame, for `debug trace`. */
  private readonly meta: Int32Array;
  private readonly mask: number;
  private readonly slotBytes: number;

  constructor(
    /** The source-port sockets; their number is a power of two. */
    private readonly fds: readonly number[],
    private readonly perSource: number,
    /** The largest UDP payload of the sockets' family. */
    maxPayload: number,
    maxFrame: number,
    private readonly trace: FrameTrace,
    /** The thread's VXLAN_COUNTERS, where datagrams out and floods are counted. */
    private readonly counts: Float64Array,
  ) {
    const slots = fds.length * perSource;
    this.slotBytes = Math.min(VXLAN_HDR_LEN + maxFrame, maxPayload);
    this.tx = new MmsgBatch(slots, this.slotBytes);
    this.count = new Int32Array(fds.length);
    this.vtep = new Array<VtepRec | undefined>(slots);
    this.flood = new Uint8Array(slots);
    this.meta = new Int32Array(slots);
    this.mask = fds.length - 1;
  }

  /**
   * One frame from a tx ring for VTEP `v` of VNI `vni` into the next slot of its source
   * socket, sending that socket's slots first when they are full. The frame is plain
   * Ethernet: VTEP ports take no virtio_net_hdr, and the engine never queues an
   * offloaded frame for them.
   */
  add(v: VtepRec, vni: number, buf: Buffer, off: number, len: number, meta: number): void {
    if (VXLAN_HDR_LEN + len > this.slotBytes) {
      v.drops[D_TOO_BIG]++;
      return;
    }
    const s = innerFlowHash(buf, off) & this.mask;
    if (this.count[s] === this.perSource) this.send(s);
    const i = s * this.perSource + this.count[s]++;
    const slot = this.tx.slot[i];
    writeVxlanHeader(slot, 0, vni);
    buf.copy(slot, VXLAN_HDR_LEN, off, off + len);
    this.tx.prepareSend(i, VXLAN_HDR_LEN + len, v.at, v.sockaddr.length);
    this.vtep[i] = v;
    this.flood[i] = v.kind === 'group' || isGroupAddr(buf, off) ? 1 : 0;
    this.meta[i] = meta;
    if ((meta & TRACE_MASK) !== 0) this.trace.stamp(meta, STAGE_PICKED);
  }

  /** Send every filled slot; the batch is empty after. */
  flush(): void {
    for (let s = 0; s < this.fds.length; s++) if (this.count[s] > 0) this.send(s);
  }

  /** Send source socket s's filled slots in sendmmsg calls, counting what went out and what was dropped on its VTEP. */
  private send(s: number): void {
    const first = s * this.perSource;
    const end = first + this.count[s];
    this.count[s] = 0;
    this.tx.sendRun(this.fds[s], first, end, this);
    this.vtep.fill(undefined, first, end);
  }

  /** SendCounts: slot i went out. */
  sent(i: number): void {
    const v = this.vtep[i] as VtepRec;
    v.framesOut++;
    v.bytesOut += this.tx.len(i) - VXLAN_HDR_LEN;
    this.counts[C_OUT]++;
    if (this.flood[i] !== 0) this.counts[C_FLOODED]++;
    if ((this.meta[i] & TRACE_MASK) !== 0) this.trace.finish(this.meta[i]);
  }

  /** SendCounts: slot i was lost to a full send buffer (the underlay cannot keep up). */
  queueFull(i: number): void {
    (this.vtep[i] as VtepRec).drops[D_QUEUE_FULL]++;
  }

  /** SendCounts: the kernel refused slot i. */
  refused(i: number): void {
    (this.vtep[i] as VtepRec).drops[D_SEND_ERROR]++;
  }
}
