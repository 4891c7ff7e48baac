// VtepTable: what the VXLAN I/O thread knows of VLANs and VTEPs — which VLAN each VNI
// is, which VTEP a datagram came from, where a frame for a VTEP port goes — and the
// VTEPs it learns on VLANs with a group, bounded by --vxlan-max-vteps. VXLAN I/O thread
// only; main sees snapshots (src/vxlan/vxlan-io.ts answers `stats`).
//
// A datagram's VTEP is found by its source address. A configured remote is recognised by
// its address alone, whatever port the datagram came from: Linux sends each flow from a
// port hashed from the inner frame and takes datagrams only on the VXLAN port. A VTEP
// learned on a group is answered at its address and the VXLAN port too, or, on a group
// configured `reply-to-source`, at the very port it sent from, as vxvde expects (it takes
// unicast only on its sending socket): then address and port name the VTEP.
//
// Lookups allocate nothing: keys are numbers (src/linux/udp-socket.ts sockaddrKey), and
// IPv6 keys, which are hashes, are confirmed against the sockaddr. Learning a VTEP
// allocates its record, once per VTEP, at most maxVteps of them.

import { VTEP_DROPS } from '../core/counters.js';
import { loadLibc } from '../linux/libc.js';
import { addressOf, type Address } from '../linux/mmsg.js';
import { sockaddrKey, sockaddrLen, type UdpFamily } from '../linux/udp-socket.js';
import type { VtepIoStats, VtepKind, VtepLearning } from './vxlan-io-messages.js';

/** One VTEP of one VLAN: where its frames go, its port, its counters. */
export class VtepRec {
  /** Main's id; -1 while a learned one waits for its port. */
  id = -1;
  /** Its port in the VLAN, -1 while it has none (learned, waiting or refused). */
  portId = -1;
  framesIn = 0;
  bytesIn = 0;
  framesOut = 0;
  bytesOut = 0;
  /** The thread clock (seconds) of its last datagram; -1: none yet. */
  heardS = -1;
  /** A learned VTEP main was told is silent (or refused): it is not told again. */
  told = false;
  /** Indexed by VTEP_DROP. */
  readonly drops = VTEP_DROPS.create();
  /** The native address of `sockaddr`, for sendmmsg. */
  readonly at: Address;

  constructor(
    readonly vid: number,
    readonly kind: VtepKind,
    /** Where datagrams to it go. */
    readonly sockaddr: Buffer,
    /** The key it is found by: its address's (static, or learned by address), or its address and port's. */
    readonly key: number,
  ) {
    this.at = addressOf(loadLibc(), sockaddr);
  }

  snapshot(nowS: number): VtepIoStats {
    return {
      vtepId: this.id,
      framesIn: this.framesIn,
      bytesIn: this.bytesIn,
      framesOut: this.framesOut,
      bytesOut: this.bytesOut,
      heardSeconds: this.heardS < 0 ? null : nowS - this.heardS,
      drops: VTEP_DROPS.toRecord(this.drops),
    };
  }
}

/** One VLAN the thread carries. */
export class VlanRec {
  /** Static remotes and VTEPs learned by address, by address key. */
  readonly byAddr = new Map<number, VtepRec[]>();
  /** VTEPs learned by address and source port, by sockaddr key. */
  readonly bySource = new Map<number, VtepRec[]>();
  /** Its group's VTEP, if it has one: floods go there, and VTEPs not yet learned come in as it. */
  group: VtepRec | null = null;

  constructor(
    readonly vid: number,
    public vni: number,
    public fw: number,
    public learning: VtepLearning,
  ) {}
}

/** A configured remote goes first, so a datagram from its address is its even while a learned VTEP of that address waits to go. */
function push(map: Map<number, VtepRec[]>, rec: VtepRec): void {
  const list = map.get(rec.key) ?? [];
  map.set(rec.key, rec.kind === 'static' ? [rec, ...list] : [...list, rec]);
}

function drop(map: Map<number, VtepRec[]>, rec: VtepRec): void {
  const rest = (map.get(rec.key) ?? []).filter((r) => r !== rec);
  if (rest.length === 0) map.delete(rec.key);
  else map.set(rec.key, rest);
}

