// The messages between the main thread and a forwarding thread, one typed
// interface per message. They travel over the thread's control MessagePort;
// frames never do (frames use rings). Sent by main, read by the forwarding
// worker with receiveMessageOnPort after its doorbell's CONTROL count moves.

import type { MessagePort } from 'node:worker_threads';
import type { FdbEntry } from './fdb.js';
import type { PortStatsSnapshot } from './port-stats.js';
import type { VLAN_COUNTERS } from '../core/counters.js';

/** What piscina hands the forwarding thread when its long-running task starts. */
export interface ForwardingTask {
  /** The thread's doorbell: every ring it consumes rings it, and so does main for control. */
  doorbellSab: SharedArrayBuffer;
  control: MessagePort;
  /** Index of this forwarding thread in the pool (0-based), for logs. */
  index: number;
  ageingTimeMs: number;
  fdbCapacity: number;
  maxFrame: number;
  /** The CPU the thread pins itself to, or -1 to leave it to the scheduler. */
  cpu: number;
  /**
   * One Int32 word the thread keeps the ring meta of the frame it is forwarding in (0
   * between frames), so main can tell which VLAN and port a frame that killed it was on.
   */
  inflightSab: SharedArrayBuffer;
  /** The switch's frame trace (src/core/frame-trace.ts), shared by every thread. */
  traceSab: SharedArrayBuffer;
}
import type { PortLimits } from './port-limits.js';
import type { VnetMode } from './vlan-engine.js';

export interface AddVlanMsg { type: 'add-vlan'; vid: number }
export interface RemoveVlanMsg { type: 'remove-vlan'; vid: number }
/** A ring this worker consumes (an I/O thread produces into it). */
export interface AddInputMsg { type: 'add-input'; ringId: number; sab: SharedArrayBuffer }
/** A ring this worker produces into; the consumer sleeps on `doorbellSab`. */
export interface AddOutputMsg { type: 'add-output'; ringId: number; sab: SharedArrayBuffer; doorbellSab: SharedArrayBuffer }
export interface RemoveRingMsg { type: 'remove-ring'; ringId: number }
/**
 * `vnet`: the port's records carry a virtio_net_hdr (a TAP opened with IFF_VNET_HDR), or,
 * with 'offloaded', only an offloaded frame's (a peer's; VnetMode, src/forwarding/vlan-engine.ts).
 * `floods` false: flooded frames skip the port, which takes only unicast learned on it
 * (a VTEP learned on a group, which gets floods through the group). Default true.
 */
export interface AddPortMsg { type: 'add-port'; vid: number; portId: number; isPeer: boolean; txRingId: number; vnet?: VnetMode; floods?: boolean }
export interface RemovePortMsg { type: 'remove-port'; vid: number; portId: number }
/** Forget the MACs learned on a port in every VLAN of this worker (a peer expired). */
export interface FlushPortMsg { type: 'flush-port'; portId: number }
export interface SetAgeingMsg { type: 'set-ageing'; ageingTimeMs: number }
export interface QueryMsg { type: 'query'; reqId: number; what: 'vlans' | 'macs' | 'ports'; vid?: number }
/** Ask for a reply once every earlier message has been applied. */
export interface SyncMsg { type: 'sync'; reqId: number }
export interface CrashMsg { type: 'crash' }
/** The drill of a frame that kills the thread: die on any frame of `vid` from `mac` (a 48-bit number), as a bug on it would. */
export interface CrashOnFrameMsg { type: 'crash-on-frame'; vid: number; mac: number }
export interface StopMsg { type: 'stop' }
/** The port limits of VLAN `vid` (src/forwarding/port-limits.ts). */
export interface SetLimitsMsg { type: 'set-limits'; vid: number; limits: PortLimits }
/**
 * Copy the frames of VLAN `vid` (every frame it takes in, `portId` 0) or of one of its
 * ports (in and out) to ring `ringId`, an output of this thread: pcap records for a
 * capture, frames for a mirror's monitoring TAP (src/forwarding/frame-observer.ts).
 */
export interface ObserveMsg { type: 'observe'; vid: number; id: number; portId: number; ringId: number; mirror: boolean; skipPort: number; meta: number }
export interface UnobserveMsg { type: 'unobserve'; vid: number; id: number }
/** Collect garbage now: rings and ports went, and their memory is to be given back (src/switch/memory-reclaim.ts). */
export interface GcMsg { type: 'gc' }

export type ForwardingControl =
  | AddVlanMsg
  | RemoveVlanMsg
  | AddInputMsg
  | AddOutputMsg
  | RemoveRingMsg
  | AddPortMsg
  | RemovePortMsg
  | FlushPortMsg
  | SetAgeingMsg
  | QueryMsg
  | SyncMsg
  | CrashMsg
  | CrashOnFrameMsg
  | StopMsg
  | GcMsg
  | SetLimitsMsg
  | ObserveMsg
  | UnobserveMsg;

export interface VlanReport {
  vid: number;
  ports: number;
  macs: number;
  counters: Record<(typeof VLAN_COUNTERS.names)[number], number>;
}

export interface PortReport extends PortStatsSnapshot {
  vid: number;
  portId: number;
}

/** Replies from the forwarding thread, on the same port. */
export type ForwardingReply =
  | { type: 'started'; threadId: number }
  /** `noVlan`: frames this thread dropped because it does not run their VLAN (THREAD_COUNTERS no-vlan). */
  | { type: 'reply'; reqId: number; threadId: number; noVlan: number; vlans?: VlanReport[]; macs?: FdbEntry[]; ports?: PortReport[] }
  | { type: 'log'; level: 'warn' | 'error'; message: string }
  /** A port left a VLAN (remove-port): its last counters, so its drops are logged and not lost. */
  | { type: 'port-left'; vid: number; portId: number; stats: PortStatsSnapshot }
  /** MAC moves and flaps since the last report (src/forwarding/mac-moves.ts: MOVE_FIELDS numbers each), and the moves left out. */
  | { type: 'mac-moves'; moves: Float64Array; unreported: number };
