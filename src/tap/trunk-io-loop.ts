// TrunkIoLoop: both directions of one trunk TAP on one thread — a TAP whose frames carry
// 802.1Q tags and belong to several VLANs. Frames the TAP sends are read into a scratch
// buffer, their tag read and removed (src/core/trunk-demux.ts), and queued on the rx ring
// toward the forwarding thread of their VLAN with the port the trunk has in it; untagged
// and priority-tagged frames belong to the native VLAN, if the trunk has one. Frames the
// forwarding threads queue on their tx rings get the tag of their record's vid (none for
// the native VLAN) on the way into the TAP. Anything else is dropped and counted by name
// (TRUNK_DROPS in src/core/counters.ts, src/core/trunk-counters.ts). Runs on the trunk's
// I/O thread.
//
// A trunk TAP is opened without a virtio_net_hdr, so its frames are plain and at most
// the MTU: one copy per frame each way (into the scratch buffer on the way in, into a
// second one with the tag on the way out) is what untagging and tagging cost. The
// kernel's offloaded frames would need their header's offsets moved past the tag; the
// trunk's VLANs carry plain frames instead (docs/architecture.md, "Trunk ports").
//
// Thread safety: this thread is the single producer of its rx rings and the single
// consumer of its tx rings, and the only writer of its counters. It reads main's
// messages between batches, as every I/O thread does (src/core/io-loop.ts).

import type { MessagePort } from 'node:worker_threads';
import { STAGE_PICKED, TRACE_MASK } from '../core/frame-trace.js';
import { IoLoop } from '../core/io-loop.js';
import { attachPair, type IoCommonEvent } from '../core/io-messages.js';
import { metaVid } from '../core/ring-record.js';
import type { Ring, FrameHandler } from '../core/ring.js';
import { TrunkDemux, tagInto } from '../core/trunk-demux.js';
import { VLAN_TAG_LEN } from '../core/vlan-tag.js';
import { tapRead, tapWrite } from './tap-device.js';
import type { TrunkIoStart } from './tap-io-messages.js';
import { TrunkCounters } from '../core/trunk-counters.js';

const BATCH = 64;

export class TrunkIoLoop extends IoLoop<TrunkIoStart, never, never, null> {
  protected readonly polled = 'TAP';
  private readonly rx: Ring[];
  private readonly tx: Ring[];
  private readonly txHandlers: FrameHandler[];
  private readonly counters: TrunkCounters;
  private readonly demux: TrunkDemux;
  private readonly native: number;
  private readonly inBuf: Buffer;
  private readonly outBuf: Buffer;
  /** As a TAP's thread: read only when poll() said so, after a write, or after a full batch. */
  private tapReadable = true;

  constructor(start: TrunkIoStart, control: MessagePort, emit: (e: IoCommonEvent<null>) => void) {
    super(start, control, emit);
    const pairs = start.pairs.map(attachPair);
    this.rx = pairs.map((p) => p.rx);
    this.tx = pairs.map((p) => p.tx);
    this.counters = new TrunkCounters(start.countersSab);
    this.native = start.native;
    this.demux = new TrunkDemux(start.native, start.members, this.rx, this.counters, this.trace, (m) => this.counters.rxRingFull(m));
    this.inBuf = Buffer.alloc(start.maxFrame + VLAN_TAG_LEN);
    this.outBuf = Buffer.alloc(start.maxFrame + VLAN_TAG_LEN);
    this.txHandlers = this.tx.map((ring) => this.txHandler(ring));
  }

  protected turn(): boolean {
    if (this.tapReadable) {
      const got = this.receive(this.start.fd);
      if (got < 0) {
        this.fail(`read failed (errno ${-got})`);
        return false;
      }
      this.tapReadable = got === BATCH;
    }
    let sent = 0;
    for (let i = 0; i < this.tx.length; i++) sent += this.tx[i].consume(BATCH, this.txHandlers[i]);
    if (sent > 0) this.tapReadable = true;
    return this.tapReadable;
  }

  protected pending(): boolean {
    for (let i = 0; i < this.tx.length; i++) if (!this.tx[i].isEmpty()) return true;
    return false;
  }

  protected sleep(ms: number): number {
    const r = this.bell.sleepPoll(this.start.fd, ms);
    if (r < 0) return r;
    this.tapReadable = r > 0;
    return 0;
  }

  protected handle(): void {}

  protected report(): null {
    return null;
  }

  /** Read up to BATCH frames and queue each toward its VLAN. Returns how many were read, or -errno. */
  private receive(fd: number): number {
    const buf = this.inBuf;
    let n = 0;
    let r = 0;
    for (; n < BATCH; n++) {
      r = tapRead(fd, buf, 0, buf.length);
      if (r <= 0) break;
      this.demux.push(buf, 0, r);
    }
    for (let i = 0; i < this.rx.length; i++) this.rx[i].commit();
    return r < 0 ? r : n;
  }

  /** Writes a forwarding thread's frames to the TAP, each tagged with its vid (untagged in the native VLAN). */
  private txHandler(ring: Ring): FrameHandler {
    const fd = this.start.fd;
    const out = this.outBuf;
    const trace = this.trace;
    return (buf, off, len, meta) => {
      const traced = (meta & TRACE_MASK) !== 0;
      if (traced) trace.stamp(meta, STAGE_PICKED);
      const vid = metaVid(meta);
      let ok: boolean;
      if (vid === this.native) {
        ok = tapWrite(fd, buf, off, len) === len;
      } else {
        tagInto(out, 0, buf, off, len, vid);
        ok = tapWrite(fd, out, 0, len + VLAN_TAG_LEN) === len + VLAN_TAG_LEN;
      }
      if (!ok) {
        ring.countConsumerDrop();
        const m = this.demux.member(vid);
        if (m >= 0) this.counters.tapWrite(m);
      }
      if (traced) trace.finish(meta);
    };
  }
}
