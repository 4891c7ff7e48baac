// FakeSwitch: an in-memory SwitchControl for the control-plane tests. It keeps
// VLANs, ports, MACs, TAPs and listeners in plain arrays, records every call,
// and can be told to throw on a method's next call. Pure; no threads or sockets.

import { DivesError } from '../../src/core/errors.js';
import { DROP_REASONS } from '../../src/forwarding/port-stats.js';
import type {
  ListenSpec,
  ListenerInfo,
  MacEntry,
  PortInfo,
  SwitchControl,
  TapInfo,
  VlanInfo,
} from '../../src/control/switch-api.js';
import type { PeerInfo, PeersInfo, StaticPeer } from '../../src/control/peer-api.js';
import { PEER_DROPS } from '../../src/peer/peer-io-messages.js';

export type SwitchMethod = keyof SwitchControl;

export interface FakeCall {
  method: SwitchMethod;
  args: unknown[];
}

function address(spec: ListenSpec): string {
  if (spec.kind === 'unix') return `unix:${spec.path}`;
  return spec.host.includes(':') ? `[${spec.host}]:${spec.port}` : `${spec.host}:${spec.port}`;
}

function sameSpec(a: ListenSpec, b: ListenSpec): boolean {
  return address(a) === address(b);
}

export class FakeSwitch implements SwitchControl {
  readonly calls: FakeCall[] = [];
  readonly vlans = new Map<number, { forwarded: number; flooded: number; dropped: number }>();
  readonly macs: (MacEntry & { vid: number })[] = [];
  readonly ports: PortInfo[] = [];
  readonly taps: TapInfo[] = [];
  readonly listeners: ListenerInfo[] = [];
  /** TAP devices that exist before the switch attaches them; others are "created". */
  readonly devices = new Set(['tap0', 'tap1']);
  #nextPortId = 1;
  readonly #failures = new Map<SwitchMethod, unknown>();

  /** Make the next call of `method` throw `error` (a DivesError, or anything else to simulate a bug). */
  failNext(method: SwitchMethod, error: unknown): this {
    this.#failures.set(method, error);
    return this;
  }

