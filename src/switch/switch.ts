// Switch: one DiVES switch on this host — the control plane object behind every
// console command. It owns the forwarding pool, the port table, peering and the TAP and
// QEMU port managers, and answers `show` commands by asking the threads that
// hold the counters. Runs on the main thread.

import { availableParallelism } from 'node:os';
import { DivesError } from '../core/errors.js';
import { DEFAULT_MAX_FRAME, macToString } from '../core/frame.js';
import { DEFAULT_AGEING_TIME_MS, DEFAULT_FDB_CAPACITY } from '../forwarding/fdb.js';
import type { Logger } from '../core/log.js';
import type { PortReport } from '../forwarding/forwarding-messages.js';
import type { ListenSpec, ListenerInfo, MacEntry, PortInfo, SwitchControl, TapInfo, VlanInfo } from '../control/switch-api.js';
import { ForwardingPool } from '../forwarding/forwarding-pool.js';
import { PortTable } from '../forwarding/port-table.js';
import { QemuPorts } from '../qemu/qemu-ports.js';
import { TapPorts } from '../tap/tap-ports.js';
import { PeerPorts } from '../peer/peer-ports.js';
import { Peering } from '../peer/peering.js';
import type { PeeringOptions } from '../peer/peering-options.js';
import type { PeerInfo, PeersInfo, StaticPeer } from '../control/peer-api.js';

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
}

export class Switch implements SwitchControl {
  readonly log: Logger;
  readonly pool: ForwardingPool;
  readonly ports = new PortTable();
  readonly taps: TapPorts;
  readonly qemu: QemuPorts;
  /** Peer ports (the peer I/O thread) and the policy that decides who the peers are. */
  readonly peers: PeerPorts;
  readonly peering: Peering;
  /** VLANs entered with `vlan ID` or holding ports. */
  private readonly vlans = new Set<number>();
  private ringIds = 1;
  private closed = false;

  constructor(opts: SwitchOptions) {
    this.log = opts.log;
    const maxFrame = opts.maxFrame ?? DEFAULT_MAX_FRAME;
    this.pool = new ForwardingPool({
      threads: opts.forwardingThreads ?? availableParallelism(),
      cpuAffinity: opts.cpuAffinity,
      ageingTimeMs: opts.ageingTimeMs ?? DEFAULT_AGEING_TIME_MS,
      fdbCapacity: opts.fdbCapacity ?? DEFAULT_FDB_CAPACITY,
      maxFrame,
      log: this.log,
    });
    const nextRingId = (): number => this.ringIds++;
    this.taps = new TapPorts(this.pool, this.ports, nextRingId, maxFrame, this.log);
    this.qemu = new QemuPorts(this.pool, this.ports, nextRingId, maxFrame, this.log);
    this.peers = new PeerPorts(this.pool, this.ports, nextRingId, maxFrame, this.log, opts.peerOffload ?? true);
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
    const out = new Map<number, VlanInfo>();
    for (const vid of this.vlans) {
      out.set(vid, { vid, ports: 0, macs: 0, workerThread: -1, forwarded: 0, flooded: 0, dropped: 0 });
    }
    await Promise.all(
      this.pool.threads.map(async (t) => {
        const r = await t.request({ type: 'query', what: 'vlans' });
        for (const v of r.vlans ?? []) {
          out.set(v.vid, { vid: v.vid, ports: v.ports, macs: v.macs, workerThread: r.threadId, forwarded: v.forwarded, flooded: v.flooded, dropped: v.dropped });
        }
      }),
    );
    return [...out.values()].sort((a, b) => a.vid - b.vid);
  }

  async showMacs(vid: number): Promise<MacEntry[]> {
    const t = this.pool.threadOf(vid);
    if (t === undefined) return [];
    const r = await t.request({ type: 'query', what: 'macs', vid });
    return (r.macs ?? []).map((e) => ({
      mac: macToString(e.mac),
      portId: e.port,
      port: this.ports.get(e.port)?.name ?? `port ${e.port}`,
      ageSeconds: Math.floor(e.ageMs / 1000),
    }));
  }

  async showPorts(vid?: number): Promise<PortInfo[]> {
    const threads = vid === undefined ? this.pool.threads : [this.pool.threadOf(vid)].filter((t) => t !== undefined);
    const reports: PortReport[] = [];
    await Promise.all(
      threads.map(async (t) => {
        const r = await t.request({ type: 'query', what: 'ports', vid });
        reports.push(...(r.ports ?? []));
      }),
    );
    // Keyed by VLAN and port: a peer port reports once for each VLAN it is a member of.
    const byId = new Map(reports.map((r) => [`${r.vid}/${r.portId}`, r]));
    const qemuStats = await this.qemu.stats();
    return this.ports
      .all()
      .flatMap((p) => (p.kind === 'peer' ? this.peers.memberships(p, vid) : [p]))
      .filter((p) => vid === undefined || p.vid === vid)
      .map((p) => {
        const r = byId.get(`${p.vid}/${p.id}`);
        const drops: Record<string, number> = { ...(r?.drops ?? {}) };
        const tapDrops = p.kind === 'tap' ? this.taps.ioDrops(p.id) : undefined;
        if (tapDrops !== undefined) Object.assign(drops, tapDrops);
        const q = p.kind === 'qemu' ? qemuStats.get(p.id) : undefined;
        if (q !== undefined) Object.assign(drops, { 'rx-ring-full': q.rxRingFull, 'qemu-queue-full': q.queueFull });
        // The engine counts a frame as transmitted when it queued it; subtract
        // what the I/O thread then could not deliver so tx means "left the port".
        const undelivered = (tapDrops?.['tap-write'] ?? 0) + (q?.queueFull ?? 0);
        return {
          id: p.id,
          name: p.name,
          kind: p.kind,
          vid: p.vid,
          rxFrames: r?.rxFrames ?? 0,
          rxBytes: r?.rxBytes ?? 0,
          txFrames: Math.max(0, (r?.txFrames ?? 0) - undelivered),
          txBytes: r?.txBytes ?? 0,
          drops,
        };
      });
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

  async detachTap(vid: number, dev: string): Promise<void> {
    return this.taps.detach(vid, dev);
  }

  async listen(vid: number, spec: ListenSpec): Promise<ListenerInfo> {
    this.alive();
    this.vlans.add(vid);
    return this.qemu.listen(vid, spec);
  }

  async unlisten(vid: number, spec: ListenSpec): Promise<void> {
    return this.qemu.unlisten(vid, spec);
  }

  async crashWorker(vid: number): Promise<void> {
    const t = this.pool.threadOf(vid);
    if (t === undefined) throw new DivesError('EBADARG', `VLAN ${vid} has no forwarding thread yet; attach a port to it first`);
    this.log.warn(`debug: crashing forwarding thread ${t.index} (VLANs ${[...t.vids].join(',')}) on request`);
    t.post({ type: 'crash' });
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
    // Peers first: nothing more arrives from other switches while the ports go.
    await this.peering.close();
    await this.taps.detachAll();
    await this.qemu.close();
    await this.pool.close();
  }
}
