// Switch: one DiVES switch on this host — the control plane object behind every
// console command. It owns the forwarding pool, the port table and one main side of
// each kind of port (src/switch/port-kinds.ts), and answers `show` commands by asking
// the threads that hold the counters. Runs on the main thread.

import { availableParallelism } from 'node:os';
import { DivesError } from '../core/errors.js';
import { DEFAULT_MAX_FRAME, macToString, parseMac } from '../core/frame.js';
import { DEFAULT_AGEING_TIME_MS, DEFAULT_FDB_CAPACITY } from '../forwarding/fdb.js';
import type { Logger } from '../core/log.js';
import type { ListenSpec, ListenerInfo, TrunkListen, MacEntry, PortInfo, RingInfo, TapInfo, ThreadInfo, TraceInfo, VlanInfo } from '../control/switch-api.js';
import type { SwitchControl } from '../control/commands/areas.js';
import { ForwardingPool } from '../forwarding/forwarding-pool.js';
import { LeftPorts } from '../forwarding/left-ports.js';
import { PortTable } from '../forwarding/port-table.js';
import { RingTable } from '../forwarding/ring-table.js';
import { MemoryReclaim, enableMemoryReclaim } from './memory-reclaim.js';
import { STORM_CLASSES, type StormClass } from '../forwarding/port-limits.js';
import type { PortKindParts } from '../forwarding/port-kind-parts.js';
import type { QemuPorts } from '../qemu/qemu-ports.js';
import { QemuTrunk } from '../qemu/qemu-trunk-conns.js';
import type { TapPorts } from '../tap/tap-ports.js';
import type { PeerPorts } from '../peer/peer-ports.js';
import type { Peering } from '../peer/peering.js';
import type { PeeringOptions } from '../peer/peering-options.js';
import type { KeyInfo, KeysInfo } from '../crypto/key-control.js';
import type { PeerInfo, PeersInfo, StaticPeer } from '../peer/peer-info.js';
import { reportPorts, reportThreads, reportVlans, type SwitchParts } from './switch-reports.js';
import { EventBus } from '../core/event-bus.js';
import { SwitchEvents } from './switch-events.js';
import type { VxlanPorts } from '../vxlan/vxlan-ports.js';
import { resolveVxlanSettings, type VxlanSettings } from '../vxlan/vxlan-sockets.js';
import type { VtepInfo, VxlanInfo, VxlanVlanConfig } from '../vxlan/vxlan-info.js';
import type { TrunkInfo, TrunkPorts } from '../tap/trunk-ports.js';
import { applyOffloads } from './offloads.js';
import { createPortKinds, kindList, type PortKinds } from './port-kinds.js';
import { Captures } from '../capture/captures.js';
import { Mirrors } from '../capture/mirrors.js';
import { fileSink, type ByteSink } from '../capture/byte-sink.js';
import type { CaptureInfo, CaptureRequest, CapturesInfo, MirrorInfo, MirrorSource, MirrorsInfo } from '../capture/capture-info.js';

export interface SwitchOptions {
  log: Logger;
  /** Forwarding threads at most; default: available cores. */
  forwardingThreads?: number;
  /** Pin each forwarding thread, and its VLANs' TAP I/O threads, to a CPU (default true; docs/performance.md). */
  cpuAffinity?: boolean;
  ageingTimeMs?: number;
  fdbCapacity?: number;
  maxFrame?: number;
  /** Offloaded frames between peers (default true; --no-peer-offload; docs/architecture.md). */
  peerOffload?: boolean;
  /** Bytes every queue of the switch may reserve together (--memory-budget; src/forwarding/ring-table.ts); default DEFAULT_MEMORY_BUDGET. */
  memoryBudgetBytes?: number;
  /** QEMU connections of the whole switch at most (--max-connections). */
  maxConnections?: number;
  /** --vxlan-port, --vxlan-local, --vxlan-max-vteps, checked (resolveVxlanSettings); default: port 4789, by route. */
  vxlan?: VxlanSettings;
}

/** The memory budget by default: 1 GiB of queues. */
export const DEFAULT_MEMORY_BUDGET = 1 << 30;

