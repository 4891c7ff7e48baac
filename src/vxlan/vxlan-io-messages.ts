// Messages between the main thread and the VXLAN I/O thread that only VTEPs have, one
// typed interface each; the rest of the protocol (start, rings, stop, stats, gc, done,
// log, failed) is every I/O thread's (src/core/io-messages.ts). Frames never travel here:
// they use the rings named in `rings` messages. The counter names are VXLAN_COUNTERS and
// VTEP_DROPS (src/core/counters.ts).

import type { VTEP_DROPS, VXLAN_COUNTERS } from '../core/counters.js';
import type { IoRingsMsg, IoStart } from '../core/io-messages.js';
import type { UdpFamily } from '../linux/udp-socket.js';

export interface VxlanIoStart extends IoStart {
  family: UdpFamily;
  /**
   * The sockets main bound (src/vxlan/vxlan-sockets.ts), non-blocking: the one on the VXLAN
   * port first, then the source-port pool datagrams are sent from. Main closes them.
   */
  fds: number[];
  /** The VXLAN port: where a VTEP learned by address takes datagrams. */
  port: number;
  /** Seconds a learned VTEP may stay silent before main is told to remove it (the ageing time). */
  ageingSeconds: number;
  /** Learned VTEPs at most (--vxlan-max-vteps). */
  maxVteps: number;
}

/** How a VLAN learns VTEPs it has not been told about: not at all (no group), by address, or by address and source port (vxvde). */
export type VtepLearning = 'none' | 'address' | 'source-port';
/** How a VTEP came to be: configured (`vxlan remote`), a group (`vxlan group`), or learned from a datagram on a VLAN with a group. */
export type VtepKind = 'static' | 'group' | 'learned';

// main → VXLAN thread
/** VLAN `vid` is carried as `vni` by forwarding thread `fw`, learning VTEPs as said; vni -1: it no longer is. */
export interface VxlanVlanMsg { type: 'vlan'; reqId: number; vid: number; vni: number; fw: number; learning: VtepLearning }
/** A VTEP of VLAN `vid` and its port: datagrams to it go to address:port; a static one is recognised by its address alone. */
export interface VxlanVtepMsg { type: 'vtep'; reqId: number; vtepId: number; vid: number; kind: VtepKind; address: string; port: number; portId: number }
/** Forget a VTEP (its port is about to go). */
export interface VxlanUnvtepMsg { type: 'unvtep'; reqId: number; vtepId: number }
/** Main did not make a port of a VTEP it was told about (`heard`): the thread keeps carrying its frames as the group's until it falls silent. */
export interface VxlanRefusedMsg { type: 'refused'; vid: number; address: string; port: number }
export type VxlanControl = IoRingsMsg | VxlanVlanMsg | VxlanVtepMsg | VxlanUnvtepMsg | VxlanRefusedMsg;

export interface VtepIoStats {
  vtepId: number;
  framesIn: number;
  bytesIn: number;
  framesOut: number;
  bytesOut: number;
  /** Seconds since a datagram last came from it; null when none has. */
  heardSeconds: number | null;
  /** Every drop the VXLAN thread counts for a VTEP (VTEP_DROPS), zeros included. */
  drops: Record<(typeof VTEP_DROPS.names)[number], number>;
}

export interface VxlanIoReport {
  vteps: VtepIoStats[];
  counters: Record<(typeof VXLAN_COUNTERS.names)[number], number>;
  /** The drops of every VTEP, departed ones included, summed. */
  drops: Record<(typeof VTEP_DROPS.names)[number], number>;
  /** The last stranger, "address:port", or null when there was none. */
  lastStranger: string | null;
}

// VXLAN thread → main
export type VxlanEvent =
  /** A datagram came from a VTEP not known on VLAN `vid`, which learns VTEPs: main gives it a port (`vtep`) or refuses (`refused`). */
  | { type: 'heard'; vid: number; address: string; port: number }
  /** A learned VTEP sent nothing for the ageing time: main takes its port away (`unvtep`). */
  | { type: 'silent'; vtepId: number };
