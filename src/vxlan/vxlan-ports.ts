// VxlanPorts: VXLAN VTEPs as switch ports. It starts the VXLAN I/O thread with a VLAN's
// first remote or group (src/vxlan/vxlan-thread.ts binds the sockets and runs it), gives
// each VTEP — a static remote, a group, a VTEP learned on a group — one port in its VLAN,
// and tells the thread which VNI each VLAN is, which VTEPs exist and their ports. It also
// answers `show vxlan`. Main thread; the commands' checks and the configuration are
// src/vxlan/vxlan-config.ts.
//
// Every VTEP port is a peer to the forwarding engine (split horizon: no frame from a peer
// of any kind reaches another), and a plain port (no virtio_net_hdr; its VLAN's TAPs lose
// their offloads, src/switch/switch.ts). A learned VTEP's port takes no floods: they reach
// it through the group, and a copy of its own would make it get each flood twice.
//
// Changes run one at a time on a promise chain, in the order peer ports use: a port joins
// its VLAN in the forwarding thread before the VXLAN thread may queue frames for it, and
// leaves the VXLAN thread before the forwarding thread, so a freed port id never carries
// a stale frame into another port.

import { VTEP_DROPS, VXLAN_COUNTERS } from '../core/counters.js';
import type { Logger } from '../core/log.js';
import { LogLimiter } from '../core/log-limiter.js';
import type { PortDrops } from '../core/port-kind.js';
import type { KindThread, PortKindProvider } from '../core/port-kind-provider.js';
import type { ForwardingPool } from '../forwarding/forwarding-pool.js';
import type { PortKindParts } from '../forwarding/port-kind-parts.js';
import type { PortTable } from '../forwarding/port-table.js';
import { VxlanConfig, kinded, vtepInfo, type VlanVxlan, type VtepConf } from './vxlan-config.js';
import type { VxlanInfo, VtepInfo, VxlanVlanConfig } from './vxlan-info.js';
import type { VtepKind, VxlanEvent } from './vxlan-io-messages.js';
import type { VxlanSettings } from './vxlan-sockets.js';
import { VxlanThread } from './vxlan-thread.js';
import { formatHostPort } from '../linux/host-port.js';

export class VxlanPorts implements PortKindProvider {
  readonly kind = 'vxlan';
  /** A VTEP is another switch: split horizon with peers, and it goes first when the switch stops. */
  readonly remote = true;
  /** A VTEP takes plain Ethernet frames only, but no peer's frame ever reaches it (split horizon). */
  readonly offloads = { fromTaps: false, fromPeers: true };
  readonly config: VxlanConfig;
  readonly thread: VxlanThread;
  private nextVtepId = 1;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly lines: LogLimiter;
  private closed = false;
  private readonly pool: ForwardingPool;
  private readonly ports: PortTable;
  private readonly log: Logger;

  constructor(parts: PortKindParts, ageingMs: number, settings: VxlanSettings) {
    const { pool, rings, maxFrame, log } = parts;
    this.pool = pool;
    this.ports = parts.ports;
    this.log = log;
    this.config = new VxlanConfig(settings);
    this.lines = LogLimiter.of(log);
    this.thread = new VxlanThread({ pool, rings, maxFrame, ageingMs, settings, log, replay: () => this.replay(), onEvent: (e) => this.onEvent(e) });
  }

  /** The VXLAN I/O thread, once it was started (with the first remote or group), for `show threads`. */
  threads(): KindThread[] {
    return this.thread.started ? [{ io: this.thread.io.supervisor, cpu: -1, wakeups: this.thread.io.wakeups }] : [];
  }

  /** The VXLAN thread counts its drops per VTEP (`show vxlan`), not per port. */
  async ioDrops(): Promise<Map<number, PortDrops>> {
    return new Map();
  }

  crash(): Promise<void> {
    return this.thread.crash();
  }

  get settings(): VxlanSettings {
    return this.config.settings;
  }

  /** A new incarnation of the thread is told every VLAN it carried and every VTEP with its port. */
  private replay(): void {
    for (const v of this.config.vlans.values()) {
      if (!v.carried) continue;
      void this.tellVlan(v).catch(() => undefined);
      for (const [kind, t] of kinded(v)) void this.tellVtep(v, kind, t).catch(() => undefined);
    }
  }

