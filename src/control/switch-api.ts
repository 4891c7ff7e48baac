// SwitchControl: what the control plane (console, rc file, control socket) may
// ask of a running switch, and the typed results that `show` commands print as
// text or JSON. Implemented by src/switch/switch.ts; runs on the main thread.

import type { PortLimits, StormClass } from '../forwarding/port-limits.js';
import type { PORT_DROPS, THREAD_COUNTERS, VLAN_COUNTERS } from '../core/counters.js';
import type { PortKind, ThreadKind } from '../core/port-kind.js';
import type { ThreadState } from '../core/thread-supervisor.js';
import type { TraceStep } from '../core/frame-trace.js';
import type { EventBus } from '../core/event-bus.js';
import type { RingInfo } from '../forwarding/ring-table.js';
import type { ListenSpec } from '../qemu/listen-spec.js';
import type { ListenerInfo } from '../qemu/qemu-ports.js';
import type { TapInfo } from '../tap/tap-ports.js';
import type { PeerInfo, PeersInfo, StaticPeer } from '../peer/peer-info.js';
import type { KeyInfo, KeysInfo } from '../crypto/key-control.js';
import type { VtepInfo, VxlanInfo, VxlanVlanConfig } from '../vxlan/vxlan-info.js';
import type { TrunkInfo } from '../tap/trunk-ports.js';
import type { ByteSink } from '../capture/byte-sink.js';
import type { CaptureInfo, CaptureRequest, CapturesInfo, MirrorInfo, MirrorSource, MirrorsInfo } from '../capture/capture-info.js';
export type { ByteSink, CaptureInfo, CaptureRequest, CapturesInfo, MirrorInfo, MirrorSource, MirrorsInfo, TrunkInfo };
export type { VtepInfo, VxlanInfo, VxlanVlanConfig, VxlanVlanInfo } from '../vxlan/vxlan-info.js';
export type { DiscoveryInfo, PeerInfo, PeersInfo, StaticPeer } from '../peer/peer-info.js';
export type { ListenSpec, ListenerInfo, RingInfo, TapInfo };

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

export interface SwitchControl {
  /** The switch's events (src/core/event-bus.ts): what `monitor` streams. */
  readonly events: EventBus;
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
  /** With `trunk`, a trunk listener at switch level (`vid` 0 then): each connection a trunk of those VLANs. */
  listen(vid: number, spec: ListenSpec, maxConnections?: number | null, trunk?: TrunkListen | null): Promise<ListenerInfo>;
  /** `vid` 0: a trunk listener. */
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

  // Cluster keys (src/crypto/key-control.ts): `show keys`, `key add FILE`, `key use ID`, `key remove ID`.
  /** The keys held, by id and role; never a secret. */
  showKeys(): KeysInfo;
  /** Accept the key in FILE too; DivesError EBADARG for a bad file, EBADCMD on a switch without a key. */
  addKey(file: string): KeyInfo;
  /** Seal with the held key ID from now on; ENOTATTACHED when it is not held. */
  useKey(id: string): KeyInfo;
  /** Refuse the held key ID (not the one in use). */
  removeKey(id: string): void;

  // VXLAN (src/vxlan/vxlan-ports.ts): `show vxlan`, and in VLAN mode `vxlan vni`, `vxlan remote`, `vxlan group`.
  /** The VXLAN sockets, their counters, and every VLAN's (or only `vid`'s) VNI and VTEPs with theirs. */
  showVxlan(vid?: number): Promise<VxlanInfo>;
  /** Carry `vid` as VXLAN network `vni` (null: the vid); DivesError EATTACHED if another VLAN carries it. */
  setVxlanVni(vid: number, vni: number | null): Promise<void>;
  /** A static remote VTEP at host:port (port null: the VXLAN port), flooded to by head-end replication. */
  addVxlanRemote(vid: number, host: string, port: number | null): Promise<VtepInfo>;
  /** Remove a static remote VTEP; DivesError ENOTATTACHED if the VLAN does not have it. */
  removeVxlanRemote(vid: number, host: string, port: number | null): Promise<void>;
  /** Flood `vid` to a multicast group and learn the VTEPs heard on it (answered at their source port with `replyToSource`). */
  setVxlanGroup(vid: number, group: string, replyToSource: boolean): Promise<VtepInfo>;
  /** Stop using the group; DivesError ENOTATTACHED if the VLAN does not use it. */
  removeVxlanGroup(vid: number, group: string): Promise<void>;
  /** Each VLAN's VXLAN configuration as typed, for the running-config. */
  vxlanConfig(): VxlanVlanConfig[];
  /** Stop the VXLAN I/O thread as a crash would (the `debug crash-vxlan` command); it is restarted. */
  crashVxlanIo(): Promise<void>;

  // Trunk TAPs (src/tap/trunk-ports.ts): `tap DEVNAME trunk VLANS [native ID]`, `no tap DEVNAME trunk`.
  /** Attach `dev` as a trunk of the tagged VLANs `vids` and the untagged VLAN `native` (null: none). */
  attachTrunk(dev: string, vids: number[], native: number | null): Promise<TrunkInfo>;
  /** Detach a trunk; DivesError ENOTATTACHED if `dev` is none. */
  detachTrunk(dev: string): Promise<void>;
  /** The trunks (with a member port in `vid`, when given) and their drops. */
  showTrunks(vid?: number): TrunkInfo[];

  // Captures and mirrors (src/capture/): `capture`, `show captures`, `mirror`, `no mirror`, `show mirrors`.
  /** Capture into a new file (mode 0600) or a sink (the control socket's stream) until the capture ends; its counts. */
  capture(req: CaptureRequest, out: { file: string } | { sink: ByteSink }): Promise<CaptureInfo>;
  showCaptures(): CapturesInfo;
  /** Copy `source`'s frames to the access TAP port `to` (an id, or a name as `show ports` prints it). */
  addMirror(source: MirrorSource, to: string): Promise<MirrorInfo>;
  /** Remove the mirrors of `source` (to `to` only, when given); how many. DivesError ENOTATTACHED if none. */
  removeMirror(source: MirrorSource, to: string | null): Promise<number>;
  showMirrors(): MirrorsInfo;
}
