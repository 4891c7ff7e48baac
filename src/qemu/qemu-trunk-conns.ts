// QemuTrunkConns: the ports and rings of connections to QEMU trunk listeners (`listen ...
// trunk VLANS [native ID]`), for QemuPorts (src/qemu/qemu-ports.ts). A trunk connection is
// a port in each member VLAN (named "qemu:ADDRESS#CONN.VID", so `show ports` lists it once
// per VLAN, as a trunk TAP is) and a ring pair with each forwarding thread of those VLANs;
// its listener's own QEMU I/O thread tags and untags (src/core/trunk-demux.ts). Main thread.

import { TrunkCounters } from '../core/trunk-counters.js';
import type { TrunkMember } from '../core/trunk-demux.js';
import { formatVlanList } from '../core/vlan-tag.js';
import type { ForwardingPool } from '../forwarding/forwarding-pool.js';
import type { ForwardingThread } from '../forwarding/forwarding-thread.js';
import type { LeftPorts, PortDrops } from '../forwarding/left-ports.js';
import type { PortTable } from '../forwarding/port-table.js';
import type { RingTable } from '../forwarding/ring-table.js';
import type { QemuConnStats, QemuTrunkPortMsg } from './qemu-io-messages.js';
import type { QemuThread } from './qemu-thread.js';

/** A trunk listener's VLANs and the counters of the frames its connections sent that no VLAN took. */
export class QemuTrunk {
  /** Every member VLAN, the native one included, sorted. */
  readonly vids: number[];
  readonly counters = new TrunkCounters(0);

  constructor(
    /** The tagged VLANs. */
    readonly tagged: number[],
    /** The VLAN of untagged frames, or 0 for none. */
    readonly native: number,
  ) {
    this.vids = [...new Set([...tagged, ...(native === 0 ? [] : [native])])].sort((a, b) => a - b);
  }

  /** As `show listeners` and the running-config print it. */
  info(): { vlans: string; native: number | null; drops: ReturnType<TrunkCounters['drops']> } {
    return { vlans: formatVlanList(this.tagged), native: this.native === 0 ? null : this.native, drops: this.counters.drops() };
  }
}

/** One trunk connection's ports and ring pairs. */
export interface TrunkConn {
  members: TrunkMember[];
  pairs: { fw: ForwardingThread; rxId: number; txId: number }[];
}

export class QemuTrunkConns {
  constructor(
    private readonly pool: ForwardingPool,
    private readonly ports: PortTable,
    private readonly rings: RingTable,
    private readonly ringBytes: number,
  ) {}

  /** The forwarding threads of a trunk's VLANs: one ring pair each per connection. */
  threadsOf(trunk: QemuTrunk): ForwardingThread[] {
    return [...new Set(trunk.vids.map((v) => this.pool.place(v)))];
  }

  /** Ring bytes one connection to `trunk` takes. */
  ringBytesOf(trunk: QemuTrunk): number {
    return 2 * this.ringBytes * this.threadsOf(trunk).length;
  }

  /**
   * Make a connection's ports and ring pairs and tell the forwarding threads (the caller
   * waits for their `sync`); returns them and the message that lets its I/O thread read it.
   */
  make(t: QemuThread, connId: number, address: string, trunk: QemuTrunk): { conn: TrunkConn; msg: QemuTrunkPortMsg } {
    const fws = this.threadsOf(trunk);
    const io = t.name;
    const pairs = fws.map((fw) => {
      const rx = this.rings.create(this.ringBytes, fw.bell, { name: `qemu:${address}#${connId} trunk rx, ${fw.name}`, producer: io, consumer: fw.name });
      const tx = this.rings.create(this.ringBytes, t.bell, { name: `qemu:${address}#${connId} trunk tx, ${fw.name}`, producer: fw.name, consumer: io });
      fw.configure(`ring:${rx.id}`, { type: 'add-input', ringId: rx.id, sab: rx.ring.sab });
      fw.configure(`ring:${tx.id}`, { type: 'add-output', ringId: tx.id, sab: tx.ring.sab, doorbellSab: t.bell.sab });
      return { fw, rx: rx.ring, tx: tx.ring, rxId: rx.id, txId: tx.id };
    });
    const members = trunk.vids.map((vid): TrunkMember => {
      const port = this.ports.add('qemu', vid, `qemu:${address}#${connId}.${vid}`);
      const pair = fws.indexOf(this.pool.place(vid));
      pairs[pair].fw.configure(`port:${port.id}`, { type: 'add-port', vid, portId: port.id, isPeer: false, txRingId: pairs[pair].txId });
      return { vid, portId: port.id, pair };
    });
    const msg: QemuTrunkPortMsg = {
      type: 'trunk-port', connId, native: trunk.native, members, countersSab: trunk.counters.sab,
      pairs: pairs.map((p) => ({ rxSab: p.rx.sab, fwDoorbellSab: p.fw.bell.sab, txSab: p.tx.sab })),
    };
    return { conn: { members, pairs: pairs.map((p) => ({ fw: p.fw, rxId: p.rxId, txId: p.txId })) }, msg };
  }

  /** Take a connection's ports and rings back, leaving what its I/O thread counted on each port in its VLAN's totals. */
  async remove(c: TrunkConn, left: LeftPorts, stats: QemuConnStats[] = []): Promise<void> {
    // The rx rings first: each forwarding thread forwards what is left in them while the ports exist.
    for (const p of c.pairs) p.fw.unconfigure([`ring:${p.rxId}`], { type: 'remove-ring', ringId: p.rxId });
    for (const m of c.members) c.pairs[m.pair].fw.unconfigure([`port:${m.portId}`], { type: 'remove-port', vid: m.vid, portId: m.portId });
    for (const p of c.pairs) p.fw.unconfigure([`ring:${p.txId}`], { type: 'remove-ring', ringId: p.txId });
    await Promise.all(c.pairs.map((p) => p.fw.request({ type: 'sync' }).catch(() => undefined)));
    for (const m of c.members) {
      const drops: PortDrops = stats.find((s) => s.portId === m.portId)?.drops ?? {};
      left.ioThread(m.vid, this.ports.get(m.portId)?.name ?? `qemu port ${m.portId}`, drops);
    }
    for (const p of c.pairs) {
      this.rings.remove(p.rxId);
      this.rings.remove(p.txId);
    }
    for (const m of c.members) this.ports.remove(m.portId);
  }
}
