// RingTable: every ring the switch has made, by id, with the thread that produces
// into it and the one that consumes it, so `show rings` can print each ring's
// counters (they live in the ring's shared header) and nothing is made without a
// name. The TAP, QEMU and peer port managers make their rings here and remove them
// when their port or pair goes. Main thread.

import type { Doorbell } from '../core/doorbell.js';
import { RING_COUNTERS } from '../core/counters.js';
import { Ring } from '../core/ring.js';

export interface RingInfo {
  id: number;
  /** What it carries: "tap:tap0 rx", "qemu tx, forwarding thread 0". */
  name: string;
  producer: string;
  consumer: string;
  /** Size of the data region in bytes. */
  capacity: number;
  /** Bytes queued now. */
  used: number;
  counters: Record<(typeof RING_COUNTERS.names)[number], number>;
}

interface Entry {
  id: number;
  name: string;
  producer: string;
  consumer: string;
  ring: Ring;
}

export class RingTable {
  private readonly rings = new Map<number, Entry>();
  private nextId = 1;

  /** Make a ring of `bytes` whose consumer sleeps on `doorbell` (null: a consumer that polls it). */
  create(bytes: number, doorbell: Doorbell | null, who: { name: string; producer: string; consumer: string }): { id: number; ring: Ring } {
    const ring = Ring.create(bytes, doorbell);
    const id = this.nextId++;
    this.rings.set(id, { id, ring, ...who });
    return { id, ring };
  }

  remove(id: number): void {
    this.rings.delete(id);
  }

  list(): RingInfo[] {
    return [...this.rings.values()].map((e) => ({
      id: e.id,
      name: e.name,
      producer: e.producer,
      consumer: e.consumer,
      capacity: e.ring.capacity,
      used: e.ring.used,
      counters: RING_COUNTERS.toRecord(e.ring.counts()),
    }));
  }
}