  #call(method: SwitchMethod, ...args: unknown[]): void {
    this.calls.push({ method, args });
    if (this.#failures.has(method)) {
      const error = this.#failures.get(method);
      this.#failures.delete(method);
      throw error;
    }
  }

  /** The calls made so far, without the read-only `show*` ones. */
  get changes(): FakeCall[] {
    return this.calls.filter((c) => !c.method.startsWith('show'));
  }

  /** Add a port with counters, as traffic would have left it. */
  addPort(vid: number, kind: PortInfo['kind'], name: string, counters: Partial<PortInfo> = {}): PortInfo {
    this.#ensure(vid);
    const drops = Object.fromEntries(DROP_REASONS.map((r) => [r, 0]));
    const port: PortInfo = { id: this.#nextPortId++, name, kind, vid, rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, drops, ...counters };
    this.ports.push(port);
    return port;
  }

  /** Add a learned MAC on a port. */
  addMac(port: PortInfo, mac: string, ageSeconds: number): void {
    this.macs.push({ vid: port.vid, mac, port: port.name, portId: port.id, ageSeconds });
  }

  #ensure(vid: number): void {
    if (!this.vlans.has(vid)) this.vlans.set(vid, { forwarded: 0, flooded: 0, dropped: 0 });
  }

  async showVlans(): Promise<VlanInfo[]> {
    this.#call('showVlans');
    return [...this.vlans.entries()]
      .sort(([a], [b]) => a - b)
      .map(([vid, c]) => ({
        vid,
        ports: this.ports.filter((p) => p.vid === vid).length,
        macs: this.macs.filter((m) => m.vid === vid).length,
        workerThread: 100 + vid,
        ...c,
      }));
  }

  async showMacs(vid: number): Promise<MacEntry[]> {
    this.#call('showMacs', vid);
    return this.macs.filter((m) => m.vid === vid).map(({ vid: _vid, ...m }) => m);
  }

  async showPorts(vid?: number): Promise<PortInfo[]> {
    this.#call('showPorts', vid);
    return this.ports.filter((p) => vid === undefined || p.vid === vid);
  }

  showTaps(vid?: number): TapInfo[] {
    this.#call('showTaps', vid);
    return this.taps.filter((t) => vid === undefined || t.vid === vid);
  }

  showListeners(vid?: number): ListenerInfo[] {
    this.#call('showListeners', vid);
    return this.listeners.filter((l) => vid === undefined || l.vid === vid);
  }

  ensureVlan(vid: number): void {
    this.#call('ensureVlan', vid);
    this.#ensure(vid);
  }

  async attachTap(vid: number, dev: string): Promise<TapInfo> {
    this.#call('attachTap', vid, dev);
    const held = this.taps.find((t) => t.name === dev);
    if (held) throw new DivesError('EATTACHED', `tap ${dev} is already attached to VLAN ${held.vid}`);
    const port = this.addPort(vid, 'tap', `tap:${dev}`);
    const tap: TapInfo = { name: dev, vid, portId: port.id, created: !this.devices.has(dev) };
    this.taps.push(tap);
    return tap;
  }

  async detachTap(vid: number, dev: string): Promise<void> {
    this.#call('detachTap', vid, dev);
    const i = this.taps.findIndex((t) => t.name === dev && t.vid === vid);
    if (i === -1) throw new DivesError('ENOTATTACHED', `tap ${dev} is not attached to VLAN ${vid}`);
    const [tap] = this.taps.splice(i, 1);
    this.ports.splice(
      this.ports.findIndex((p) => p.id === tap.portId),
      1,
    );
  }

  async listen(vid: number, spec: ListenSpec): Promise<ListenerInfo> {
    this.#call('listen', vid, spec);
    if (this.listeners.some((l) => sameSpec(l.spec, spec))) {
      throw new DivesError('EATTACHED', `${address(spec)} is already a listener`);
    }
    this.#ensure(vid);
    const info: ListenerInfo = { vid, spec, address: address(spec), connections: 0 };
    this.listeners.push(info);
    return info;
  }

  async unlisten(vid: number, spec: ListenSpec): Promise<void> {
    this.#call('unlisten', vid, spec);
    const i = this.listeners.findIndex((l) => l.vid === vid && sameSpec(l.spec, spec));
    if (i === -1) throw new DivesError('ENOTATTACHED', `VLAN ${vid} has no listener on ${address(spec)}`);
    this.listeners.splice(i, 1);
  }

  async crashTapIo(name: string): Promise<void> {
    this.#call('crashTapIo', name);
  }

  async crashPeerIo(): Promise<void> {
    this.#call('crashPeerIo');
  }

  async crashQemuIo(): Promise<void> {
    this.#call('crashQemuIo');
  }

  async crashWorker(vid: number): Promise<void> {
    this.#call('crashWorker', vid);
    if (!this.vlans.has(vid)) throw new DivesError('EBADARG', `VLAN ${vid} does not exist`);
  }

  // ---- peers ----

  /** The peers `show peers` lists; tests add them with addPeer() or `peer HOST PORT`. */
  readonly peers: PeerInfo[] = [];
  /** Everything else `show peers` reports. */
  peering: Omit<PeersInfo, 'peers'> = {
    local: '10.0.0.1:3333',
    intervalSeconds: 1,
    expiryIntervals: 3,
    discovery: { group: '239.13.13.13', port: 3535, interface: '10.0.0.1', ttl: 1, sent: 40, received: 81, own: 40, accepted: 40, malformed: 1, oversized: 0 },
    offload: true,
    strangers: 0,
    lastStranger: null,
  };

  /** Add a peer with counters, as traffic would have left it. */
  addPeer(address: string, learned: PeerInfo['learned'], counters: Partial<PeerInfo> = {}): PeerInfo {
    const drops = Object.fromEntries(PEER_DROPS.map((r) => [r, 0]));
    const peer: PeerInfo = {
      address,
      learned,
      state: 'up',
      lastHeardSeconds: 0.4,
      portId: this.#nextPortId++,
      framesIn: 0,
      bytesIn: 0,
      framesOut: 0,
      bytesOut: 0,
      keepalivesIn: 0,
      keepalivesOut: 0,
      offloadedIn: 0,
      offloadedOut: 0,
      plainVids: null,
      drops,
      ...counters,
    };
    this.peers.push(peer);
    return peer;
  }

  async showPeers(): Promise<PeersInfo> {
    this.#call('showPeers');
    return { ...this.peering, peers: this.peers };
  }

  async addStaticPeer(host: string, port: number): Promise<PeerInfo> {
    this.#call('addStaticPeer', host, port);
    const key = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    if (this.peers.some((p) => p.address === key && p.learned === 'static')) {
      throw new DivesError('EATTACHED', `peer ${key} is already a static peer`);
    }
    return this.addPeer(key, 'static', { state: 'down', lastHeardSeconds: null, portId: null });
  }

  async removeStaticPeer(host: string, port: number): Promise<void> {
    this.#call('removeStaticPeer', host, port);
    const key = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    const i = this.peers.findIndex((p) => p.address === key && p.learned === 'static');
    if (i === -1) throw new DivesError('ENOTATTACHED', `peer ${key} is not a static peer`);
    this.peers.splice(i, 1);
  }

  /** Not recorded in `calls`: it only reads, like the `show` methods that `changes` leaves out. */
  staticPeers(): StaticPeer[] {
    return this.peers
      .filter((p) => p.learned === 'static')
      .map((p) => {
        const m = /^\[?(.*?)\]?:(\d+)$/.exec(p.address) as RegExpExecArray;
        return { host: m[1], port: Number(m[2]) };
      });
  }
}
