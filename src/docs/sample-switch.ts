// SampleSwitch: an in-memory SwitchControl with made-up VLANs, ports, MACs, TAPs,
// listeners and peers. `npm run docs` runs commands against it to print real replies
// into docs/console.md, and the control-plane tests run against it: it records every
// call and can be told to throw on a method's next call. Pure; no threads or sockets.

import { STORM_CLASSES, noLimits, type PortLimits, type StormClass } from '../forwarding/port-limits.js';
import { DivesError } from '../core/errors.js';
import { DISCOVERY_COUNTERS, LISTENER_REFUSALS, PEER_DROPS, PEER_SOCKET_COUNTERS, PORT_DROPS, THREAD_COUNTERS, VLAN_COUNTERS } from '../core/counters.js';
import type {
  ListenSpec,
  ListenerInfo,
  MacEntry,
  PortInfo,
  RingInfo,
  SwitchControl,
  TapInfo,
  ThreadInfo,
  TraceInfo,
  VlanInfo,
} from '../control/switch-api.js';
import type { PeerInfo, PeersInfo, StaticPeer } from '../peer/peer-info.js';
import { alreadyStatic, notStatic } from '../peer/peering.js';
import { formatListenSpec } from '../qemu/listen-spec.js';
import { listenerClash, notListening } from '../qemu/qemu-ports.js';
import { tapAttachedElsewhere, tapNotAttached } from '../tap/tap-ports.js';

export type SwitchMethod = keyof SwitchControl;

export interface SwitchCall {
  method: SwitchMethod;
  args: unknown[];
}

function sameSpec(a: ListenSpec, b: ListenSpec): boolean {
  return formatListenSpec(a) === formatListenSpec(b);
}

export class SampleSwitch implements SwitchControl {
  readonly calls: SwitchCall[] = [];
  readonly vlans = new Map<number, { forwarded: number; flooded: number; dropped: number }>();
  readonly macs: (MacEntry & { vid: number })[] = [];
  readonly ports: PortInfo[] = [];
  readonly taps: TapInfo[] = [];
  readonly listeners: ListenerInfo[] = [];
  /** Port limits of VLANs that have any. */
  readonly limits = new Map<number, PortLimits>();
  /** VLANs `show vlans` says are down, with why. */
  readonly downVlans = new Map<number, string>();
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
  get changes(): SwitchCall[] {
    return this.calls.filter((c) => !c.method.startsWith('show'));
  }

  /** Add a port with counters, as traffic would have left it. */
  addPort(vid: number, kind: PortInfo['kind'], name: string, counters: Partial<PortInfo> = {}): PortInfo {
    this.#ensure(vid);
    const drops = PORT_DROPS.zero();
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
        state: this.downVlans.has(vid) ? 'down' : 'up',
        reason: this.downVlans.get(vid) ?? null,
        counters: { ...VLAN_COUNTERS.zero(), ...c, learned: this.macs.filter((m) => m.vid === vid).length },
        limits: this.limits.get(vid) ?? noLimits(),
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
    if (held) throw tapAttachedElsewhere(dev, held.vid);
    const port = this.addPort(vid, 'tap', `tap:${dev}`);
    const tap: TapInfo = { name: dev, vid, portId: port.id, created: !this.devices.has(dev), state: 'up', reason: null };
    this.taps.push(tap);
    return tap;
  }

  async detachTap(vid: number, dev: string): Promise<void> {
    this.#call('detachTap', vid, dev);
    const i = this.taps.findIndex((t) => t.name === dev && t.vid === vid);
    if (i === -1) throw tapNotAttached(dev, vid, this.taps.find((t) => t.name === dev)?.vid);
    const [tap] = this.taps.splice(i, 1);
    this.ports.splice(
      this.ports.findIndex((p) => p.id === tap.portId),
      1,
    );
  }

  setStormControl(vid: number, cls: StormClass, rate: number | null): void {
    this.#call('setStormControl', vid, cls, rate);
    this.#ensure(vid);
    const l = this.limits.get(vid) ?? noLimits();
    l.storm[STORM_CLASSES.indexOf(cls)] = rate ?? 0;
    this.limits.set(vid, l);
  }

  setMacLimit(vid: number, n: number | null): void {
    this.#call('setMacLimit', vid, n);
    this.#ensure(vid);
    this.limits.set(vid, { ...(this.limits.get(vid) ?? noLimits()), macLimit: n ?? 0 });
  }

