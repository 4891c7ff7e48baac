// What the main thread hands a TAP I/O thread when it starts it (workerData).
// Each TAP port has two I/O threads: `rx` reads frames from the TAP into the
// port's rx ring, `tx` writes frames from the port's tx ring to the TAP.

export interface TapIoStart {
  role: 'rx' | 'tx';
  /** The TAP's file descriptor, opened (non-blocking) by the main thread. */
  fd: number;
  name: string;
  /** rx: the ring this thread produces into; tx: the ring it consumes. */
  ringSab: SharedArrayBuffer;
  /** rx: the forwarding worker's doorbell (rung on commit); tx: unused (own doorbell below). */
  peerDoorbellSab: SharedArrayBuffer | null;
  /** This thread's own doorbell: tx sleeps on it; main bumps its CONTROL count to stop either thread. */
  doorbellSab: SharedArrayBuffer;
  /** Ring meta stamped on every frame read (vid << 16 | port id); rx only. */
  meta: number;
  maxFrame: number;
}

/** Posted to main when an I/O thread ends on its own (the TAP failed). */
export interface TapIoExit {
  type: 'tap-error';
  name: string;
  message: string;
}