  private onEvent(e: VxlanEvent): void {
    switch (e.type) {
      case 'heard':
        void this.serial(() => this.learned(e.vid, e.address, e.port)).catch((err: unknown) => this.lines.error('vxlan-learn', `vxlan: VTEP ${formatHostPort(e.address, e.port)}: ${String(err)}`));
        break;
      case 'silent':
        void this.serial(() => this.forgetLearned(e.vtepId)).catch(() => undefined);
        break;
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  // ---- the commands ----

  /** `vxlan vni N` (null: back to the vid). */
  setVni(vid: number, vni: number | null): Promise<void> {
    return this.serial(async () => {
      this.config.checkVni(vid, vni ?? vid);
      const v = this.config.ensure(vid);
      v.vni = vni;
      if (v.carried) await this.tellVlan(v);
      this.config.dropIfEmpty(vid);
    });
  }

  /** `vxlan remote HOST [PORT]`: a static remote; floods reach it by head-end replication. */
  addRemote(vid: number, host: string, given: number | null): Promise<VtepInfo> {
    return this.serial(async () => {
      const { address, port, key } = this.config.newRemote(vid, host, given);
      this.thread.ensureStarted();
      const vlan = this.config.ensure(vid);
      // A VTEP learned at that address gives way to the configured one.
      for (const l of [...vlan.learned.values()]) if (l.address === address) await this.dropLearned(vlan, l);
      let t: VtepConf;
      try {
        t = await this.addPort(vlan, address, port, true);
      } catch (err) {
        this.config.dropIfEmpty(vid);
        throw err;
      }
      vlan.remotes.set(key, { ...t, given });
      await this.tellVtep(vlan, 'static', t);
      this.log.info(`vxlan: VLAN ${vid} (VNI ${vlan.effectiveVni}): remote ${key} is port ${t.portId}`);
      return vtepInfo('static', t);
    });
  }

  /** `no vxlan remote HOST [PORT]`. */
  removeRemote(vid: number, host: string, given: number | null): Promise<void> {
    return this.serial(async () => {
      const { v, r, key } = this.config.remote(vid, host, given);
      v.remotes.delete(key);
      await this.dropPort(v, r);
      await this.settle(v);
      this.log.info(`vxlan: VLAN ${vid}: remote ${key} removed`);
    });
  }

  /** `vxlan group ADDR [reply-to-source]`: floods go to the group, VTEPs heard on it are learned. */
  setGroup(vid: number, word: string, replyToSource: boolean): Promise<VtepInfo> {
    return this.serial(async () => {
      const address = this.config.newGroup(vid, word);
      const sockets = this.thread.ensureStarted();
      sockets.join(address);
      const v = this.config.ensure(vid);
      let t: VtepConf;
      try {
        t = await this.addPort(v, address, this.settings.port, true);
      } catch (err) {
        sockets.leave(address);
        this.config.dropIfEmpty(vid);
        throw err;
      }
      v.group = { ...t, replyToSource };
      // Learning follows the group: the VLAN is told again, then the group itself.
      await this.tellVlan(v);
      await this.tellVtep(v, 'group', t);
      this.log.info(`vxlan: VLAN ${vid} (VNI ${v.effectiveVni}): floods go to group ${formatHostPort(address, t.port)}, port ${t.portId}; VTEPs heard there are learned${replyToSource ? ' and answered at their source port' : ''}`);
      return vtepInfo('group', t);
    });
  }

  /** `no vxlan group ADDR`: the group's port goes, and every VTEP learned on it. */
  removeGroup(vid: number, word: string): Promise<void> {
    return this.serial(async () => {
      const { v, g } = this.config.group(vid, word);
      const address = g.address;
      for (const l of [...v.learned.values()]) await this.dropLearned(v, l);
      v.group = null;
      if (v.carried) await this.tellVlan(v);
      await this.dropPort(v, g);
      this.thread.socketsOrNull?.leave(address);
      await this.settle(v);
      this.log.info(`vxlan: VLAN ${vid}: group ${address} removed`);
    });
  }

  /** Every VLAN's configuration as typed, for the running-config. */
  list(): VxlanVlanConfig[] {
    return this.config.list();
  }

  // ---- ports and what the thread is told ----

  /** A port for a VTEP of `v`, a member of its VLAN in the forwarding thread. */
  private async addPort(v: VlanVxlan, address: string, port: number, floods: boolean): Promise<VtepConf> {
    const fw = this.pool.place(v.vid);
    // The ring pair first: a budget refusal leaves no port behind.
    const txRingId = this.thread.txRingFor(fw);
    const rec = this.ports.add('vxlan', v.vid, `vxlan:${formatHostPort(address, port)}`);
    fw.configure(memberKey(rec.id), { type: 'add-port', vid: v.vid, portId: rec.id, isPeer: true, txRingId, vnet: false, floods });
    await fw.request({ type: 'sync' }).catch(() => undefined);
    if (!v.carried) await this.tellVlan(v);
    return { vtepId: this.nextVtepId++, portId: rec.id, address, port };
  }

  /** Take a VTEP's port away: out of the VXLAN thread first, then out of the VLAN (its MACs with it). */
  private async dropPort(v: VlanVxlan, t: VtepConf): Promise<void> {
    await this.thread.request({ type: 'unvtep', vtepId: t.vtepId });
    const fw = this.pool.threadOf(v.vid);
    fw?.unconfigure([memberKey(t.portId)], { type: 'remove-port', vid: v.vid, portId: t.portId });
    await fw?.request({ type: 'sync' }).catch(() => undefined);
    this.ports.remove(t.portId);
  }

  /** A VLAN left without VTEPs is no longer carried; one without any setting is forgotten. */
  private async settle(v: VlanVxlan): Promise<void> {
    if (v.carried && v.group === null && v.remotes.size === 0 && v.learned.size === 0) {
      await this.thread.request({ type: 'vlan', vid: v.vid, vni: -1, fw: -1, learning: 'none' });
      v.carried = false;
    }
    this.config.dropIfEmpty(v.vid);
  }

  private async tellVlan(v: VlanVxlan): Promise<void> {
    const fw = this.pool.place(v.vid);
    const learning = v.group === null ? 'none' : v.group.replyToSource ? 'source-port' : 'address';
    v.carried = true;
    await this.thread.request({ type: 'vlan', vid: v.vid, vni: v.effectiveVni, fw: fw.index, learning });
  }

  private tellVtep(v: VlanVxlan, kind: VtepKind, t: VtepConf): Promise<void> {
    return this.thread.request({ type: 'vtep', vtepId: t.vtepId, vid: v.vid, kind, address: t.address, port: t.port, portId: t.portId });
  }

  /** The thread heard a VTEP it does not know on VLAN `vid`: give it a port, unless the VLAN no longer learns. */
  private async learned(vid: number, address: string, port: number): Promise<void> {
    const v = this.config.get(vid);
    const known = v?.vteps().some((t) => t.address === address && t.port === port) === true;
    if (v === undefined || v.group === null || known || this.closed) {
      this.thread.post({ type: 'refused', vid, address, port });
      return;
    }
    let t: VtepConf;
    try {
      t = await this.addPort(v, address, port, false);
    } catch (err) {
      this.thread.post({ type: 'refused', vid, address, port });
      throw err;
    }
    v.learned.set(t.vtepId, t);
    await this.tellVtep(v, 'learned', t);
    this.lines.info('vxlan-learned', `vxlan: VLAN ${vid}: learned VTEP ${formatHostPort(address, port)} on group ${v.group.address}, port ${t.portId}`);
  }

  /** A learned VTEP fell silent for the ageing time: its port goes. */
  private async forgetLearned(vtepId: number): Promise<void> {
    for (const v of this.config.vlans.values()) {
      const t = v.learned.get(vtepId);
      if (t === undefined) continue;
      await this.dropLearned(v, t);
      this.lines.info('vxlan-silent', `vxlan: VLAN ${v.vid}: learned VTEP ${formatHostPort(t.address, t.port)} silent for the ageing time; its port ${t.portId} and MACs are gone`);
      await this.settle(v);
      return;
    }
  }

  private async dropLearned(v: VlanVxlan, t: VtepConf): Promise<void> {
    v.learned.delete(t.vtepId);
    await this.dropPort(v, t);
  }

  // ---- show ----

  /** Everything `show vxlan` prints, of every VLAN or of `vid`. */
  async show(vid?: number): Promise<VxlanInfo> {
    const io = (await this.thread.stats()) ?? { vteps: [], counters: VXLAN_COUNTERS.zero(), drops: VTEP_DROPS.zero(), lastStranger: null };
    const { port, local, maxVteps } = this.settings;
    return {
      running: this.thread.running, port, local, maxVteps, sourcePorts: this.thread.sourcePorts, learnedVteps: this.config.learnedCount,
      vlans: this.config.describe(vid, new Map(io.vteps.map((s) => [s.vtepId, s]))),
      counters: io.counters, drops: io.drops, lastStranger: io.lastStranger,
    };
  }

  /** Stop the thread and close the sockets. VTEP ports are left to the switch's own shutdown. */
  async close(): Promise<void> {
    this.closed = true;
    await this.thread.close();
  }
}

/** The forwarding-thread configuration key of one VTEP port. */
function memberKey(portId: number): string {
  return `vxlan-port:${portId}`;
}
