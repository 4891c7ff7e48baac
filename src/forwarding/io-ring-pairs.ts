// IoRingPairs: the ring pairs between one I/O thread that serves every VLAN (peer, VXLAN)
// and each forwarding thread, made once per forwarding thread on first use, each told to
// the I/O thread in a `rings` message as it is made, and all of them again to a restarted
// one (replay). The rx ring is produced by the I/O thread and consumed by the forwarding
// thread; the tx ring the other way round. Main thread.

import type { Doorbell } from '../core/doorbell.js';
import { ringPair, type IoRingsMsg } from '../core/io-messages.js';
import type { ForwardingThread } from './forwarding-thread.js';
import type { RingTable } from './ring-table.js';

/** The I/O thread the pairs join: its name (for `show rings`), its doorbell (rung by forwarding threads after they queue tx frames), and how to tell it. */
export interface PairedIoThread {
  readonly name: string;
  readonly bell: Doorbell;
  post(msg: IoRingsMsg): void;
}

export class IoRingPairs {
  /** Forwarding thread index → the tx ring id of its pair. */
  private readonly txRingIds = new Map<number, number>();
  /** Every pair as it was told, to tell a restarted thread again. */
  private readonly told: IoRingsMsg[] = [];

  constructor(
    private readonly ringBytes: number,
    private readonly io: PairedIoThread,
    private readonly rings: RingTable,
  ) {}

  /** The id of the tx ring toward the I/O thread from `fw`, making the pair first if needed. Throws EBUDGET past the memory budget. */
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
    const msg: IoRingsMsg = { type: 'rings', fw: fw.index, pair: ringPair(rx.ring, fw.bell, tx.ring) };
    this.told.push(msg);
    this.io.post(msg);
    return tx.id;
  }

  /** Tell a new incarnation of the I/O thread every pair. */
  replay(): void {
    for (const msg of this.told) this.io.post(msg);
  }
}
