// What the main thread hands a TAP's I/O thread when it starts it, and the one message of
// its own: the mirror rings it writes to the TAP besides its port's frames. The rest of
// the protocol is every I/O thread's (src/core/io-messages.ts). Each TAP port has one I/O
// thread for both directions (src/tap/tap-io-loop.ts); a trunk TAP's runs
// src/tap/trunk-io-loop.ts.

import type { IoStart, RingPair } from '../core/io-messages.js';
import type { TrunkMember } from '../core/trunk-demux.js';

export interface TapIoStart extends IoStart {
  /** The TAP's file descriptor, opened (non-blocking) by the main thread, which closes it. */
  fd: number;
  /** The port's ring pair with its VLAN's forwarding thread. */
  pair: RingPair;
  /** Ring meta stamped on every frame read (vid << 16 | port id, plus the vnet bit). */
  meta: number;
  /** Rings of mirrors whose monitoring port this TAP is (src/capture/mirrors.ts): more frames to write, each ring from one forwarding thread. */
  mirrorSabs: SharedArrayBuffer[];
}

/** The mirrors toward this TAP changed: write the frames of these rings too, from now on; answered with `done`. */
export interface TapMirrorsMsg { type: 'mirrors'; reqId: number; sabs: SharedArrayBuffer[] }

/** What main hands a trunk TAP's I/O thread: one ring pair per forwarding thread that runs a member VLAN, and a port per member VLAN. */
export interface TrunkIoStart extends IoStart {
  fd: number;
  /** One pair per forwarding thread of the member VLANs. */
  pairs: RingPair[];
  /** Each member VLAN: its vid, its port, and the index of its forwarding thread's pair. */
  members: TrunkMember[];
  /** The VLAN untagged frames belong to (it is a member too), or 0 for none. */
  native: number;
  /** The trunk's counters (src/core/trunk-counters.ts), written by this thread only. */
  countersSab: SharedArrayBuffer;
}
