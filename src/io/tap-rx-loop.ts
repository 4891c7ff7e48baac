// TapRxLoop: reads frames from one TAP straight into the port's rx ring (no
// intermediate copy: reserve, read into the ring, commit) and rings the
// forwarding worker once per batch. Runs on the TAP port's rx I/O thread.
//
// Thread safety: this thread is the single producer of its rx ring. It learns
// it must stop when main bumps its doorbell's CONTROL count, checked at least
// every POLL_MS.

import { Doorbell } from '../doorbell.js';
import { Ring } from '../ring.js';
import { tapPoll, tapRead } from '../tap-device.js';
import type { TapIoStart } from './tap-io-messages.js';

const POLL_MS = 100;
const BATCH = 64;

export class TapRxLoop {
  private readonly ring: Ring;
  private readonly bell: Doorbell;
  private readonly scratch: Buffer;

  constructor(private readonly start: TapIoStart) {
    this.ring = new Ring(start.ringSab, start.peerDoorbellSab === null ? null : new Doorbell(start.peerDoorbellSab));
    this.bell = new Doorbell(start.doorbellSab);
    this.scratch = Buffer.alloc(start.maxFrame);
  }

  /** Runs until stopped; returns an error message if the TAP failed, else null. */
  run(): string | null {
    const { fd, meta, maxFrame } = this.start;
    const ring = this.ring;
    // The doorbell is new with the port, so any CONTROL bump means stop, even
    // one that came before this thread got here.
    const stopSeq = 0;
    while (this.bell.controlSeq === stopSeq) {
      const ready = tapPoll(fd, POLL_MS);
      if (ready < 0) return `poll failed (errno ${-ready})`;
      if (ready === 0) continue;
      for (let i = 0; i < BATCH; i++) {
        const at = ring.reserve(maxFrame);
        if (at < 0) {
          // Ring full: read the frame anyway so the TAP queue drains, and count it.
          const n = tapRead(fd, this.scratch, 0, maxFrame);
          if (n <= 0) break;
          ring.countDrop();
          continue;
        }
        const n = tapRead(fd, ring.data, at, maxFrame);
        if (n === 0) break;
        if (n < 0) {
          ring.commit();
          return `read failed (errno ${-n})`;
        }
        ring.commitReserved(n, meta);
      }
      ring.commit();
    }
    return null;
  }
}
