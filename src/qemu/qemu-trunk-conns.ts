// QemuTrunkConns: the ports and rings of connections to QEMU trunk listeners (`listen ...
// trunk VLANS [native ID]`), for QemuPorts (src/qemu/qemu-ports.ts). A trunk connection is
// a port in each member VLAN (named "qemu:ADDRESS#CONN.VID", so `show ports` lists it once
// per VLAN, as a trunk TAP is) and a ring pair with each forwarding thread of those VLANs,
// made and taken back as a trunk TAP's are (src/forwarding/trunk-wiring.ts); its listener's
// own QEMU I/O thread tags and untags (src/core/trunk-demux.ts). Main thread.

import type { Doorbell } from '../core/doorbell.js';
import { ringPair } from '../core/io-messages.js';
import type { PortDrops } from '../core/port-kind.js';
import { TrunkCounters } from '../core/trunk-counters.js';
import { formatVlanList } from '../core/vlan-tag.js';
import type { PortKindParts } from '../forwarding/port-kind-parts.js';
import { releaseTrunk, trunkThreads, trunkVids, unwireTrunk, wireTrunk, type TrunkWiring } from '../forwarding/trunk-wiring.js';
import type { QemuConnStats, QemuTrunkPortMsg } from './qemu-io-messages.js';

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
    private readonly parts: PortKindParts,
    private readonly ringBytes: number,
  ) {}

  /** Ring bytes one connection to `trunk` takes: a pair with each forwarding thread of its VLANs. */
  ringBytesOf(trunk: QemuTrunk): number {
    return 2 * this.ringBytes * trunkThreads(this.parts.pool, trunk.vids).length;
  }

  /**
   * Make a connection's ports and ring pairs and tell the forwarding threads (the caller
   * waits for their `sync`); returns them and the message that lets its I/O thread read it.
   */
  make(io: { name: string; bell: Doorbell }, connId: number, address: string, trunk: QemuTrunk): { conn: TrunkConn; msg: QemuTrunkPortMsg } {
    const { pool, ports, rings } = this.parts;
    const conn = wireTrunk({ pool, ports, rings, ringBytes: this.ringBytes }, 'qemu', `qemu:${address}#${connId}`, trunk.vids, io);
    const msg: QemuTrunkPortMsg = {
      type: 'trunk-port', connId, native: trunk.native, members: conn.members, countersSab: trunk.counters.sab,
      pairs: conn.pairs.map((p) => ringPair(p.rx, p.fw.bell, p.tx)),
    };
    return { conn, msg };
  }

  /** Take a connection's ports and rings back, leaving what its I/O thread counted on each port in its VLAN's totals. */
  async remove(c: TrunkConn, stats: QemuConnStats[] = []): Promise<void> {
    await unwireTrunk(c);
    for (const m of c.members) {
      const drops: PortDrops = stats.find((s) => s.portId === m.portId)?.drops ?? {};
      this.parts.left.ioThread(m.vid, this.parts.ports.get(m.portId)?.name ?? `qemu port ${m.portId}`, drops);
    }
    releaseTrunk(c, this.parts);
  }
}
