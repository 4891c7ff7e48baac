// TapTxLoop: writes the frames the forwarding worker queued on a TAP port's tx
// ring to the TAP, and sleeps on its doorbell when the ring is empty. Runs on
// the TAP port's tx I/O thread.
//
// Thread safety: this thread is the single consumer of its tx ring; the
// forwarding worker rings its doorbell, main bumps CONTROL to stop it.

import { Doorbell } from '../doorbell.js';
import { Ring, type FrameHandler } from '../ring.js';
import { tapWrite } from '../tap-device.js';
import { SPIN_MS } from '../forwarding/forwarding-loop.js';
import type { TapIoStart } from './tap-io-messages.js';

const BATCH = 64;

export class TapTxLoop {
  private readonly ring: Ring;
  private readonly bell: Doorbell;
  private readonly handler: FrameHandler;

  constructor(start: TapIoStart) {
    this.ring = new Ring(start.ringSab);
    this.bell = new Doorbell(start.doorbellSab);
    const fd = start.fd;
    const ring = this.ring;
    this.handler = (buf, off, len) => {
      // A TAP whose link is down or whose queue is full refuses the frame: a
      // counted drop on this port, never a reason to stop.
      if (tapWrite(fd, buf, off, len) !== len) ring.countConsumerDrop();
    };
  }

  run(): string | null {
    const ring = this.ring;
    const bell = this.bell;
    // The doorbell is new with the port, so any CONTROL bump means stop, even
    // one that came before this thread got here.
    const stopSeq = 0;
    let idleSince = -1;
    while (bell.controlSeq === stopSeq) {
      if (ring.consume(BATCH, this.handler) > 0) {
        idleSince = -1;
        continue;
      }
      const t = performance.now();
      if (idleSince < 0) idleSince = t;
      if (t - idleSince < SPIN_MS) continue;
      bell.prepareSleep();
      if (!ring.isEmpty() || bell.controlSeq !== stopSeq) {
        bell.cancelSleep();
        continue;
      }
      bell.sleep(1000);
      idleSince = -1;
    }
    return null;
  }
}
