// Messages between the main thread and a QEMU I/O thread that only QEMU ports have, one
// typed interface each; the rest of the protocol (start, stop, stats, gc, log, failed) is
// every I/O thread's (src/core/io-messages.ts). Main posts on the thread's Worker port and
// bumps its doorbell's CONTROL count; the thread reads them between batches. Frames never
// travel here: each connection has its own ring pair with its VLAN's forwarding thread.

import type { PortDropName } from '../core/counters.js';
import type { IoStart, RingPair } from '../core/io-messages.js';
import type { TrunkMember } from '../core/trunk-demux.js';

export interface QemuIoStart extends IoStart {
  /** The first connection id: a restarted thread numbers past its predecessor's, so a late message for an old connection never hits a new one. */
  firstConnId: number;
}

// main → QEMU thread
/** Accept connections on this listening fd (made by main, which closes it). */
export interface QemuListenMsg { type: 'listen'; listenerId: number; fd: number; tcp: boolean; path: string | null }
/** Stop accepting on a listener and close its connections; answered with `done`. */
export interface QemuUnlistenMsg { type: 'unlisten'; reqId: number; listenerId: number }
/** A connection was given a port and its ring pair: start reading and writing it. */
export interface QemuPortMsg {
  type: 'port';
  connId: number;
  portId: number;
  /** Ring meta stamped on every frame read from the connection. */
  meta: number;
  pair: RingPair;
}
/**
 * A connection to a trunk listener was given a port in each member VLAN and a ring pair
 * with each forwarding thread of those VLANs: start reading and writing it, tagging and
 * untagging (src/core/trunk-demux.ts).
 */
export interface QemuTrunkPortMsg {
  type: 'trunk-port';
  connId: number;
  /** The VLAN of untagged frames (a member too), or 0 for none. */
  native: number;
  members: TrunkMember[];
  /** One pair per forwarding thread of the member VLANs. */
  pairs: RingPair[];
  /** The listener's trunk counters (src/core/trunk-counters.ts), written by this thread only. */
  countersSab: SharedArrayBuffer;
}
/** Close one connection (its listener or VLAN went away). */
export interface QemuCloseMsg { type: 'close'; connId: number }
export type QemuControl = QemuListenMsg | QemuUnlistenMsg | QemuPortMsg | QemuTrunkPortMsg | QemuCloseMsg;

export interface QemuConnStats {
  connId: number;
  portId: number;
  remote: string;
  framesIn: number;
  framesOut: number;
  /** The port drops this thread counts (rx-ring-full); the others are zero. */
  drops: Record<PortDropName, number>;
}

// QEMU thread → main
export type QemuEvent =
  /** A VM connected; it is not read until main sends `port`. `fd` is for main to close should this thread die. */
  | { type: 'connected'; connId: number; listenerId: number; fd: number; remote: string }
  /** The connection got its port and is now read and written. */
  | { type: 'attached'; connId: number; portId: number }
  /** The connection is closed (its fd too); `portId` -1 when it had none yet; `drops`: what this thread counted on it; `members`: on each port of a trunk connection. */
  | { type: 'disconnected'; connId: number; portId: number; reason: string; drops?: Record<PortDropName, number>; members?: QemuConnStats[] };
