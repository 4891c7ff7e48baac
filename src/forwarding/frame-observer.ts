// FrameObserver: what a forwarding thread does for the captures and mirrors watching one
// of its VLANs. The VLAN's engine (src/forwarding/vlan-engine.ts) hands it each frame it
// takes in and each copy it queues out, while any capture or mirror watches the VLAN;
// without one the engine holds no observer and tests a null field per frame, nothing
// more. A capture's copies go to its capture ring (consumed by main, which writes pcap:
// src/capture/captures.ts); a mirror's go to its ring toward the monitoring TAP's
// I/O thread (src/capture/mirrors.ts). Runs on the forwarding thread of the VLAN.
//
// Thread safety: this thread is the single producer of every ring here. A full ring drops
// the copy and counts it in the ring's header (capture-full, mirror-full): a slow reader
// loses copies, never the switch's own frames. Nothing here throws or allocates per frame.
//
// A capture record, as the capture ring carries it (META: the VLAN and the port, as any
// ring record's, src/core/ring-record.ts):
//
// | byte | size | field                                                      |
// |------|------|------------------------------------------------------------|
// | 0    | 16   | the pcap record header: seconds, microseconds, length twice |
// | 16   | 4    | direction: CAPTURE_IN (the port took it in) or CAPTURE_OUT   |
// | 20   | ..   | the Ethernet frame, without any virtio_net_hdr              |

import type { Ring } from '../core/ring.js';
import { VNET_HDR_LEN, ZERO_VNET_HDR, ringMeta } from '../core/ring-record.js';

/** The frame came into the switch through the port. */
export const CAPTURE_IN = 0;
/** The switch sent the frame out of the port. */
export const CAPTURE_OUT = 1;
/** Bytes before the frame in a capture record. */
export const CAPTURE_PREFIX = 20;
/** Byte of the direction word in a capture record. */
export const CAPTURE_DIR_AT = 16;

/** What one capture or mirror watches, as the forwarding thread is told it. */
export interface WatchSpec {
  /** The capture's or mirror's id, unique in the switch. */
  id: number;
  /** The port watched, or 0 for every frame the VLAN takes in. */
  portId: number;
  /** The ring the copies go to. */
  ring: Ring;
  /** A mirror (copies with a virtio_net_hdr for a TAP) rather than a capture (pcap records). */
  mirror: boolean;
  /** A port whose frames are not copied: a mirror's monitoring TAP, when it is in the VLAN. */
  skipPort: number;
  /** The ring meta of a mirror's copies (its monitoring TAP's port, with the vnet bit). */
  meta: number;
}

export class FrameObserver {
  private vlanWatches: WatchSpec[] = [];
  private portWatches: WatchSpec[] = [];
  /** The capture record prefix, rewritten per copy. */
  private readonly prefix = Buffer.alloc(CAPTURE_PREFIX);

  constructor(readonly vid: number) {}

  get empty(): boolean {
    return this.vlanWatches.length === 0 && this.portWatches.length === 0;
  }

  /** Start a watch; one with the same id is replaced (a restarted thread is told it again). */
  add(w: WatchSpec): void {
    this.remove(w.id);
    if (w.portId === 0) this.vlanWatches = [...this.vlanWatches, w];
    else this.portWatches = [...this.portWatches, w];
  }

  remove(id: number): void {
    this.vlanWatches = this.vlanWatches.filter((w) => w.id !== id);
    this.portWatches = this.portWatches.filter((w) => w.id !== id);
  }

  /** The engine took in a frame on port `inId` (a record of `len` bytes, `hdr` of them a virtio_net_hdr). */
  rx(inId: number, buf: Buffer, off: number, len: number, hdr: number): void {
    const v = this.vlanWatches;
    for (let i = 0; i < v.length; i++) if (v[i].skipPort !== inId) this.copy(v[i], inId, CAPTURE_IN, buf, off, len, hdr);
    const p = this.portWatches;
    for (let i = 0; i < p.length; i++) if (p[i].portId === inId) this.copy(p[i], inId, CAPTURE_IN, buf, off, len, hdr);
  }

  /** The engine queued a copy of a frame for port `outId`. */
  tx(outId: number, buf: Buffer, off: number, len: number, hdr: number): void {
    const p = this.portWatches;
    for (let i = 0; i < p.length; i++) if (p[i].portId === outId) this.copy(p[i], outId, CAPTURE_OUT, buf, off, len, hdr);
  }

  private copy(w: WatchSpec, port: number, dir: number, buf: Buffer, off: number, len: number, hdr: number): void {
    if (w.mirror) {
      // The monitoring TAP takes records with a virtio_net_hdr: the frame's own, or zeros.
      if (hdr !== 0) w.ring.write(buf, off, len, w.meta);
      else w.ring.writeWithPrefix(ZERO_VNET_HDR, VNET_HDR_LEN, buf, off, len, w.meta);
      return;
    }
    const flen = len - hdr;
    const ms = performance.timeOrigin + performance.now();
    const sec = Math.floor(ms / 1000);
    const p = this.prefix;
    p.writeUInt32LE(sec, 0);
    p.writeUInt32LE(Math.floor((ms - sec * 1000) * 1000), 4);
    p.writeUInt32LE(flen, 8);
    p.writeUInt32LE(flen, 12);
    p.writeUInt32LE(dir, CAPTURE_DIR_AT);
    w.ring.writeWithPrefix(p, CAPTURE_PREFIX, buf, off + hdr, flen, ringMeta(this.vid, port));
  }
}
