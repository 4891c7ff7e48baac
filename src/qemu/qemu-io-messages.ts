// Messages between the main thread and the QEMU I/O thread (over its Worker's
// parentPort), one typed interface each. Frames never travel here: they use
// the rings named in `rings` messages.

import type { PortDropName } from '../core/counters.js';
import type { ListenSpec } from './listen-spec.js';

export interface QemuIoStart {
  /** The QEMU thread's own doorbell: forwarding threads ring it after queuing frames for QEMU ports. */
  doorbellSab: SharedArrayBuffer;
  maxFrame: number;
  /** Bytes a connection may have queued in its socket before frames to it are dropped. */
  queueLimit: number;
  /** The first connection id: a restarted thread numbers past its predecessor's, so a late message for an old connection never hits a new one. */
  firstConnId: number;
}

// main → QEMU thread
export interface QemuListenMsg { type: 'listen'; listenerId: number; vid: number; spec: ListenSpec }
export interface QemuUnlistenMsg { type: 'unlisten'; listenerId: number }
/** The ring pair between this thread and one forwarding thread. */
export interface QemuRingsMsg {
  type: 'rings';
  fw: number;
  rxSab: SharedArrayBuffer; // QEMU thread produces, forwarding thread consumes
  rxDoorbellSab: SharedArrayBuffer; // the forwarding thread's doorbell
  txSab: SharedArrayBuffer; // forwarding thread produces, QEMU thread consumes
}
/** A connection was given a port: start reading it. */
export interface QemuPortMsg { type: 'port'; connId: number; portId: number; vid: number; fw: number }
/** Close one connection (e.g. its VLAN was removed). */
export interface QemuCloseMsg { type: 'close'; connId: number }
export interface QemuStatsMsg { type: 'stats'; reqId: number }
export interface QemuStopMsg { type: 'stop' }
export type QemuControl = QemuListenMsg | QemuUnlistenMsg | QemuRingsMsg | QemuPortMsg | QemuCloseMsg | QemuStatsMsg | QemuStopMsg;

export interface QemuConnStats {
  connId: number;
  portId: number;
  remote: string;
  framesIn: number;
  framesOut: number;
  /** The port drops this thread counts (rx-ring-full, qemu-queue-full, no-ring); the others are zero. */
  drops: Record<PortDropName, number>;
}

// QEMU thread → main
export type QemuEvent =
  | { type: 'listening'; listenerId: number; address: string }
  | { type: 'listen-error'; listenerId: number; message: string }
  | { type: 'connected'; connId: number; listenerId: number; remote: string }
  /** The connection got its port and is now read and written. */
  | { type: 'attached'; connId: number; portId: number }
  | { type: 'disconnected'; connId: number; portId: number; reason: string }
  | { type: 'unlistened'; listenerId: number }
  /** `noPort`: frames queued for a port id this thread has no connection for (it just closed or is not attached yet). */
  | { type: 'stats'; reqId: number; conns: QemuConnStats[]; noPort: number }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'stopped' };