  async listen(vid: number, spec: ListenSpec, maxConnections: number | null = null): Promise<ListenerInfo> {
    this.#call('listen', vid, spec, ...(maxConnections === null ? [] : [maxConnections]));
    if (this.listeners.some((l) => sameSpec(l.spec, spec))) {
      throw listenerClash(formatListenSpec(spec), this.listeners.find((l) => sameSpec(l.spec, spec))?.vid ?? vid);
    }
    this.#ensure(vid);
    const info: ListenerInfo = { vid, spec, address: formatListenSpec(spec), connections: 0, maxConnections, refused: LISTENER_REFUSALS.zero(), state: 'up', reason: null };
    this.listeners.push(info);
    return info;
  }

  async unlisten(vid: number, spec: ListenSpec): Promise<void> {
    this.#call('unlisten', vid, spec);
    const i = this.listeners.findIndex((l) => l.vid === vid && sameSpec(l.spec, spec));
    if (i === -1) throw notListening(spec, vid);
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

  async crashOnFrame(vid: number, mac: string): Promise<void> {
    this.#call('crashOnFrame', vid, mac);
    if (!this.vlans.has(vid)) throw new DivesError('EBADARG', `VLAN ${vid} does not exist`);
  }

  /** One forwarding thread per VLAN, and the I/O threads; `show threads` lists them. */
  async showThreads(): Promise<ThreadInfo[]> {
    this.#call('showThreads');
    const vids = [...this.vlans.keys()].sort((a, b) => a - b);
    const forwarding = vids.map((vid, i): ThreadInfo => ({
      name: `forwarding thread ${i}`, kind: 'forwarding', state: 'up', cpu: i, vlans: [vid], lastDeath: null, reason: null,
      counters: { ...THREAD_COUNTERS.zero(), wakeups: 10 * (i + 1) },
    }));
    const io = (name: string, kind: ThreadInfo['kind']): ThreadInfo => ({ name, kind, state: 'up', cpu: -1, vlans: [], lastDeath: null, reason: null, counters: THREAD_COUNTERS.zero() });
    return [...forwarding, ...this.taps.map((t) => io(`tap-io:${t.name}`, 'tap-io')), io('qemu-io:0', 'qemu-io'), io('peer-io', 'peer-io')];
  }

  /** Tracing is on and has seen a few pings' frames; `show trace` prints them. */
  trace: TraceInfo = {
    on: true,
    steps: [
      { from: 'read', to: 'forwarding', meanUs: 24.5, frames: 20 },
      { from: 'forwarding', to: 'tx-commit', meanUs: 1.5, frames: 20 },
      { from: 'tx-commit', to: 'picked', meanUs: 31.2, frames: 20 },
      { from: 'picked', to: 'written', meanUs: 9.8, frames: 20 },
    ],
  };

  setTrace(on: boolean): void {
    this.#call('setTrace', on);
    this.trace = { on, steps: on ? this.trace.steps.map((s) => ({ ...s, meanUs: null, frames: 0 })) : this.trace.steps };
  }

  showTrace(): TraceInfo {
    this.#call('showTrace');
    return this.trace;
  }

  /** A ring pair per TAP; `show rings` lists them. */
  showRings(): RingInfo[] {
    this.#call('showRings');
    return this.taps.flatMap((t, i) => {
      const counters = { pushed: 120, full: 0, oversize: 0, undelivered: 0 };
      return [
        { id: 2 * i + 1, name: `tap:${t.name} rx`, producer: `tap-io:${t.name}`, consumer: 'forwarding thread 0', capacity: 4 << 20, used: 0, counters },
        { id: 2 * i + 2, name: `tap:${t.name} tx`, producer: 'forwarding thread 0', consumer: `tap-io:${t.name}`, capacity: 4 << 20, used: 0, counters },
      ];
    });
  }

  // ---- peers ----

  /** The peers `show peers` lists; tests add them with addPeer() or `peer HOST PORT`. */
  readonly peers: PeerInfo[] = [];
  /** Everything else `show peers` reports. */
  peering: Omit<PeersInfo, 'peers'> = {
    local: '10.0.0.1:3333',
    buffers: { send: 8 << 20, receive: 8 << 20 },
    intervalSeconds: 1,
    expiryIntervals: 3,
    discovery: {
      group: '239.13.13.13', port: 3535, interface: '10.0.0.1', ttl: 1, sent: 40, received: 81, own: 40, accepted: 40, malformed: 1, oversized: 0, maxPeers: 256, peerRate: 16,
      counters: { ...DISCOVERY_COUNTERS.zero(), sent: 40, received: 81, own: 40, accepted: 40, malformed: 1 },
    },
    offload: true,
    strangers: 0,
    lastStranger: null,
    counters: PEER_SOCKET_COUNTERS.zero(),
  };

  /** Add a peer with counters, as traffic would have left it. */
  addPeer(address: string, learned: PeerInfo['learned'], counters: Partial<PeerInfo> = {}): PeerInfo {
    const drops = PEER_DROPS.zero();
    const peer: PeerInfo = {
      address,
      learned,
      state: 'up',
      lastHeardSeconds: 0.4,
      portId: 'portId' in counters ? (counters.portId ?? null) : this.#nextPortId++,
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
      throw alreadyStatic(key);
    }
    return this.addPeer(key, 'static', { state: 'down', lastHeardSeconds: null, portId: null });
  }

  async removeStaticPeer(host: string, port: number): Promise<void> {
    this.#call('removeStaticPeer', host, port);
    const key = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    const i = this.peers.findIndex((p) => p.address === key && p.learned === 'static');
    if (i === -1) throw notStatic(key);
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

/**
 * The switch the docs and the command tests show: VLAN 10 with a TAP and a QEMU guest
 * (which has dropped a few frames), VLAN 20 with a peer port and a UNIX listener,
 * VLAN 30, entered but empty; a discovered peer that is up and a static one that is
 * down.
 */
export function sampleSwitch(): SampleSwitch {
  const sw = new SampleSwitch();
  const tap0 = sw.addPort(10, 'tap', 'tap:tap0', { rxFrames: 120, rxBytes: 9000, txFrames: 80, txBytes: 7040 });
  sw.taps.push({ name: 'tap0', vid: 10, portId: tap0.id, created: false, state: 'up', reason: null });
  const guest = sw.addPort(10, 'qemu', 'qemu:127.0.0.1:4000#3', { rxFrames: 7, rxBytes: 602, txFrames: 9, txBytes: 1200 });
  guest.drops['ring-full'] = 3;
  guest.drops.runt = 1;
  sw.listeners.push({ vid: 10, spec: { kind: 'tcp', host: '127.0.0.1', port: 4000 }, address: '127.0.0.1:4000', connections: 1, maxConnections: 16, refused: { ...LISTENER_REFUSALS.zero(), 'listener-full': 2 }, state: 'up', reason: null });
  sw.listeners.push({ vid: 20, spec: { kind: 'unix', path: '/run/dives/vm.sock' }, address: 'unix:/run/dives/vm.sock', connections: 0, maxConnections: null, refused: LISTENER_REFUSALS.zero(), state: 'up', reason: null });
  const peer = sw.addPort(20, 'peer', 'peer:10.0.0.2:3333', { rxFrames: 1, rxBytes: 64, txFrames: 2, txBytes: 128 });
  sw.addMac(tap0, '02:00:00:00:00:01', 3);
  sw.addMac(guest, '02:00:00:00:00:02', 125);
  sw.addMac(peer, '02:00:00:00:00:03', 7300);
  sw.vlans.set(10, { forwarded: 100, flooded: 20, dropped: 4 });
  sw.vlans.set(30, { forwarded: 0, flooded: 0, dropped: 0 });
  sw.limits.set(10, { storm: [1000, 0, 0], macLimit: 8 });
  const p = sw.addPeer('10.0.0.2:3333', 'discovered', {
    portId: peer.id,
    framesIn: 120,
    bytesIn: 9000,
    framesOut: 80,
    bytesOut: 7040,
    offloadedIn: 7,
    offloadedOut: 5,
    plainVids: [20, 30],
  });
  p.drops['no-vlan'] = 4;
  sw.addPeer('10.0.0.3:3333', 'static', { state: 'down', lastHeardSeconds: 75.2, portId: null, keepalivesOut: 9 });
  sw.peering.strangers = 2;
  sw.peering.counters = { strangers: 2, 'no-port': 0, 'recv-error': 1 };
  sw.peering.lastStranger = '10.0.0.66:40000';
  return sw;
}
