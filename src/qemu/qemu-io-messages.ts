// Messages between the main thread and a QEMU I/O thread, one typed interface each.
// Main posts on the thread's Worker port and bumps its doorbell's CONTROL count; the
// thread reads them between batches. Frames never travel here: each connection has its
// own ring pair with its VLAN's forwarding thread.

import type { PortDropName } from '../core/counters.js';
import type { TrunkMember } from '../core/trunk-demux.js';

export interface QemuIoStart {
  /** Which QEMU I/O thread this is: the one beside forwarding thread `index`. */
  index: number;
  /** The thread's own doorbell, with an eventfd attached: forwarding threads ring it after queuing frames for its connections. */
  doorbellSab: SharedArrayBuffer;
  maxFrame: number;
  /** The first connection id: a restarted thread numbers past its predecessor's, so a late message for an old connection never hits a new one. */
  firstConnId: number;
  /** The CPU to pin the thread to (its forwarding thread's), or -1. */
  cpu: number;
  /** The switch's frame trace (src/core/frame-trace.ts). */
  traceSab: SharedArrayBuffer;
  /** Its name in logs: "qemu-io:0", or "qemu-io:trunk:127.0.0.1:4000" for a trunk listener's own thread. */
  name: string;
}

// main → QEMU thread
/** Accept connections on this listening fd (made by main, which closes it). */
export interface QemuListenMsg { type: 'listen'; listenerId: number; fd: number; tcp: boolean; path: string | null }
/** Stop accepting on a listener and close its connections; answered with `unlistened`. */
export interface QemuUnlistenMsg { type: 'unlisten'; listenerId: number }
/** A connection was given a port and its ring pair: start reading and writing it. */
export interface QemuPortMsg {
  type: 'port';
  connId: number;
  portId: number;
  /** Ring meta stamped on every frame read from the connection. */
  meta: number;
  /** The ring this thread produces into (frames from the VM), and its consumer's doorbell. */
  rxSab: SharedArrayBuffer;
  fwDoorbellSab: SharedArrayBuffer;
  /** The ring this thread consumes (frames to the VM). */
  txSab: SharedArrayBuffer;
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
  /** One pair per forwarding thread of the member VLANs: rx toward it (rung on its doorbell), tx from it. */
  pairs: { rxSab: SharedArrayBuffer; fwDoorbellSab: SharedArrayBuffer; txSab: SharedArrayBuffer }[];
  /** The listener's trunk counters (src/core/trunk-counters.ts), written by this thread only. */
  countersSab: SharedArrayBuffer;
}
/** Close one connection (its listener or VLAN went away). */
export interface QemuCloseMsg { type: 'close'; connId: number }
export interface QemuStatsMsg { type: 'stats'; reqId: number }
export interface QemuStopMsg { type: 'stop' }
/** Collect garbage now: connections went, and their memory is to be given back (src/switch/memory-reclaim.ts). */
export interface QemuGcMsg { type: 'gc' }
export type QemuControl = QemuListenMsg | QemuUnlistenMsg | QemuPortMsg | QemuTrunkPortMsg | QemuCloseMsg | QemuStatsMsg | QemuStopMsg | QemuGcMsg;

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
  | { type: 'disconnected'; connId: number; portId: number; reason: string; drops?: Record<PortDropName, number>; members?: QemuConnStats[] }
  | { type: 'unlistened'; listenerId: number }
  | { type: 'stats'; reqId: number; conns: QemuConnStats[] }
  /** A line for main's log; `kind` names it for the rate limit (src/core/log-limiter.ts), since a VM or a connection flood can cause it. */
  | { type: 'log'; level: 'info' | 'warn' | 'error'; kind: string; message: string }
  | { type: 'stopped' };
