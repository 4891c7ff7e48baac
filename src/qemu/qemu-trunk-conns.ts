// QemuTrunkConns: the ports and rings of connections to QEMU trunk listeners (`listen ...
// trunk VLANS [native ID]`), for QemuPorts (src/qemu/qemu-ports.ts). A trunk connection is
// a port in each member VLAN (named "qemu:ADDRESS#CONN.VID", so `show ports` lists it once
// per VLAN, as a trunk TAP is) and a ring pair with each forwarding thread of those VLANs,
// made and taken back as a trunk TAP's are (src/forwarding/trunk-wiring.ts); its listener's
// own QEMU I/O thread tags and untags (src/core/trunk-demux.ts). Main thread.

import { TrunkCounters } from '../core/trunk-counters.js';
import { formatVlanList } from '../core/vlan-tag.js';
import type { ForwardingPool } from '../forwarding/forwarding-pool.js';
import type { LeftPorts, PortDrops } from '../forwarding/left-ports.js';
import type { PortTable } from '../forwarding/port-table.js';
import type { RingTable } from '../forwarding/ring-table.js';
import { releaseTrunk, trunkThreads, trunkVids, unwireTrunk, wireTrunk, type TrunkWiring } from '../forwarding/trunk-wiring.js';
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
    this.vids = trunkVids(tagged, native);
  }

  /** As `show listeners` and the running-config print it. */
  info(): { vlans: string; native: number | null; drops: ReturnType<TrunkCounters['drops']> } {
    return { vlans: formatVlanList(this.tagged), native: this.native === 0 ? null : this.native, drops: this.counters.drops() };
  }
}

/** One trunk connection's ports and ring pairs. */
export type TrunkConn = TrunkWiring;

export class QemuTrunkConns {
  constructor(
    private readonly pool: ForwardingPool,
    private readonly ports: PortTable,
    private readonly rings: RingTable,
    private readonly ringBytes: number,
  ) {}

  /** Ring bytes one connection to `trunk` takes: a pair with each forwarding thread of its VLANs. */
  ringBytesOf(trunk: QemuTrunk): number {
    return 2 * this.ringBytes * trunkThreads(this.pool, trunk.vids).length;
  }

  /**
   * Make a connection's ports and ring pairs and tell the forwarding threads (the caller
   * waits for their `sync`); returns them and the message that lets its I/O thread read it.
   */
  make(t: QemuThread, connId: number, address: string, trunk: QemuTrunk): { conn: TrunkConn; msg: QemuTrunkPortMsg } {
    const conn = wireTrunk({ pool: this.pool, ports: this.ports, rings: this.rings, ringBytes: this.ringBytes }, 'qemu', `qemu:${address}#${connId}`, trunk.vids, t);
    const msg: QemuTrunkPortMsg = {
      type: 'trunk-port', connId, native: trunk.native, members: conn.members, countersSab: trunk.counters.sab,
      pairs: conn.pairs.map((p) => ({ rxSab: p.rx.sab, fwDoorbellSab: p.fw.bell.sab, txSab: p.tx.sab })),
    };
    return { conn, msg };
  }

  /** Take a connection's ports and rings back, leaving what its I/O thread counted on each port in its VLAN's totals. */
  async remove(c: TrunkConn, left: LeftPorts, stats: QemuConnStats[] = []): Promise<void> {
    await unwireTrunk(c);
    for (const m of c.members) {
      const drops: PortDrops = stats.find((s) => s.portId === m.portId)?.drops ?? {};
      left.ioThread(m.vid, this.ports.get(m.portId)?.name ?? `qemu port ${m.portId}`, drops);
    }
    releaseTrunk(c, { ports: this.ports, rings: this.rings });
  }
}
