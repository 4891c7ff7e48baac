// IoRingPairs: the ring pairs between one I/O thread that serves every VLAN (QEMU, peer)
// and each forwarding thread, made once per forwarding thread on first use.
// The rx ring is produced by the I/O thread and consumed by the forwarding
// thread; the tx ring the other way round. Main thread.

import type { Doorbell } from '../core/doorbell.js';
import { Ring } from '../core/ring.js';
import type { ForwardingThread } from './forwarding-pool.js';

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
    /** The I/O thread's doorbell, rung by forwarding threads after they queue tx frames. */
    private readonly ioBell: Doorbell,
    private readonly nextRingId: () => number,
    private readonly announce: (pair: RingPairAnnouncement) => void,
  ) {}

  /** The id of the tx ring toward the I/O thread from `fw`, making the pair first if needed. */
  txRingFor(fw: ForwardingThread): number {
    const have = this.txRingIds.get(fw.index);
    if (have !== undefined) return have;
    const rx = Ring.create(this.ringBytes);
    const tx = Ring.create(this.ringBytes);
    const rxRingId = this.nextRingId();
    const txRingId = this.nextRingId();
    this.txRingIds.set(fw.index, txRingId);
    fw.configure(`ring:${rxRingId}`, { type: 'add-input', ringId: rxRingId, sab: rx.sab });
    fw.configure(`ring:${txRingId}`, { type: 'add-output', ringId: txRingId, sab: tx.sab, doorbellSab: this.ioBell.sab });
    this.announce({ fw: fw.index, rxSab: rx.sab, rxDoorbellSab: fw.bell.sab, txSab: tx.sab });
    return txRingId;
  }
}