export class Switch implements SwitchControl {
  readonly log: Logger;
  readonly pool: ForwardingPool;
  readonly ports = new PortTable();
  readonly rings: RingTable;
  /** Gives the memory of rings that went back to the kernel. */
  readonly reclaim: MemoryReclaim;
  /** The drops of ports that have left their VLANs. */
  readonly left: LeftPorts;
  /** The main side of each kind of port (src/switch/port-kinds.ts). */
  readonly kinds: PortKinds;
  readonly taps: TapPorts;
  /** Trunk TAPs: one device, a port in each of several VLANs. */
  readonly trunks: TrunkPorts;
  readonly qemu: QemuPorts;
  /** Peer ports (the peer I/O thread) and the policy that decides who the peers are. */
  readonly peers: PeerPorts;
  readonly peering: Peering;
  /** VXLAN VTEPs as ports (the VXLAN I/O thread, started with the first remote or group). */
  readonly vxlan: VxlanPorts;
  /** Packet captures and port mirrors: watches the forwarding threads keep (src/capture/). */
  readonly captures: Captures;
  readonly mirrors: Mirrors;
  private nextWatchId = 1;
  /** The switch's events (src/core/event-bus.ts): what `monitor` streams, and the log gets. */
  readonly events: EventBus;
  private readonly eventSources: SwitchEvents;
  /** VLANs entered with `vlan ID` or holding ports. */
  private readonly vlans = new Set<number>();
  private closed = false;

  constructor(opts: SwitchOptions) {
    this.log = opts.log;
    // Before the first thread starts: every thread is to be able to give memory back.
    enableMemoryReclaim();
    this.rings = new RingTable(opts.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET);
    const maxFrame = opts.maxFrame ?? DEFAULT_MAX_FRAME;
    this.pool = new ForwardingPool({
      threads: opts.forwardingThreads ?? availableParallelism(),
      cpuAffinity: opts.cpuAffinity,
      ageingTimeMs: opts.ageingTimeMs ?? DEFAULT_AGEING_TIME_MS,
      fdbCapacity: opts.fdbCapacity ?? DEFAULT_FDB_CAPACITY,
      maxFrame,
      log: this.log,
    });
    this.events = EventBus.of(this.log);
    this.eventSources = new SwitchEvents(this.events, this.ports, this.pool, () => this.showPorts());
    this.left = new LeftPorts(this.ports, this.log);
    this.pool.onPortLeft = (vid, portId, drops) => this.left.forwarding(vid, portId, drops);
    const parts: PortKindParts = { pool: this.pool, ports: this.ports, rings: this.rings, left: this.left, log: this.log, maxFrame, offloadsChanged: () => this.updateOffloads() };
    this.kinds = createPortKinds(parts, {
      maxConnections: opts.maxConnections,
      peerOffload: opts.peerOffload ?? true,
      ageingTimeMs: opts.ageingTimeMs ?? DEFAULT_AGEING_TIME_MS,
      vxlan: opts.vxlan ?? resolveVxlanSettings(),
    });
    this.taps = this.kinds.tap.taps;
    this.trunks = this.kinds.tap.trunks;
    this.peers = this.kinds.peer.ports;
    this.peering = this.kinds.peer.peering;
    this.qemu = this.kinds.qemu;
    this.vxlan = this.kinds.vxlan;
    this.captures = new Captures(parts, () => this.nextWatchId++);
    this.mirrors = new Mirrors(parts, this.taps, () => this.nextWatchId++);
    this.reclaim = new MemoryReclaim(() => {
      for (const t of this.pool.threads) t.post({ type: 'gc' });
      for (const k of kindList(this.kinds)) k.gc?.();
    });
    this.rings.onRemove = () => this.reclaim.soon();
    // Offloads follow membership: any port that needs plain frames (QEMU, a
    // peer that does not take offloaded ones) in a VLAN turns them off for that
    // VLAN's TAPs before it can receive a frame (the port table changes before
    // the port is wired), and peers hear which VLANs need plain frames here.
    this.ports.onChange(() => this.updateOffloads());
  }

  private reportParts(): SwitchParts {
    return { pool: this.pool, ports: this.ports, left: this.left, kinds: kindList(this.kinds) };
  }

  ensureVlan(vid: number): void {
    this.vlans.add(vid);
  }

  async showVlans(): Promise<VlanInfo[]> {
    return reportVlans(this.reportParts(), this.vlans);
  }

