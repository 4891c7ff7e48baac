// What the main thread hands a TAP I/O thread when it starts it (workerData), and
// what the thread posts back. Each TAP port has one I/O thread for both directions
// (src/tap/tap-io-loop.ts).

export interface TapIoStart {
  /** The TAP's file descriptor, opened (non-blocking) by the main thread. */
  fd: number;
  name: string;
  /** The ring this thread produces into (frames read from the TAP). */
  rxSab: SharedArrayBuffer;
  /** The forwarding thread's doorbell, rung when rx frames are committed. */
  fwDoorbellSab: SharedArrayBuffer;
  /** The ring this thread consumes (frames to write to the TAP). */
  txSab: SharedArrayBuffer;
  /** This thread's own doorbell, with an eventfd attached: the forwarding thread rings it for tx frames; main bumps CONTROL to stop. */
  doorbellSab: SharedArrayBuffer;
  /** Ring meta stamped on every frame read (vid << 16 | port id, plus the vnet bit). */
  meta: number;
  maxFrame: number;
  /** The CPU of the VLAN's forwarding thread, which this thread pins itself to; -1: none. */
  cpu: number;
  /** The switch's frame trace (src/core/frame-trace.ts). */
  traceSab: SharedArrayBuffer;
  /** Rings of mirrors whose monitoring port this TAP is (src/capture/mirrors.ts): more frames to write, each ring from one forwarding thread. */
  mirrorSabs: SharedArrayBuffer[];
  /** The doorbell's CONTROL count when this incarnation was started: any other count means stop. */
  stopSeq: number;
}

/** Posted to main when the I/O thread ends on its own (the TAP failed). */
export interface TapIoExit {
  type: 'tap-error';
  name: string;
  message: string;
}

/**
 * What main hands a trunk TAP's I/O thread (src/tap/trunk-io-loop.ts): one ring pair per
 * forwarding thread that runs a member VLAN, and a port per member VLAN.
 */
export interface TrunkIoStart {
  kind: 'trunk';
  fd: number;
  name: string;
  /** One pair per forwarding thread of the member VLANs: rx toward it (rung on its doorbell), tx from it. */
  pairs: { rxSab: SharedArrayBuffer; fwDoorbellSab: SharedArrayBuffer; txSab: SharedArrayBuffer }[];
  /** Each member VLAN: its vid, its port, and the index of its forwarding thread's pair. */
  members: { vid: number; portId: number; pair: number }[];
  /** The VLAN untagged frames belong to (it is a member too), or 0 for none. */
  native: number;
  /** The trunk's counters (src/core/trunk-counters.ts), written by this thread only. */
  countersSab: SharedArrayBuffer;
  /** This thread's doorbell, with an eventfd attached: forwarding threads ring it for tx frames; main bumps CONTROL to stop. */
  doorbellSab: SharedArrayBuffer;
  maxFrame: number;
  /** The CPU to pin to (when every member VLAN runs on one forwarding thread), or -1. */
  cpu: number;
  traceSab: SharedArrayBuffer;
  /** The doorbell's CONTROL count when this incarnation was started: any other count means stop. */
  stopSeq: number;
}
