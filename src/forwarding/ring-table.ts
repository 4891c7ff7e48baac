// RingTable: every ring the switch has made, by id, with the thread that produces
// into it and the one that consumes it, so `show rings` can print each ring's
// counters (they live in the ring's shared header) and nothing is made without a
// name. The TAP, QEMU and peer port managers make their rings here and remove them
// when their port or pair goes. Main thread.
//
// It also keeps the switch's memory budget (`dives start --memory-budget`): every ring,
// and every other buffer a port may fill (a QEMU connection's unsent batch), is reserved
// here first, and what would pass the budget is refused — a TAP or peer with an error,
// a VM's connection closed and counted (src/qemu/qemu-ports.ts). Queued frames can thus
// never hold more than the budget, however many ports come. When a ring goes, `onRemove`
// lets the switch give its memory back (src/switch/memory-reclaim.ts).

import type { Doorbell } from '../core/doorbell.js';
import { RING_COUNTERS } from '../core/counters.js';
import { Ring } from '../core/ring.js';
import { DivesError } from '../core/errors.js';

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
  /** What it reserved of the budget. */
  bytes: number;
}

/** The memory budget's state, for `show memory`. */
export interface BudgetInfo {
  budgetBytes: number;
  reservedBytes: number;
  rings: number;
}

export class RingTable {
  private readonly rings = new Map<number, Entry>();
  private nextId = 1;
  private reservedBytes = 0;
  /** Called after a ring was removed. */
  onRemove: (() => void) | null = null;

  constructor(readonly budgetBytes = Number.POSITIVE_INFINITY) {}

  /** Whether `bytes` more fit in the budget now. */
  fits(bytes: number): boolean {
    return this.reservedBytes + bytes <= this.budgetBytes;
  }

  /** Throw EBUDGET unless `bytes` more fit: checked before anything of a port is made. */
  ensureRoom(bytes: number, what: string): void {
    if (!this.fits(bytes)) throw this.overBudget(bytes, what);
  }

  /** Reserve `bytes` of the budget for a buffer that is not a ring; throws EBUDGET when they do not fit. */
  reserve(bytes: number, what: string): void {
    this.ensureRoom(bytes, what);
    this.reservedBytes += bytes;
  }

  release(bytes: number): void {
    this.reservedBytes = Math.max(0, this.reservedBytes - bytes);
  }

  /** Make a ring of `bytes` whose consumer sleeps on `doorbell` (null: a consumer that polls it); throws EBUDGET past the budget. */
  create(bytes: number, doorbell: Doorbell | null, who: { name: string; producer: string; consumer: string }): { id: number; ring: Ring } {
    this.reserve(bytes, who.name);
    const ring = Ring.create(bytes, doorbell);
    const id = this.nextId++;
    this.rings.set(id, { id, ring, bytes, ...who });
    return { id, ring };
  }

  remove(id: number): void {
    const e = this.rings.get(id);
    if (e === undefined) return;
    this.rings.delete(id);
    this.release(e.bytes);
    this.onRemove?.();
  }

  budget(): BudgetInfo {
    return { budgetBytes: this.budgetBytes, reservedBytes: this.reservedBytes, rings: this.rings.size };
  }

  private overBudget(bytes: number, what: string): DivesError {
    const mib = (n: number): string => (n / 2 ** 20).toFixed(1);
    return new DivesError('EBUDGET', `${what}: ${mib(bytes)} MiB more would pass the memory budget (${mib(this.reservedBytes)} of ${mib(this.budgetBytes)} MiB reserved); raise it with --memory-budget or remove ports`);
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
