// SampleVxlan: the VXLAN part of the sample switch (src/docs/sample-switch.ts) — made-up
// VTEPs with counters, kept in the same VxlanConfig the real switch uses
// (src/vxlan/vxlan-config.ts), so the sample refuses what the switch refuses, with the
// same words. `npm run docs` shows its replies; the command tests run against it. Pure:
// no threads or sockets (addresses are checked with inet_pton).

import { VTEP_DROPS, VXLAN_COUNTERS } from '../core/counters.js';
import { VxlanConfig, vtepInfo, type VtepConf } from '../vxlan/vxlan-config.js';
import type { VtepInfo, VxlanInfo, VxlanVlanConfig } from '../vxlan/vxlan-info.js';
import type { VtepIoStats } from '../vxlan/vxlan-io-messages.js';

export class SampleVxlan {
  readonly config = new VxlanConfig({ port: 4789, local: '10.0.0.1', family: 'udp4', maxVteps: 256 });
  sourcePorts = [49731, 50212, 51907, 53340, 55018, 57264, 60122, 63305];
  counters = VXLAN_COUNTERS.zero();
  drops = VTEP_DROPS.zero();
  lastStranger: string | null = null;
  /** What the VXLAN thread would have counted, by VTEP id. */
  readonly stats = new Map<number, VtepIoStats>();
  #nextVtep = 1;

  constructor(
    /** The sample switch's next port id. */
    readonly nextPortId: () => number,
  ) {}

  #vtep(address: string, port: number): VtepConf {
    return { vtepId: this.#nextVtep++, portId: this.nextPortId(), address, port };
  }

  /** Counters for a VTEP, as traffic would have left them. */
  count(t: VtepConf, counts: Partial<VtepIoStats>): void {
    this.stats.set(t.vtepId, { vtepId: t.vtepId, framesIn: 0, bytesIn: 0, framesOut: 0, bytesOut: 0, heardSeconds: null, drops: VTEP_DROPS.zero(), ...counts });
  }

  show(vid?: number): VxlanInfo {
    const { port, local, maxVteps } = this.config.settings;
    return {
      running: true, port, local, maxVteps, sourcePorts: this.sourcePorts, learnedVteps: this.config.learnedCount,
      vlans: this.config.describe(vid, this.stats), counters: this.counters, drops: this.drops, lastStranger: this.lastStranger,
    };
  }

  setVni(vid: number, vni: number | null): void {
    this.config.checkVni(vid, vni ?? vid);
    this.config.ensure(vid).vni = vni;
    this.config.dropIfEmpty(vid);
  }

  addRemote(vid: number, host: string, given: number | null): VtepInfo {
    const { address, port, key } = this.config.newRemote(vid, host, given);
    const t = this.#vtep(address, port);
    this.config.ensure(vid).remotes.set(key, { ...t, given });
    return vtepInfo('static', t);
  }

  removeRemote(vid: number, host: string, given: number | null): void {
    const { v, key } = this.config.remote(vid, host, given);
    v.remotes.delete(key);
    this.config.dropIfEmpty(vid);
  }

  setGroup(vid: number, word: string, replyToSource: boolean): VtepInfo {
    const address = this.config.newGroup(vid, word);
    const t = this.#vtep(address, this.config.settings.port);
    this.config.ensure(vid).group = { ...t, replyToSource };
    return vtepInfo('group', t);
  }

  removeGroup(vid: number, word: string): void {
    const { v } = this.config.group(vid, word);
    v.group = null;
    v.learned.clear();
    this.config.dropIfEmpty(vid);
  }

  /** A VTEP learned on the group of `vid`. */
  learn(vid: number, address: string, port: number): VtepConf {
    const t = this.#vtep(address, port);
    this.config.ensure(vid).learned.set(t.vtepId, t);
    return t;
  }

  list(): VxlanVlanConfig[] {
    return this.config.list();
  }
}

/**
 * The sample's VXLAN: VLAN 20 carried as VNI 5020 to a static remote, a group and a VTEP
 * learned on it, which have carried a few frames; two bad datagrams were dropped.
 */
export function sampleVxlan(nextPortId: () => number): SampleVxlan {
  const x = new SampleVxlan(nextPortId);
  x.setVni(20, 5020);
  x.setGroup(20, '239.1.1.1', false);
  x.addRemote(20, '10.0.0.5', null);
  const [group, remote] = x.config.ensure(20).vteps();
  const learned = x.learn(20, '10.0.0.6', 4789);
  x.count(group, { framesOut: 12, bytesOut: 1080 });
  x.count(remote, { framesIn: 40, bytesIn: 3600, framesOut: 52, bytesOut: 4420, heardSeconds: 1 });
  x.count(learned, { framesIn: 9, bytesIn: 810, framesOut: 7, bytesOut: 630, heardSeconds: 4, drops: { ...VTEP_DROPS.zero(), 'queue-full': 2 } });
  x.counters = { ...VXLAN_COUNTERS.zero(), 'datagrams-in': 49, 'datagrams-out': 71, flooded: 12, 'bad-header': 1, 'unknown-vni': 3 };
  x.drops = { ...VTEP_DROPS.zero(), 'queue-full': 2 };
  return x;
}
