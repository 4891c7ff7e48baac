// The protocol every I/O thread speaks with the main thread — TAP, QEMU, peer and VXLAN
// alike: what it is started with, the ring pair that joins it to a forwarding thread, and
// the messages every kind has (stop, stats, gc; done, log, failed, stopped). A kind adds
// its own messages beside these (src/<kind>/<kind>-io-messages.ts). Main posts on the
// thread's Worker port and bumps its doorbell's CONTROL count; the thread reads them
// between batches (src/core/io-loop.ts). Frames never travel here: they use the rings.

import { Doorbell } from './doorbell.js';
import { Ring } from './ring.js';

/** What every I/O thread is started with; its kind adds what it alone needs. */
export interface IoStart {
  /** Its name in logs and `show threads`: "tap-io:tap0", "qemu-io:0", "peer-io". */
  name: string;
  /** Its own doorbell, with an eventfd attached: forwarding threads ring it after queuing frames for it, main bumps CONTROL after posting. */
  doorbellSab: SharedArrayBuffer;
  maxFrame: number;
  /** The CPU it pins itself to (its forwarding thread's), or -1. */
  cpu: number;
  /** The switch's frame trace (src/core/frame-trace.ts). */
  traceSab: SharedArrayBuffer;
}

/**
 * The two rings between an I/O thread and one forwarding thread: rx, which the I/O thread
 * produces into and the forwarding thread consumes (rung on the forwarding thread's
 * doorbell), and tx the other way round (rung on the I/O thread's).
 */
export interface RingPair {
  rxSab: SharedArrayBuffer;
  rxDoorbellSab: SharedArrayBuffer;
  txSab: SharedArrayBuffer;
}

/** Main's side: the pair as it is sent to the I/O thread. */
export function ringPair(rx: Ring, fwBell: Doorbell, tx: Ring): RingPair {
  return { rxSab: rx.sab, rxDoorbellSab: fwBell.sab, txSab: tx.sab };
}

/** The I/O thread's side: the rings of a pair, the rx one ringing its consumer. */
export function attachPair(p: RingPair): { rx: Ring; tx: Ring } {
  return { rx: new Ring(p.rxSab, new Doorbell(p.rxDoorbellSab)), tx: new Ring(p.txSab) };
}

// main → I/O thread, every kind
/** Stop: close what the thread opened, post `stopped` and end. */
export interface IoStopMsg { type: 'stop' }
/** Post the thread's counters (`stats` with this reqId). */
export interface IoStatsMsg { type: 'stats'; reqId: number }
/** Collect garbage now: rings went, and their memory is to be given back (src/switch/memory-reclaim.ts). */
export interface IoGcMsg { type: 'gc' }
/** The ring pair with forwarding thread `fw`, for a thread that serves every VLAN (peer, VXLAN). */
export interface IoRingsMsg { type: 'rings'; fw: number; pair: RingPair }
export type IoCommonControl = IoStopMsg | IoStatsMsg | IoGcMsg;

/** A control message of one kind's, with the ones every kind has. */
export type IoControl<C> = C | IoCommonControl;

// I/O thread → main, every kind
export type IoCommonEvent<R> =
  /** The request with this reqId has been applied. */
  | { type: 'done'; reqId: number }
  /** The answer to `stats`. */
  | { type: 'stats'; reqId: number; report: R }
  /** A line for main's log; `kind` names it for the rate limit (src/core/log-limiter.ts), since a VM, a peer or a datagram may cause it. */
  | { type: 'log'; level: 'info' | 'warn' | 'error'; kind: string; message: string }
  /** The thread stops itself on an error it cannot carry on after (its device or socket failed); it is not restarted. */
  | { type: 'failed'; message: string }
  | { type: 'stopped' };

/** An event of one kind's, with the ones every kind has. */
export type IoEvent<E, R> = E | IoCommonEvent<R>;

/** A message that asks for `done`: its body, as the requester gives it (the reqId is added). */
export type IoRequest<C> = C extends { reqId: number } ? Omit<C, 'reqId'> : never;
