// VxlanConfig: each VLAN's VXLAN configuration as the commands set it — its VNI, its
// static remotes, its group — and the VTEPs it learned, with the port each has; the
// checks a new setting must pass (an address of the sockets' family, one VNI per VLAN,
// one group per VLAN); and the running-config form. Main thread; no sockets or threads
// (src/vxlan/vxlan-ports.ts acts on it).

import { isIP } from 'node:net';
import { DivesError } from '../core/errors.js';
import { VNI_MAX } from './vxlan-header.js';
import type { VxlanSettings } from './vxlan-sockets.js';
import { VTEP_DROPS } from '../core/counters.js';
import type { VtepInfo, VxlanVlanConfig, VxlanVlanInfo } from './vxlan-info.js';
import type { VtepIoStats, VtepKind } from './vxlan-io-messages.js';
import { isMulticastAddress } from '../linux/udp-multicast.js';
import { sockaddrFor, sockaddrParts } from '../linux/udp-socket.js';
import { formatHostPort } from '../linux/host-port.js';

/** A VTEP of a VLAN that has a port: configured, the group, or learned. */
export interface VtepConf {
  vtepId: number;
  portId: number;
  /** Its address in canonical form, and the port datagrams to it go to. */
  address: string;
  port: number;
}

export interface RemoteConf extends VtepConf {
  /** The port as typed; null: the VXLAN port. */
  given: number | null;
}

export interface GroupConf extends VtepConf {
  replyToSource: boolean;
}

export class VlanVxlan {
  /** Set with `vxlan vni N`; null: the vid. */
  vni: number | null = null;
  /** By "address:port". */
  readonly remotes = new Map<string, RemoteConf>();
  group: GroupConf | null = null;
  /** By VTEP id. */
  readonly learned = new Map<number, VtepConf>();
  /** The VXLAN thread carries the VLAN (it has had a VTEP since it was last told otherwise). */
  carried = false;

  constructor(readonly vid: number) {}

  get effectiveVni(): number {
    return this.vni ?? this.vid;
  }

  /** Every VTEP with a port: the group, the remotes, the learned ones. */
  vteps(): VtepConf[] {
    return [...(this.group === null ? [] : [this.group]), ...this.remotes.values(), ...this.learned.values()];
  }
}

/** The refusal of `no vxlan remote` for a remote the VLAN does not have. */
export function notRemote(vid: number, key: string): DivesError {
  return new DivesError('ENOTATTACHED', `VLAN ${vid} has no VXLAN remote ${key}; "show vxlan" lists them`);
}

/** The refusal of `no vxlan group` for a group the VLAN does not have. */
export function notGroup(vid: number, address: string): DivesError {
  return new DivesError('ENOTATTACHED', `VLAN ${vid} has no VXLAN group ${address}; "show vxlan" lists them`);
}

/** The VTEPs of a VLAN with their kinds: the group, the remotes, the learned ones. */
export function kinded(v: VlanVxlan): [VtepKind, VtepConf][] {
  return [
    ...(v.group === null ? [] : [['group', v.group] as [VtepKind, VtepConf]]),
    ...[...v.remotes.values()].map((t): [VtepKind, VtepConf] => ['static', t]),
    ...[...v.learned.values()].map((t): [VtepKind, VtepConf] => ['learned', t]),
  ];
}

/** A VTEP as `show vxlan` prints it, with the counters the VXLAN thread has for it (none yet when undefined). */
export function vtepInfo(kind: VtepKind, t: VtepConf, s?: VtepIoStats): VtepInfo {
  const counts = s === undefined
    ? { framesIn: 0, bytesIn: 0, framesOut: 0, bytesOut: 0, heardSeconds: null, drops: VTEP_DROPS.zero() }
    : { framesIn: s.framesIn, bytesIn: s.bytesIn, framesOut: s.framesOut, bytesOut: s.bytesOut, heardSeconds: s.heardSeconds, drops: s.drops };
  return { address: formatHostPort(t.address, t.port), kind, portId: t.portId, ...counts };
}

/** `vxlan vni N`: 1..16777215 in plain decimal. */
export function parseVni(word: string): number {
  const n = /^[0-9]{1,8}$/.test(word) ? Number(word) : NaN;
  if (!(n >= 1 && n <= VNI_MAX)) throw new DivesError('EBADARG', `VNI must be a number 1..${VNI_MAX}, got ${JSON.stringify(word)}`);
  return n;
}

export class VxlanConfig {
  readonly vlans = new Map<number, VlanVxlan>();

  constructor(readonly settings: VxlanSettings) {}

  get(vid: number): VlanVxlan | undefined {
    return this.vlans.get(vid);
  }

  ensure(vid: number): VlanVxlan {
    let v = this.vlans.get(vid);
    if (v === undefined) {
      v = new VlanVxlan(vid);
      this.vlans.set(vid, v);
    }
    return v;
  }

  /** Forget a VLAN that has nothing configured any more. */
  dropIfEmpty(vid: number): void {
    const v = this.vlans.get(vid);
    if (v !== undefined && v.vni === null && v.remotes.size === 0 && v.group === null && v.learned.size === 0) this.vlans.delete(vid);
  }

  /** Throw EATTACHED when another VLAN with VXLAN configuration carries `vni` (or would, by its vid). */
  checkVni(vid: number, vni: number): void {
    for (const v of this.vlans.values()) {
      if (v.vid !== vid && v.effectiveVni === vni) {
        throw new DivesError('EATTACHED', `VNI ${vni} is VLAN ${v.vid}'s already; give VLAN ${vid} another with "vxlan vni N"`);
      }
    }
  }

