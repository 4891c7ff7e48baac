// SwitchControl: what the control plane (console, rc file, control socket) may
// ask of a running switch, and the typed results that `show` commands print as
// text or JSON. Implemented by src/switch/switch.ts; runs on the main thread.

import type { PortLimits, StormClass } from '../forwarding/port-limits.js';
import type { PORT_DROPS, THREAD_COUNTERS, VLAN_COUNTERS } from '../core/counters.js';
import type { ThreadKind, ThreadState } from '../core/thread-supervisor.js';
import type { TraceStep } from '../core/frame-trace.js';
import type { RingInfo } from '../forwarding/ring-table.js';
import type { ListenSpec } from '../qemu/listen-spec.js';
import type { ListenerInfo } from '../qemu/qemu-ports.js';
import type { TapInfo } from '../tap/tap-ports.js';
import type { PeerInfo, PeersInfo, StaticPeer } from '../peer/peer-info.js';
export type { DiscoveryInfo, PeerInfo, PeersInfo, StaticPeer } from '../peer/peer-info.js';
export type { ListenSpec, ListenerInfo, RingInfo, TapInfo };

export interface MacEntry {
  mac: string; // "02:00:00:00:00:01"
  port: string; // the port's name, e.g. "tap:tap0" or "qemu:127.0.0.1:4000#3"
  portId: number;
  ageSeconds: number; // since the MAC was last seen as a source
}

export interface PortInfo {
  id: number;
  name: string;
  kind: 'tap' | 'qemu' | 'peer';
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

export interface SwitchControl {
  /** VLANs that exist (a VLAN exists while it has ports or was entered with `vlan ID`). */
  showVlans(): Promise<VlanInfo[]>;
  showMacs(vid: number): Promise<MacEntry[]>;
  /** Ports of one VLAN, or of every VLAN when vid is undefined. */
  showPorts(vid?: number): Promise<PortInfo[]>;
  showTaps(vid?: number): TapInfo[];
  showListeners(vid?: number): ListenerInfo[];
  /** Every thread of the switch: forwarding threads, then the I/O threads. */
  showThreads(): Promise<ThreadInfo[]>;
  /** Every ring between the threads, with its producer, consumer and counters. */
  showRings(): RingInfo[];
  /** Trace frames through the switch's threads (`debug trace on|off`): on clears what was traced before. */
  setTrace(on: boolean): void;
  showTrace(): TraceInfo;
  /** Make sure a VLAN exists (the `vlan ID` command). */
  ensureVlan(vid: number): void;
  attachTap(vid: number, dev: string): Promise<TapInfo>;
  detachTap(vid: number, dev: string): Promise<void>;
  /** `maxConnections`: the listener's own limit (`listen ... max-connections N`); null: only the switch's. */
  /** Limit the frames/s of `cls` each port of `vid` may flood; null turns it off. */
  setStormControl(vid: number, cls: StormClass, rate: number | null): void;
  /** Limit the MACs each port of `vid` may have learned; null turns it off. */
  setMacLimit(vid: number, n: number | null): void;
  listen(vid: number, spec: ListenSpec, maxConnections?: number | null): Promise<ListenerInfo>;
  unlisten(vid: number, spec: ListenSpec): Promise<void>;
  /** Deliberately crash the forwarding thread of a VLAN (the `debug crash-worker` command, for drills and tests). */
  crashWorker(vid: number): Promise<void>;
  /** Make the forwarding thread of `vid` die on every frame from `mac` (`debug crash-on-frame`): the restart budget's drill. */
  crashOnFrame(vid: number, mac: string): Promise<void>;
  /** Stop a TAP's I/O thread as a crash would (the `debug crash-tap` command); it is restarted. */
  crashTapIo(name: string): Promise<void>;
  /** Stop the peer I/O thread as a crash would (the `debug crash-peers` command); it is restarted. */
  crashPeerIo(): Promise<void>;
  /** Stop the QEMU I/O thread as a crash would (the `debug crash-qemu` command); it and its listeners are restarted. */
  crashQemuIo(): Promise<void>;

  // Peers (src/peer/peering.ts): `show peers`, `peer HOST PORT`, `no peer HOST PORT`.
  /** Every peer with its state and counters, discovery's counters and the stranger count. */
  showPeers(): Promise<PeersInfo>;
  /** Configure a static peer (keepalives give it liveness); DivesError EATTACHED if it already is one. */
  addStaticPeer(host: string, port: number): Promise<PeerInfo>;
  /** Forget a static peer; DivesError ENOTATTACHED if it is not one. */
  removeStaticPeer(host: string, port: number): Promise<void>;
  /** The static peers as configured, for the running-config (`peer HOST PORT` lines). */
  staticPeers(): StaticPeer[];
}
