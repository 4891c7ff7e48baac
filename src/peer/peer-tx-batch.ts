// PeerTxBatch: the datagrams one turn of the peer I/O thread sends. Each frame a
// forwarding thread queued for a peer is copied once from its tx ring into a fixed slot
// behind its vid header (src/peer/wire/peer-datagram.ts), and the batch leaves in one
// sendmmsg (src/linux/mmsg.ts); what the kernel refuses is counted on its peer. A
// legacy peer (the original DiVES) gets plain frames only, and none whose datagram is
// longer than it reads. Peer I/O thread only; nothing here throws or allocates per frame.

import { PEER_DROP } from '../core/counters.js';
import { type FrameTrace, STAGE_PICKED, TRACE_MASK } from '../core/frame-trace.js';
import { VNET_HDR_LEN, metaHdrLen, metaVid } from '../core/ring-record.js';
import { MmsgBatch, type SendCounts } from '../linux/mmsg.js';
import type { PeerRec } from './peer-record.js';
import { LEGACY_MAX_DATAGRAM, PEER_HDR_LEN, writePeerHeader } from './wire/peer-datagram.js';
import { SEAL_NO_SESSION, type PeerSeal } from './peer-seal.js';

const D_OFFLOAD = PEER_DROP.offload;
const D_TOO_BIG = PEER_DROP['too-big'];
const D_QUEUE_FULL = PEER_DROP['queue-full'];
const D_SEND_ERROR = PEER_DROP['send-error'];
const D_LEGACY_TOO_BIG = PEER_DROP['legacy-too-big'];
const D_NO_SESSION = PEER_DROP['no-session'];

export class PeerTxBatch implements SendCounts {
  private readonly tx: MmsgBatch;
  /** The peer of each slot filled so far. */
  private readonly peer: (PeerRec | undefined)[];
  /** 1 where the slot holds an offloaded frame (PEER_F_VNET). */
  private readonly offloaded: Uint8Array;
  /** The ring meta of each slot's frame, for `debug trace`. */
  private readonly meta: Int32Array;
  /** Each slot past the sealed header: where the unsealed datagram goes when keyed. */
  private readonly bodies: Buffer[];
  /** Where the vid word goes in a slot, and the bytes sealing adds: 0 without a key. */
  private readonly at: number;
  private readonly overhead: number;
  /** Slots filled so far. */
  count = 0;

  constructor(
    readonly slots: number,
    /** The largest UDP payload of the socket's family. */
    private readonly maxPayload: number,
    private readonly trace: FrameTrace,
    /** With a cluster key, every datagram is sealed (src/peer/peer-seal.ts); null: the original format. */
    private readonly sealer: PeerSeal | null = null,
  ) {
    this.tx = new MmsgBatch(slots, maxPayload);
    this.bodies = sealer === null ? [] : sealer.bodies(this.tx.slot);
    this.at = sealer === null ? 0 : sealer.payloadAt;
    this.overhead = sealer === null ? 0 : sealer.overhead;
    this.peer = new Array<PeerRec | undefined>(slots);
    this.offloaded = new Uint8Array(slots);
    this.meta = new Int32Array(slots);
  }

  /** Room for this many more frames before the batch must be sent. */
  get room(): number {
    return this.slots - this.count;
  }

  /**
   * One record from a tx ring (meta: the vid and the peer's port) into the next slot. A
   * plain frame comes bare and leaves in the original format; an offloaded one (its header
   * asks for work: a checksum, a segment to cut) comes with its virtio_net_hdr, marked
   * META_VNET (the engine's 'offloaded' ports, src/forwarding/vlan-engine.ts), and keeps
   * it behind PEER_F_VNET if the peer takes offloaded frames on this VLAN, or is dropped
   * as `offload`. Call only while room > 0.
   */
  add(p: PeerRec, buf: Buffer, off: number, n: number, meta: number): void {
    const vid = metaVid(meta);
    const offloaded = metaHdrLen(meta) !== 0;
    // A legacy peer would read PEER_F_VNET as a vid over 4094; it never advertises, so this is belt and braces.
    if (offloaded && (p.legacy || !p.plain.takesOffload(vid))) {
      p.drops[D_OFFLOAD]++;
      return;
    }
    if (n + PEER_HDR_LEN + this.overhead > this.maxPayload) {
      p.drops[D_TOO_BIG]++;
      return;
    }
    if (p.legacy && n + PEER_HDR_LEN > LEGACY_MAX_DATAGRAM) {
      p.drops[D_LEGACY_TOO_BIG]++;
      return;
    }
    const i = this.count;
    const slot = this.tx.slot[i];
    writePeerHeader(vid, slot, this.at, offloaded);
    buf.copy(slot, this.at + PEER_HDR_LEN, off, off + n);
    const total = this.sealer === null ? PEER_HDR_LEN + n : this.sealer.sealData(p, slot, this.bodies[i], PEER_HDR_LEN + n);
    if (total < 0) {
      // Keyed: a frame goes addressed to the peer's session, so none goes before that is known.
      p.drops[total === SEAL_NO_SESSION ? D_NO_SESSION : D_SEND_ERROR]++;
      return;
    }
    this.count++;
    this.tx.prepareSend(i, total, p.at, p.sockaddr.length);
    this.peer[i] = p;
    this.offloaded[i] = offloaded ? 1 : 0;
    this.meta[i] = meta;
    if ((meta & TRACE_MASK) !== 0) this.trace.stamp(meta, STAGE_PICKED);
  }

  /** Send every filled slot on `fd`, counting what went out and what was dropped on its peer; the batch is empty after. */
  flush(fd: number): void {
    const count = this.count;
    this.count = 0;
    this.tx.sendRun(fd, 0, count, this);
    this.peer.fill(undefined, 0, count);
  }

  /** SendCounts: slot i went out. */
  sent(i: number): void {
    const p = this.peer[i] as PeerRec;
    p.framesOut++;
    if ((this.meta[i] & TRACE_MASK) !== 0) this.trace.finish(this.meta[i]);
    if (this.offloaded[i] !== 0) {
      p.offloadedOut++;
      p.bytesOut += this.tx.len(i) - this.overhead - PEER_HDR_LEN - VNET_HDR_LEN;
    } else {
      p.bytesOut += this.tx.len(i) - this.overhead - PEER_HDR_LEN;
    }
  }

  /** SendCounts: slot i was lost to a full send buffer. */
  queueFull(i: number): void {
    (this.peer[i] as PeerRec).drops[D_QUEUE_FULL]++;
  }

  /** SendCounts: the kernel refused slot i. */
  refused(i: number): void {
    (this.peer[i] as PeerRec).drops[D_SEND_ERROR]++;
  }
}