  /** A new remote of `vid`: its address, port and key, after the checks (EBADARG, EATTACHED). */
  newRemote(vid: number, host: string, given: number | null): { address: string; port: number; key: string } {
    const address = this.remoteAddress(host);
    const port = given ?? this.settings.port;
    const key = formatHostPort(address, port);
    const v = this.vlans.get(vid);
    if (v?.remotes.has(key) === true) throw new DivesError('EATTACHED', `VLAN ${vid} has VXLAN remote ${key} already`);
    this.checkVni(vid, v?.effectiveVni ?? vid);
    return { address, port, key };
  }

  /** The remote `no vxlan remote` names, and its VLAN; throws ENOTATTACHED when there is none. */
  remote(vid: number, host: string, given: number | null): { v: VlanVxlan; r: RemoteConf; key: string } {
    const key = formatHostPort(this.remoteAddress(host), given ?? this.settings.port);
    const v = this.vlans.get(vid);
    const r = v?.remotes.get(key);
    if (v === undefined || r === undefined) throw notRemote(vid, key);
    return { v, r, key };
  }

  /** A new group of `vid`: its address, after the checks (EBADARG, EATTACHED: one group per VLAN). */
  newGroup(vid: number, word: string): string {
    const address = this.groupAddress(word);
    const v = this.vlans.get(vid);
    const have = v?.group ?? null;
    if (have !== null) throw new DivesError('EATTACHED', `VLAN ${vid} floods to group ${have.address} already; remove it first with "no vxlan group ${have.address}"`);
    this.checkVni(vid, v?.effectiveVni ?? vid);
    return address;
  }

  /** The group `no vxlan group` names, and its VLAN; throws ENOTATTACHED when the VLAN does not use it. */
  group(vid: number, word: string): { v: VlanVxlan; g: GroupConf } {
    const address = this.groupAddress(word);
    const v = this.vlans.get(vid);
    const g = v?.group ?? null;
    if (v === undefined || g === null || g.address !== address) throw notGroup(vid, address);
    return { v, g };
  }

  /** VTEPs learned now, over every VLAN. */
  get learnedCount(): number {
    let n = 0;
    for (const v of this.vlans.values()) n += v.learned.size;
    return n;
  }

  /** Every VLAN (or only `vid`) with its VTEPs, their counters from `stats` by VTEP id, for `show vxlan`. */
  describe(vid: number | undefined, stats: ReadonlyMap<number, VtepIoStats>): VxlanVlanInfo[] {
    return [...this.vlans.values()]
      .filter((v) => vid === undefined || v.vid === vid)
      .sort((a, b) => a.vid - b.vid)
      .map((v) => ({
        vid: v.vid,
        vni: v.effectiveVni,
        group: v.group?.address ?? null,
        replyToSource: v.group?.replyToSource ?? false,
        vteps: kinded(v).map(([kind, t]) => vtepInfo(kind, t, stats.get(t.vtepId))),
      }));
  }

  /** A remote VTEP's address: a unicast address of the sockets' family, canonical. Throws EBADARG. */
  remoteAddress(host: string): string {
    const address = this.canonical(host, 'HOST');
    if (isMulticastAddress(this.settings.family, address)) throw new DivesError('EBADARG', `${host} is a multicast address; flood to a group with "vxlan group ${host}"`);
    if (/^(0\.0\.0\.0|::)$/.test(address)) throw new DivesError('EBADARG', `${host} is a wildcard address; give the remote VTEP's own address`);
    return address;
  }

  /** A group's address: a multicast address of the sockets' family, canonical. Throws EBADARG. */
  groupAddress(word: string): string {
    const address = this.canonical(word, 'ADDR');
    if (!isMulticastAddress(this.settings.family, address)) {
      throw new DivesError('EBADARG', `ADDR must be a multicast address (${this.settings.family === 'udp4' ? '224.0.0.0/4' : 'ff00::/8'}), got ${JSON.stringify(word)}`);
    }
    return address;
  }

  private canonical(word: string, name: string): string {
    const host = /^\[.*\]$/.test(word) ? word.slice(1, -1) : word;
    const family = this.settings.family;
    const want = family === 'udp4' ? 4 : 6;
    if (isIP(host.replace(/%.*$/, '')) !== want) {
      const which = family === 'udp4' ? 'IPv4' : 'IPv6';
      throw new DivesError('EBADARG', `${name} must be an ${which} address (the VXLAN sockets are ${which}${this.settings.local === null ? '' : `, --vxlan-local ${this.settings.local}`}), got ${JSON.stringify(word)}`);
    }
    const parts = sockaddrParts(family, sockaddrFor(family, host, 0));
    const zone = host.includes('%') ? host.slice(host.indexOf('%')) : '';
    return `${parts.address}${zone}`;
  }

  /** Every VLAN's configuration as typed, by vid, for the running-config. */
  list(): VxlanVlanConfig[] {
    return [...this.vlans.values()]
      .filter((v) => v.vni !== null || v.remotes.size > 0 || v.group !== null)
      .sort((a, b) => a.vid - b.vid)
      .map((v) => ({
        vid: v.vid,
        vni: v.vni,
        remotes: [...v.remotes.values()].map((r) => ({ host: r.address, port: r.given })),
        group: v.group === null ? null : { address: v.group.address, replyToSource: v.group.replyToSource },
      }));
  }
}
