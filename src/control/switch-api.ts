// SwitchControl: what the control plane (console, rc file, control socket) may
// ask of a running switch, and the typed results that `show` commands print as
// text or JSON. Implemented by src/switch/switch.ts; runs on the main thread.

import type { PeerInfo, PeersInfo, StaticPeer } from './peer-api.js';
export type { DiscoveryInfo, PeerInfo, PeersInfo, StaticPeer } from './peer-api.js';

/** A QEMU listener address: TCP host and port, or a UNIX socket path. */
export type ListenSpec = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

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
  /** Every drop reason the switch counts for this port, by name, zeros included. */
  drops: Record<string, number>;
}

export interface VlanInfo {
  vid: number;
  ports: number;
  macs: number;
  /** The worker_threads threadId of the forwarding worker that runs this VLAN. */
  workerThread: number;
  forwarded: number;
  flooded: number;
  dropped: number;
}

export interface TapInfo {
  name: string;
  vid: number;
  portId: number;
  /** True when DiVES created the device (it disappears when detached). */
  created: boolean;
}

export interface ListenerInfo {
  vid: number;
  spec: ListenSpec;
  address: string; // "127.0.0.1:4000" or "unix:/run/dives/vm.sock"
  connections: number;
}

export interface SwitchControl {
  /** VLANs that exist (a VLAN exists while it has ports or was entered with `vlan ID`). */
  showVlans(): Promise<VlanInfo[]>;
  showMacs(vid: number): Promise<MacEntry[]>;
  /** Ports of one VLAN, or of every VLAN when vid is undefined. */
  showPorts(vid?: number): Promise<PortInfo[]>;
  showTaps(vid?: number): TapInfo[];
  showListeners(vid?: number): ListenerInfo[];
  /** Make sure a VLAN exists (the `vlan ID` command). */
  ensureVlan(vid: number): void;
  attachTap(vid: number, dev: string): Promise<TapInfo>;
  detachTap(vid: number, dev: string): Promise<void>;
  listen(vid: number, spec: ListenSpec): Promise<ListenerInfo>;
  unlisten(vid: number, spec: ListenSpec): Promise<void>;
  /** Deliberately crash the forwarding worker of a VLAN (the `debug crash-worker` command, for drills and tests). */
  crashWorker(vid: number): Promise<void>;
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
