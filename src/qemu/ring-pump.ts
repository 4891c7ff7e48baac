// pumpRings: the consumer loop of an I/O thread that keeps an event loop (the QEMU
// thread). It drains the thread's tx rings in batches, yields to the event loop
// between batches so sockets are served, and sleeps on the thread's doorbell
// with Atomics.waitAsync when every ring is empty. Runs on that I/O thread.

import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Doorbell } from '../core/doorbell.js';
import type { FrameHandler, Ring } from '../core/ring.js';

export interface PumpTarget {
  /** The rings to drain now (re-read every turn: rings come and go). */
  rings(): readonly Ring[];
  readonly handler: FrameHandler;
  /** After each turn that took frames, e.g. uncork the sockets written to. */
  afterBatch?(): void;
  /** False while the target cannot send yet (frames wait in the rings). */
  ready(): boolean;
  stopped(): boolean;
}

export async function pumpRings(bell: Doorbell, target: PumpTarget, batch: number): Promise<void> {
  while (!target.stopped()) {
    let n = 0;
    const rings = target.rings();
    if (target.ready()) for (let i = 0; i < rings.length; i++) n += rings[i].consume(batch, target.handler);
    if (n > 0) {
      target.afterBatch?.();
      await yieldToLoop();
      continue;
    }
    // Announce sleep, then look once more (see Doorbell.ring for why).
    bell.prepareSleep();
    if ((target.ready() && rings.some((r) => !r.isEmpty())) || target.stopped()) {
      bell.cancelSleep();
      continue;
    }
    await bell.sleepAsync(1000);
  }
}