  async showMacs(vid: number): Promise<MacEntry[]> {
    const t = this.pool.threadOf(vid);
    if (t === undefined || this.pool.downReason(vid) !== null) return [];
    const r = await t.request({ type: 'query', what: 'macs', vid });
    return (r.macs ?? []).map((e) => ({
      mac: macToString(e.mac),
      portId: e.port,
      port: this.ports.get(e.port)?.name ?? `port ${e.port}`,
      ageSeconds: Math.floor(e.ageMs / 1000),
    }));
  }

  async showPorts(vid?: number): Promise<PortInfo[]> {
    return reportPorts(this.reportParts(), vid);
  }

  async showThreads(): Promise<ThreadInfo[]> {
    return reportThreads(this.reportParts());
  }

  showRings(): RingInfo[] {
    return this.rings.list();
  }

  setTrace(on: boolean): void {
    this.pool.trace.set(on);
    this.log.info(`debug: frame tracing ${on ? 'on' : 'off'}`);
  }

  showTrace(): TraceInfo {
    return { on: this.pool.trace.on, steps: this.pool.trace.steps() };
  }

  showTaps(vid?: number): TapInfo[] {
    return this.taps.list(vid);
  }

  showListeners(vid?: number): ListenerInfo[] {
    return this.qemu.list(vid);
  }

  async attachTap(vid: number, dev: string): Promise<TapInfo> {
    this.alive();
    this.vlans.add(vid);
    const info = await this.kinds.tap.attachTap(vid, dev);
    this.updateOffloads();
    return info;
  }

  // ---- trunks, captures and mirrors (src/tap/trunk-ports.ts, src/capture/) ----

  async attachTrunk(dev: string, vids: number[], native: number | null): Promise<TrunkInfo> {
    this.alive();
    for (const v of [...vids, ...(native === null ? [] : [native])]) this.vlans.add(v);
    const info = await this.kinds.tap.attachTrunk(dev, vids, native ?? 0);
    this.updateOffloads();
    return info;
  }

  async detachTrunk(dev: string): Promise<void> {
    await this.trunks.detach(dev);
  }

  showTrunks(vid?: number): TrunkInfo[] {
    return this.trunks.list(vid);
  }

  async capture(req: CaptureRequest, out: { file: string } | { sink: ByteSink }): Promise<CaptureInfo> {
    this.alive();
    const sink = 'sink' in out ? out.sink : await fileSink(out.file);
    try {
      return await this.captures.capture(req, sink, 'file' in out ? out.file : 'stream');
    } finally {
      if ('file' in out) await sink.end();
    }
  }

  showCaptures(): CapturesInfo {
    return this.captures.show();
  }

  async addMirror(source: MirrorSource, to: string): Promise<MirrorInfo> {
    this.alive();
    return this.mirrors.add(source, to);
  }

  async removeMirror(source: MirrorSource, to: string | null): Promise<number> {
    return this.mirrors.remove(source, to);
  }

  showMirrors(): MirrorsInfo {
    return this.mirrors.show();
  }

  /** Offloads follow what every kind's ports take (src/switch/offloads.ts; docs/architecture.md says why). */
  private updateOffloads(): void {
    applyOffloads(this.ports.all(), kindList(this.kinds));
  }

  setStormControl(vid: number, cls: StormClass, rate: number | null): void {
    this.alive();
    this.vlans.add(vid);
    const l = this.pool.limitsOf(vid);
    l.storm[STORM_CLASSES.indexOf(cls)] = rate ?? 0;
    this.pool.setLimits(vid, l);
  }

  setMacLimit(vid: number, n: number | null): void {
    this.alive();
    this.vlans.add(vid);
    this.pool.setLimits(vid, { ...this.pool.limitsOf(vid), macLimit: n ?? 0 });
  }

  async detachTap(vid: number, dev: string): Promise<void> {
    return this.taps.detach(vid, dev);
  }

  async listen(vid: number, spec: ListenSpec, maxConnections: number | null = null, trunk: TrunkListen | null = null): Promise<ListenerInfo> {
    this.alive();
    if (trunk === null) {
      this.vlans.add(vid);
      return this.qemu.listen(vid, spec, maxConnections);
    }
    const t = new QemuTrunk(trunk.tagged, trunk.native ?? 0);
    for (const v of t.vids) this.vlans.add(v);
    return this.qemu.listen(0, spec, maxConnections, t);
  }

  async unlisten(vid: number, spec: ListenSpec): Promise<void> {
    return this.qemu.unlisten(vid, spec);
  }

