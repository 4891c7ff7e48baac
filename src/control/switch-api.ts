// CoreControl: what the core commands of the control plane (console, rc file, control
// socket) ask of a running switch, and the typed results their `show` commands print as
// text or JSON; each area of commands adds its own part (src/control/commands/areas.ts
// puts them together as SwitchControl). Implemented by src/switch/switch.ts; main thread.

import type { PortLimits } from '../forwarding/port-limits.js';
import type { PORT_DROPS, THREAD_COUNTERS, VLAN_COUNTERS } from '../core/counters.js';
import type { PortKind, ThreadKind } from '../core/port-kind.js';
import type { ThreadState } from '../core/thread-supervisor.js';
import type { TraceStep } from '../core/frame-trace.js';
import type { EventBus } from '../core/event-bus.js';
import type { RingInfo } from '../forwarding/ring-table.js';
export type { ByteSink } from '../capture/byte-sink.js';
export type { CaptureInfo, CaptureRequest, CapturesInfo, MirrorInfo, MirrorSource, MirrorsInfo } from '../capture/capture-info.js';
export type { TrunkInfo } from '../tap/trunk-ports.js';
export type { VtepInfo, VxlanInfo, VxlanVlanConfig, VxlanVlanInfo } from '../vxlan/vxlan-info.js';
export type { DiscoveryInfo, PeerInfo, PeersInfo, StaticPeer } from '../peer/peer-info.js';
export type { ListenSpec } from '../qemu/listen-spec.js';
export type { ListenerInfo } from '../qemu/qemu-ports.js';
export type { TapInfo } from '../tap/tap-ports.js';
export type { RingInfo };

/** A trunk listener's VLANs (`listen ... trunk VLANS [native ID]`): the tagged ones, and the VLAN of untagged frames or null. */
export interface TrunkListen {
  tagged: number[];
  native: number | null;
}

export interface MacEntry {
  mac: string; // "02:00:00:00:00:01"
  port: string; // the port's name, e.g. "tap:tap0" or "qemu:127.0.0.1:4000#3"
  portId: number;
  ageSeconds: number; // since the MAC was last seen as a source
}

export interface PortInfo {
  id: number;
  name: string;
  kind: PortKind;
  vid: number;
  rxFrames: number;
  rxBytes: number;
  txFrames: number;
  txBytes: number;
  /** Every drop reason the switch counts for a port (PORT_DROPS), by name, zeros included. */
  drops: Record<(typeof PORT_DROPS.names)[number], number>;
}

export interface VlanInfo {
  vid: number;
  ports: number;
  macs: number;
  /** The worker_threads threadId of the forwarding thread that runs this VLAN; -1 while it has none. */
  workerThread: number;
  forwarded: number;
  flooded: number;
  dropped: number;
  /** up, or down (its forwarding thread kept dying on its frames) with the reason. */
  state: 'up' | 'down';
  reason: string | null;
  /** Every VLAN counter (VLAN_COUNTERS), forwarded, flooded and dropped included. */
  counters: Record<(typeof VLAN_COUNTERS.names)[number], number>;
  /** Its port limits (`storm-control`, `mac-limit`); 0 is off. */
  limits: PortLimits;
}

export interface ThreadInfo {
  /** "forwarding thread 0", "tap-io:tap0", "qemu-io:0", "peer-io". */
  name: string;
  kind: ThreadKind;
  state: ThreadState;
  /** The CPU it is pinned to, or -1. */
  cpu: number;
  /** The VLANs a forwarding thread runs (down ones included); empty for I/O threads. */
  vlans: number[];
  /** Why the last incarnation that died did, or null. */
  lastDeath: string | null;
  /** Why it is down, or null. */
  reason: string | null;
  /** Every thread counter (THREAD_COUNTERS), zeros included. */
  counters: Record<(typeof THREAD_COUNTERS.names)[number], number>;
}

/** What `show trace` prints: whether tracing is on, and the mean time of each step of a frame's path. */
export interface TraceInfo {
  on: boolean;
  steps: TraceStep[];
}

/**
 * What the core commands (VLANs, ports, MACs, threads, rings, tracing, events) ask of a
 * running switch. Each area of commands adds what it asks in its own file
 * (src/control/commands/<area>.ts); SwitchControl, all of them together, is in
 * src/control/commands/areas.ts.
 */
export interface CoreControl {
  /** The switch's events (src/core/event-bus.ts): what `monitor` streams. */
  readonly events: EventBus;
  /** VLANs that exist (a VLAN exists while it has ports or was entered with `vlan ID`). */
  showVlans(): Promise<VlanInfo[]>;
  showMacs(vid: number): Promise<MacEntry[]>;
  /** Ports of one VLAN, or of every VLAN when vid is undefined. */
  showPorts(vid?: number): Promise<PortInfo[]>;
  /** Every thread of the switch: forwarding threads, then the I/O threads. */
  showThreads(): Promise<ThreadInfo[]>;
  /** Every ring between the threads, with its producer, consumer and counters. */
  showRings(): RingInfo[];
  /** Trace frames through the switch's threads (`debug trace on|off`): on clears what was traced before. */
  setTrace(on: boolean): void;
  showTrace(): TraceInfo;
  /** Make sure a VLAN exists (the `vlan ID` command). */
  ensureVlan(vid: number): void;
}
