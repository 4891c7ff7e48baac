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
}

/** Posted to main when the I/O thread ends on its own (the TAP failed). */
export interface TapIoExit {
  type: 'tap-error';
  name: string;
  message: string;
}