  async crashWorker(vid: number): Promise<void> {
    const t = this.pool.threadOf(vid);
    if (t === undefined) throw new DivesError('EBADARG', `VLAN ${vid} has no forwarding thread yet; attach a port to it first`);
    this.log.warn(`debug: crashing ${t.name} (VLANs ${[...t.vids].join(',')}) on request`);
    t.post({ type: 'crash' });
  }

  async crashOnFrame(vid: number, mac: string): Promise<void> {
    const t = this.pool.threadOf(vid);
    if (t === undefined) throw new DivesError('EBADARG', `VLAN ${vid} has no forwarding thread yet; attach a port to it first`);
    this.log.warn(`debug: ${t.name} will die on every frame from ${mac} in VLAN ${vid}, as a bug on that frame would`);
    // Kept with the thread's configuration, so every restarted thread meets it again.
    t.configure(`crash-on-frame:${vid}`, { type: 'crash-on-frame', vid, mac: parseMac(mac) });
  }

  async crashTapIo(name: string): Promise<void> {
    await this.kinds.tap.crash(name);
  }

  async crashPeerIo(): Promise<void> {
    await this.kinds.peer.crash();
  }

  async crashQemuIo(): Promise<void> {
    await this.kinds.qemu.crash();
  }

  async crashVxlanIo(): Promise<void> {
    await this.kinds.vxlan.crash();
  }

  // ---- VXLAN (src/vxlan/vxlan-ports.ts) ----

  async showVxlan(vid?: number): Promise<VxlanInfo> {
    return this.vxlan.show(vid);
  }

  async setVxlanVni(vid: number, vni: number | null): Promise<void> {
    this.alive();
    this.vlans.add(vid);
    await this.vxlan.setVni(vid, vni);
  }

  async addVxlanRemote(vid: number, host: string, port: number | null): Promise<VtepInfo> {
    this.alive();
    this.peering.keyControl.refuseVxlan(`vxlan remote ${host}`);
    this.vlans.add(vid);
    return this.vxlan.addRemote(vid, host, port);
  }

  async removeVxlanRemote(vid: number, host: string, port: number | null): Promise<void> {
    await this.vxlan.removeRemote(vid, host, port);
  }

  async setVxlanGroup(vid: number, group: string, replyToSource: boolean): Promise<VtepInfo> {
    this.alive();
    this.peering.keyControl.refuseVxlan(`vxlan group ${group}`);
    this.vlans.add(vid);
    return this.vxlan.setGroup(vid, group, replyToSource);
  }

  async removeVxlanGroup(vid: number, group: string): Promise<void> {
    await this.vxlan.removeGroup(vid, group);
  }

  vxlanConfig(): VxlanVlanConfig[] {
    return this.vxlan.list();
  }

  // ---- peers (src/peer/peering.ts, src/peer/peer-ports.ts) ----

  /** Bind the peer socket on -h:-p and start discovery (unless off); `dives start` calls it before the rc file. */
  async startPeering(opts: PeeringOptions): Promise<void> {
    this.alive();
    await this.peering.start(opts);
  }

  showPeers = (): Promise<PeersInfo> => this.peering.show();

  async addStaticPeer(host: string, port: number): Promise<PeerInfo> {
    this.alive();
    return this.peering.addStatic(host, port);
  }

  async removeStaticPeer(host: string, port: number): Promise<void> {
    return this.peering.removeStatic(host, port);
  }

  staticPeers = (): StaticPeer[] => this.peering.staticPeers();

  // ---- cluster keys (src/crypto/key-control.ts) ----
  showKeys = (): KeysInfo => this.peering.keyControl.show();
  addKey = (file: string): KeyInfo => this.peering.keyControl.add(file);
  useKey = (id: string): KeyInfo => this.peering.keyControl.use(id);
  removeKey = (id: string): void => this.peering.keyControl.remove(id);

  private alive(): void {
    if (this.closed) throw new DivesError('EINTERNAL', 'the switch is shutting down');
  }

  /** Stop everything: I/O threads, TAPs (deleting the ones DiVES created), listeners and their socket files, forwarding threads. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.reclaim.close();
    this.eventSources.close();
    // Peers and VTEPs first: nothing more arrives from other switches while the ports go.
    const kinds = kindList(this.kinds);
    for (const k of kinds.filter((k) => k.remote)) await k.close();
    await this.captures.close();
    await this.mirrors.close();
    for (const k of kinds.filter((k) => !k.remote)) await k.close();
    await this.pool.close();
  }
}
