// IoRingPairs: the ring pairs between one I/O thread that serves every VLAN (QEMU, peer)
// and each forwarding thread, made once per forwarding thread on first use.
// The rx ring is produced by the I/O thread and consumed by the forwarding
// thread; the tx ring the other way round. Main thread.

import type { Doorbell } from '../core/doorbell.js';
import type { ForwardingThread } from './forwarding-thread.js';
import type { RingTable } from './ring-table.js';

/** What the I/O thread is told about a new pair (its `rings` message, less the type). */
export interface RingPairAnnouncement {
  fw: number;
  rxSab: SharedArrayBuffer;
  rxDoorbellSab: SharedArrayBuffer;
  txSab: SharedArrayBuffer;
}

export class IoRingPairs {
  /** Forwarding thread index → the tx ring id of its pair. */
  private readonly txRingIds = new Map<number, number>();

  constructor(
    private readonly ringBytes: number,
    /** The I/O thread's name (for `show rings`) and its doorbell, rung by forwarding threads after they queue tx frames. */
    private readonly io: { name: string; bell: Doorbell },
    private readonly rings: RingTable,
    private readonly announce: (pair: RingPairAnnouncement) => void,
  ) {}

  /** The id of the tx ring toward the I/O thread from `fw`, making the pair first if needed. */
  txRingFor(fw: ForwardingThread): number {
    const have = this.txRingIds.get(fw.index);
    if (have !== undefined) return have;
    const io = this.io.name;
    this.rings.ensureRoom(2 * this.ringBytes, `${io} rings for ${fw.name}`);
    const rx = this.rings.create(this.ringBytes, null, { name: `${io} rx, ${fw.name}`, producer: io, consumer: fw.name });
    const tx = this.rings.create(this.ringBytes, null, { name: `${io} tx, ${fw.name}`, producer: fw.name, consumer: io });
    this.txRingIds.set(fw.index, tx.id);
    fw.configure(`ring:${rx.id}`, { type: 'add-input', ringId: rx.id, sab: rx.ring.sab });
    fw.configure(`ring:${tx.id}`, { type: 'add-output', ringId: tx.id, sab: tx.ring.sab, doorbellSab: this.io.bell.sab });
    this.announce({ fw: fw.index, rxSab: rx.ring.sab, rxDoorbellSab: fw.bell.sab, txSab: tx.ring.sab });
    return tx.id;
  }
}