/** The same address (and IPv6 scope) in two sockaddrs, ports aside. */
function sameAddress(family: UdpFamily, a: Uint8Array, aOff: number, b: Uint8Array, bOff: number): boolean {
  const from = family === 'udp4' ? 4 : 8;
  const to = family === 'udp4' ? 8 : 28;
  for (let i = from; i < to; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

function find(list: VtepRec[] | undefined, family: UdpFamily, names: Uint8Array, at: number, withPort: boolean): VtepRec | undefined {
  if (list === undefined) return undefined;
  for (let i = 0; i < list.length; i++) {
    const sa = list[i].sockaddr;
    if (sameAddress(family, names, at, sa, 0) && (!withPort || (names[at + 2] === sa[2] && names[at + 3] === sa[3]))) return list[i];
  }
  return undefined;
}

export class VtepTable {
  /** VLANs by VNI, and by vid for the tx path. */
  private readonly byVni = new Map<number, VlanRec>();
  readonly byVid: (VlanRec | undefined)[] = new Array<VlanRec | undefined>(4096);
  /** VTEPs by main's id, and by port id for the tx path. */
  readonly byId = new Map<number, VtepRec>();
  readonly byPort: (VtepRec | undefined)[] = [];
  /** Learned VTEPs, waiting, refused or with a port. */
  private learned = 0;

  constructor(
    private readonly family: UdpFamily,
    /** The VXLAN port, where a VTEP learned by address takes datagrams. */
    private readonly port: number,
    readonly maxVteps: number,
  ) {}

  vlanOfVni(vni: number): VlanRec | undefined {
    return this.byVni.get(vni);
  }

  /** Carry `vid` as `vni` (vni -1: stop carrying it; its VTEPs were forgotten first). */
  setVlan(vid: number, vni: number, fw: number, learning: VtepLearning): void {
    const have = this.byVid[vid];
    if (have !== undefined) this.byVni.delete(have.vni);
    if (vni < 0) {
      // Main forgot the VTEPs with ports first; the ones still waiting go with the VLAN.
      for (const map of have === undefined ? [] : [have.byAddr, have.bySource]) {
        for (const list of map.values()) for (const rec of list) if (rec.kind === 'learned') this.learned--;
      }
      this.byVid[vid] = undefined;
      return;
    }
    const v = have ?? new VlanRec(vid, vni, fw, learning);
    v.vni = vni;
    v.fw = fw;
    v.learning = learning;
    this.byVid[vid] = v;
    this.byVni.set(vni, v);
  }

  /** The VTEP the datagram whose sender's sockaddr is names[at..] came from, on VLAN `v`, if known. */
  lookup(v: VlanRec, names: Uint8Array, at: number): VtepRec | undefined {
    const key = sockaddrKey(this.family, names, at);
    const port = (names[at + 2] << 8) | names[at + 3];
    const byAddr = find(v.byAddr.get(key - port), this.family, names, at, false);
    if (byAddr !== undefined || v.learning !== 'source-port') return byAddr;
    return find(v.bySource.get(key), this.family, names, at, true);
  }

  /**
   * A VTEP first heard now, on a VLAN that learns them: its record, waiting for main to
   * give it a port; null when maxVteps are learned already.
   */
  learn(v: VlanRec, names: Uint8Array, at: number, nowS: number): VtepRec | null {
    if (this.learned >= this.maxVteps) return null;
    const len = sockaddrLen(this.family);
    const sa = Buffer.alloc(len);
    Buffer.from(names.buffer, names.byteOffset + at, len).copy(sa);
    const bySource = v.learning === 'source-port';
    if (!bySource) sa.writeUInt16BE(this.port, 2);
    const key = sockaddrKey(this.family, sa, 0) - (bySource ? 0 : this.port);
    const rec = new VtepRec(v.vid, 'learned', sa, key);
    rec.heardS = nowS;
    push(bySource ? v.bySource : v.byAddr, rec);
    this.learned++;
    return rec;
  }

  /** Main's word on a VTEP: a configured one, a group, or a learned one given its port (found again if it waits). */
  setVtep(vid: number, kind: VtepKind, sockaddr: Buffer, id: number, portId: number, nowS: number): void {
    const v = this.byVid[vid];
    if (v === undefined) return;
    let rec: VtepRec | undefined;
    if (kind === 'group') {
      rec = new VtepRec(vid, kind, sockaddr, sockaddrKey(this.family, sockaddr, 0));
      v.group = rec;
    } else {
      // A learned VTEP that waits is the record the datagrams already counted on.
      rec = this.lookup(v, sockaddr, 0);
      if (rec === undefined || rec.kind !== kind || (kind === 'learned' && rec.id >= 0)) {
        const bySource = kind === 'learned' && v.learning === 'source-port';
        rec = new VtepRec(vid, kind, sockaddr, sockaddrKey(this.family, sockaddr, 0) - (bySource ? 0 : sockaddr.readUInt16BE(2)));
        push(bySource ? v.bySource : v.byAddr, rec);
        if (kind === 'learned') this.learned++;
        // Told again after a restart: it has the ageing time from now to be heard.
        rec.heardS = nowS;
      }
    }
    rec.id = id;
    rec.portId = portId;
    this.byId.set(id, rec);
    this.byPort[portId] = rec;
  }

  /** Main refused a learned VTEP a port: it stays a record (counted, silent in time), its frames the group's. */
  refuse(vid: number, sockaddr: Buffer): void {
    const v = this.byVid[vid];
    const rec = v === undefined ? undefined : this.lookup(v, sockaddr, 0);
    if (rec !== undefined && rec.id < 0) rec.told = true;
  }

  /** Forget a VTEP; returns it, so its drops can be kept. */
  remove(id: number): VtepRec | undefined {
    const rec = this.byId.get(id);
    if (rec === undefined) return undefined;
    this.byId.delete(id);
    if (this.byPort[rec.portId] === rec) this.byPort[rec.portId] = undefined;
    this.unlink(rec);
    return rec;
  }

  private unlink(rec: VtepRec): void {
    const v = this.byVid[rec.vid];
    if (v === undefined) return;
    if (v.group === rec) v.group = null;
    drop(v.byAddr, rec);
    drop(v.bySource, rec);
    if (rec.kind === 'learned') this.learned--;
  }

  /**
   * Learned VTEPs silent for `ageingS`: those with a port are returned for main to take
   * away (once each); those without one (refused, or waiting on a VLAN that went) are
   * forgotten here.
   */
  silent(nowS: number, ageingS: number, out: VtepRec[]): void {
    for (const v of this.byVid) {
      if (v === undefined) continue;
      for (const map of [v.byAddr, v.bySource]) {
        for (const list of map.values()) {
          for (const rec of list) {
            if (rec.kind !== 'learned' || nowS - rec.heardS < ageingS) continue;
            if (rec.id >= 0) {
              if (!rec.told) out.push(rec);
              rec.told = true;
            } else {
              this.unlink(rec);
            }
          }
        }
      }
    }
  }

  /** Every VTEP with an id, for `stats`. */
  all(): VtepRec[] {
    return [...this.byId.values()];
  }
}
