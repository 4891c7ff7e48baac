// Switch: one DiVES switch on this host — the control plane object behind every
// console command. It owns the forwarding pool, the port table, peering and the TAP and
// QEMU port managers, and answers `show` commands by asking the threads that
// hold the counters. Runs on the main thread.

import { availableParallelism } from 'node:os';
import { DivesError } from '../core/errors.js';
import { DEFAULT_MAX_FRAME, macToString, parseMac } from '../core/frame.js';
import { DEFAULT_AGEING_TIME_MS, DEFAULT_FDB_CAPACITY } from '../forwarding/fdb.js';
import type { Logger } from '../core/log.js';
import type { ListenSpec, ListenerInfo, MacEntry, PortInfo, RingInfo, SwitchControl, TapInfo, ThreadInfo, TraceInfo, VlanInfo } from '../control/switch-api.js';
import { ForwardingPool } from '../forwarding/forwarding-pool.js';
import { LeftPorts } from '../forwarding/left-ports.js';
import { PortTable } from '../forwarding/port-table.js';
import { RingTable } from '../forwarding/ring-table.js';
import { MemoryReclaim, enableMemoryReclaim } from './memory-reclaim.js';
import { STORM_CLASSES, type StormClass } from '../forwarding/port-limits.js';
import { QemuPorts } from '../qemu/qemu-ports.js';
import { TapPorts } from '../tap/tap-ports.js';
import { PeerPorts } from '../peer/peer-ports.js';
import { Peering } from '../peer/peering.js';
import type { PeeringOptions } from '../peer/peering-options.js';
import type { PeerInfo, PeersInfo, StaticPeer } from '../peer/peer-info.js';
import { reportPorts, reportThreads, reportVlans } from './switch-reports.js';

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
  readonly taps: TapPorts;
  readonly qemu: QemuPorts;
  /** Peer ports (the peer I/O thread) and the policy that decides who the peers are. */
  readonly peers: PeerPorts;
  readonly peering: Peering;
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
    this.left = new LeftPorts(this.ports, this.log);
    this.pool.onPortLeft = (vid, portId, drops) => this.left.forwarding(vid, portId, drops);
    this.taps = new TapPorts(this.pool, this.ports, this.rings, maxFrame, this.log, this.left);
    this.qemu = new QemuPorts(this.pool, this.ports, this.rings, maxFrame, this.log, this.left, opts.maxConnections);
    this.reclaim = new MemoryReclaim(() => {
      for (const t of this.pool.threads) t.post({ type: 'gc' });
      this.qemu.gc();
    });
    this.rings.onRemove = () => this.reclaim.soon();
    this.peers = new PeerPorts(this.pool, this.ports, this.rings, maxFrame, this.log, opts.peerOffload ?? true);
    // Offloads follow membership: any port that needs plain frames (QEMU, a
    // peer that does not take offloaded ones) in a VLAN turns them off for that
    // VLAN's TAPs before it can receive a frame (the port table changes before
    // the port is wired), and peers hear which VLANs need plain frames here.
    this.ports.onChange(() => this.updateOffloads());
    this.peers.onOffloadChange = () => this.updateOffloads();
    this.peering = new Peering(this.peers, this.log);
  }

  ensureVlan(vid: number): void {
    this.vlans.add(vid);
  }

  async showVlans(): Promise<VlanInfo[]> {
    return reportVlans(this, this.vlans);
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
    return reportPorts(this, vid);
  }

  async showThreads(): Promise<ThreadInfo[]> {
    return reportThreads(this);
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
    const info = await this.taps.attach(vid, dev);
    this.updateOffloads();
    return info;
  }

  /** See TapPorts.applyOffloads and PeerPorts.takesOffload; docs/architecture.md says why. */
  private updateOffloads(): void {
    const plain = new Set(this.ports.all().filter((p) => p.kind !== 'tap' && p.kind !== 'peer').map((p) => p.vid));
    this.taps.applyOffloads((vid) => !plain.has(vid) && this.peers.takesOffload(vid));
    this.peers.advertise([...plain].sort((a, b) => a - b));
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

  async listen(vid: number, spec: ListenSpec, maxConnections: number | null = null): Promise<ListenerInfo> {
    this.alive();
    this.vlans.add(vid);
    return this.qemu.listen(vid, spec, maxConnections);
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
    await this.taps.crashIo(name);
  }

  async crashPeerIo(): Promise<void> {
    await this.peers.crash();
  }

  async crashQemuIo(): Promise<void> {
    await this.qemu.crash();
  }

  // ---- peers (src/peer/peering.ts, src/peer/peer-ports.ts) ----

  /** Bind the peer socket on -h:-p and start discovery (unless off); `dives start` calls it before the rc file. */
  async startPeering(opts: PeeringOptions): Promise<void> {
    this.alive();
    await this.peering.start(opts);
  }

  async showPeers(): Promise<PeersInfo> {
    return this.peering.show();
  }

  async addStaticPeer(host: string, port: number): Promise<PeerInfo> {
    this.alive();
    return this.peering.addStatic(host, port);
  }

  async removeStaticPeer(host: string, port: number): Promise<void> {
    return this.peering.removeStatic(host, port);
  }

  staticPeers(): StaticPeer[] {
    return this.peering.staticPeers();
  }

  private alive(): void {
    if (this.closed) throw new DivesError('EINTERNAL', 'the switch is shutting down');
  }

  /** Stop everything: I/O threads, TAPs (deleting the ones DiVES created), listeners and their socket files, forwarding threads. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.reclaim.close();
    // Peers first: nothing more arrives from other switches while the ports go.
    await this.peering.close();
    await this.taps.detachAll();
    this.taps.watch.close();
    await this.qemu.close();
    await this.pool.close();
  }
}
