// SampleSwitch: an in-memory SwitchControl with made-up VLANs, ports, MACs, TAPs,
// listeners, peers and VXLAN VTEPs (src/docs/sample-vxlan.ts). `npm run docs` runs commands against it to print real replies
// into docs/console.md, and the control-plane tests run against it: it records every
// call and can be told to throw on a method's next call. Pure; no threads or sockets.

import { SampleKeys } from './sample-keys.js';
import type { KeyInfo, KeysInfo } from '../crypto/key-control.js';
import { STORM_CLASSES, noLimits, type PortLimits, type StormClass } from '../forwarding/port-limits.js';
import { DivesError } from '../core/errors.js';
import { createLogger } from '../core/log.js';
import { EventBus } from '../core/event-bus.js';
import { LISTENER_REFUSALS, PORT_DROPS, THREAD_COUNTERS, VLAN_COUNTERS } from '../core/counters.js';
import type { ListenSpec, ListenerInfo, MacEntry, PortInfo, RingInfo, TapInfo, ThreadInfo, TraceInfo, VlanInfo } from '../control/switch-api.js';
import type { SwitchControl } from '../control/commands/areas.js';
import type { PeerInfo, PeersInfo, StaticPeer } from '../peer/peer-info.js';
import { formatListenSpec } from '../qemu/listen-spec.js';
import { listenerClash, notListening } from '../qemu/qemu-ports.js';
import { tapAttachedElsewhere, tapNotAttached } from '../tap/tap-ports.js';
import type { VtepInfo, VxlanInfo, VxlanVlanConfig } from '../vxlan/vxlan-info.js';
import { SampleVxlan } from './sample-vxlan.js';
import { SamplePeers } from './sample-peers.js';
import { SampleMonitor } from './sample-monitor.js';
import type { ByteSink, CaptureInfo, CaptureRequest, CapturesInfo, MirrorInfo, MirrorSource, MirrorsInfo, TrunkInfo } from '../control/switch-api.js';

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
  /** The VXLAN VLANs and VTEPs `show vxlan` lists; none until told (sampleSwitch() has some). */
  vxlan = new SampleVxlan(() => this.#nextPortId++);
  /** The peers; none until told (sampleSwitch() has two). */
  readonly peerPart = new SamplePeers(() => this.#nextPortId++);
  /** The cluster keys: two held (src/docs/sample-keys.ts). */
  readonly keys = new SampleKeys();
  /** The trunks, mirrors and captures; none until told (sampleSwitch() has some). */
  monitor = new SampleMonitor(() => this.#nextPortId++, () => this.ports);
  readonly #failures = new Map<SwitchMethod, unknown>();
  /** Its events: nothing emits on its own; tests emit what a monitor should see. */
  readonly events = new EventBus(createLogger('silent'));

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

  // ---- peers (src/docs/sample-peers.ts) ----

  /** The peers `show peers` lists; tests add them with addPeer() or `peer HOST PORT`. */
  get peers(): PeerInfo[] {
    return this.peerPart.peers;
  }

  /** Everything else `show peers` reports. */
  get peering(): Omit<PeersInfo, 'peers'> {
    return this.peerPart.peering;
  }

  /** Add a peer with counters, as traffic would have left it. */
  addPeer(address: string, learned: PeerInfo['learned'], counters: Partial<PeerInfo> = {}): PeerInfo {
    return this.peerPart.add(address, learned, counters);
  }

  async showPeers(): Promise<PeersInfo> {
    this.#call('showPeers');
    return this.peerPart.info();
  }

  async addStaticPeer(host: string, port: number): Promise<PeerInfo> {
    this.#call('addStaticPeer', host, port);
    return this.peerPart.addStatic(host, port);
  }

  async removeStaticPeer(host: string, port: number): Promise<void> {
    this.#call('removeStaticPeer', host, port);
    this.peerPart.removeStatic(host, port);
  }

  /** Not recorded in `calls`: it only reads, like the `show` methods that `changes` leaves out. */
  staticPeers = (): StaticPeer[] => this.peerPart.staticPeers();

  showKeys = (): KeysInfo => (this.#call('showKeys'), this.keys.show());
  addKey = (file: string): KeyInfo => (this.#call('addKey', file), this.keys.add(file));
  useKey = (id: string): KeyInfo => (this.#call('useKey', id), this.keys.use(id));
  removeKey = (id: string): void => (this.#call('removeKey', id), this.keys.remove(id));

  // ---- VXLAN ----

  async showVxlan(vid?: number): Promise<VxlanInfo> {
    this.#call('showVxlan', vid);
    return this.vxlan.show(vid);
  }

  async setVxlanVni(vid: number, vni: number | null): Promise<void> {
    this.#call('setVxlanVni', vid, vni);
    this.vxlan.setVni(vid, vni);
    this.#ensure(vid);
  }

  async addVxlanRemote(vid: number, host: string, port: number | null): Promise<VtepInfo> {
    this.#call('addVxlanRemote', vid, host, port);
    const t = this.vxlan.addRemote(vid, host, port);
    this.#ensure(vid);
    return t;
  }

  async removeVxlanRemote(vid: number, host: string, port: number | null): Promise<void> {
    this.#call('removeVxlanRemote', vid, host, port);
    this.vxlan.removeRemote(vid, host, port);
  }

  async setVxlanGroup(vid: number, group: string, replyToSource: boolean): Promise<VtepInfo> {
    this.#call('setVxlanGroup', vid, group, replyToSource);
    const t = this.vxlan.setGroup(vid, group, replyToSource);
    this.#ensure(vid);
    return t;
  }

  async removeVxlanGroup(vid: number, group: string): Promise<void> {
    this.#call('removeVxlanGroup', vid, group);
    this.vxlan.removeGroup(vid, group);
  }

  /** Not recorded in `calls`: it only reads, like staticPeers(). */
  vxlanConfig(): VxlanVlanConfig[] {
    return this.vxlan.list();
  }

  async crashVxlanIo(): Promise<void> {
    this.#call('crashVxlanIo');
  }
  // ---- trunks, captures, mirrors (src/docs/sample-monitor.ts) ----

  async attachTrunk(dev: string, vids: number[], native: number | null): Promise<TrunkInfo> {
    this.#call('attachTrunk', dev, vids, native);
    return this.monitor.attachTrunk(dev, vids, native);
  }

  async detachTrunk(dev: string): Promise<void> {
    this.#call('detachTrunk', dev);
    this.monitor.detachTrunk(dev);
  }

  showTrunks(vid?: number): TrunkInfo[] {
    this.#call('showTrunks', vid);
    return this.monitor.showTrunks(vid);
  }

  async capture(req: CaptureRequest, out: { file: string } | { sink: ByteSink }): Promise<CaptureInfo> {
    this.#call('capture', req, 'file' in out ? out : { sink: 'stream' });
    return this.monitor.capture(req, out);
  }

  showCaptures(): CapturesInfo {
    this.#call('showCaptures');
    return this.monitor.showCaptures();
  }

  async addMirror(source: MirrorSource, to: string): Promise<MirrorInfo> {
    this.#call('addMirror', source, to);
    return this.monitor.addMirror(source, to);
  }

  async removeMirror(source: MirrorSource, to: string | null): Promise<number> {
    this.#call('removeMirror', source, to);
    return this.monitor.removeMirror(source, to);
  }

  showMirrors(): MirrorsInfo {
    this.#call('showMirrors');
    return this.monitor.showMirrors();
  }

}
