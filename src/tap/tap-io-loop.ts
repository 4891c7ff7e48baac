// TapIoLoop: both directions of one TAP port on one thread. It reads frames from the
// TAP straight into the port's rx ring (reserve, read into the ring, commit; no
// intermediate copy) and rings the forwarding thread once per batch, and it writes the
// frames the forwarding thread queued on the port's tx ring to the TAP. When neither
// has work it sleeps in poll() on the TAP's fd and on the eventfd its doorbell bumps,
// so one wake-up serves a frame from either side. Runs on the TAP port's I/O thread.
//
// Why one thread for both directions: a write into a TAP is delivered to the kernel's
// stack inside the write() call, and an answer (an ARP reply, an echo reply, a TCP ACK)
// is often queued on the same TAP before write() returns. The thread that wrote finds it
// on its next read without a wake-up or a hand-off to a second thread; and a TAP costs
// one thread, not two, on hosts that run many.
//
// Thread safety: this thread is the single producer of its rx ring and the single
// consumer of its tx ring. It learns it must stop when main bumps its doorbell's
// CONTROL count.

import { Doorbell } from '../core/doorbell.js';
import { pinThisThread } from '../linux/cpu-affinity.js';
import { Ring, type FrameHandler } from '../core/ring.js';
import { tapRead, tapWrite } from './tap-device.js';
import { FrameTrace, STAGE_PICKED, TRACE_MASK } from '../core/frame-trace.js';
import type { TapIoStart } from './tap-io-messages.js';

const BATCH = 64;
/** The longest sleep: the doorbell wakes the thread for frames and for stop. */
const SLEEP_MS = 1000;

export class TapIoLoop {
  private readonly rx: Ring;
  private readonly tx: Ring;
  private readonly bell: Doorbell;
  private readonly scratch: Buffer;
  private readonly txHandler: FrameHandler;
  private readonly trace: FrameTrace;
  /** Mirrors' rings toward this TAP (src/capture/mirrors.ts), each with its handler; empty for most TAPs. */
  private readonly mirrors: { ring: Ring; handler: FrameHandler }[];

  constructor(private readonly start: TapIoStart) {
    this.rx = new Ring(start.rxSab, new Doorbell(start.fwDoorbellSab));
    this.tx = new Ring(start.txSab);
    this.bell = new Doorbell(start.doorbellSab);
    this.scratch = Buffer.alloc(start.maxFrame);
    const fd = start.fd;
    const tx = this.tx;
    const trace = (this.trace = new FrameTrace(start.traceSab));
    this.txHandler = (buf, off, len, meta) => {
      const traced = (meta & TRACE_MASK) !== 0;
      if (traced) trace.stamp(meta, STAGE_PICKED);
      // A TAP whose link is down or whose queue is full refuses the frame: a
      // counted drop on this port, never a reason to stop.
      if (tapWrite(fd, buf, off, len) !== len) tx.countConsumerDrop();
      if (traced) trace.finish(meta);
    };
    this.mirrors = start.mirrorSabs.map((sab) => {
      const ring = new Ring(sab);
      const handler: FrameHandler = (buf, off, len) => {
        if (tapWrite(fd, buf, off, len) !== len) ring.countConsumerDrop();
      };
      return { ring, handler };
    });
  }

  /** Runs until stopped; returns an error message if the TAP failed, else null. */
  run(): string | null {
    const { fd, cpu } = this.start;
    // Beside the VLAN's forwarding thread: a hand-off between threads on one core
    // needs no cross-CPU wake-up (docs/performance.md, "CPU affinity").
    if (cpu >= 0) pinThisThread(cpu);
    const bell = this.bell;
    // Main read the CONTROL count when it started this incarnation, so any other count
    // means stop, even a bump that came before this thread got here.
    const stopSeq = this.start.stopSeq;
    // Whether the TAP may hold frames. Reading a TAP that is known to be empty
    // costs a system call that returns EAGAIN; the path of a ping pays for every
    // one (docs/performance.md, "Where the time goes"), so it reads only after
    // poll() said the TAP has input, after a write (which may have queued an
    // answer), or while the last batch was full (it stopped short of EAGAIN).
    let tapReadable = true;
    while (bell.controlSeq === stopSeq) {
      if (tapReadable) {
        const got = this.receive(fd);
        if (got < 0) return `read failed (errno ${-got})`;
        tapReadable = got === BATCH;
      }
      let sent = this.tx.consume(BATCH, this.txHandler);
      const mirrors = this.mirrors;
      for (let i = 0; i < mirrors.length; i++) sent += mirrors[i].ring.consume(BATCH, mirrors[i].handler);
      if (sent > 0) tapReadable = true;
      if (tapReadable) continue;
      // Announce sleep, then look once more (see Doorbell.ring for why). A frame
      // arriving on the TAP meanwhile makes poll() return at once.
      bell.prepareSleep();
      if (!this.tx.isEmpty() || this.mirrorsPending() || bell.controlSeq !== stopSeq) {
        bell.cancelSleep();
        continue;
      }
      const r = bell.sleepPoll(fd, SLEEP_MS);
      if (r < 0) return `poll failed (errno ${-r})`;
      tapReadable = r > 0;
    }
    return null;
  }

  private mirrorsPending(): boolean {
    const mirrors = this.mirrors;
    for (let i = 0; i < mirrors.length; i++) if (!mirrors[i].ring.isEmpty()) return true;
    return false;
  }

  /**
   * Read up to BATCH waiting frames into the rx ring. Returns how many (fewer than
   * BATCH once the TAP ran out), or -errno.
   */
  private receive(fd: number): number {
    const ring = this.rx;
    const max = this.start.maxFrame;
    const meta = this.start.meta;
    let n = 0;
    for (; n < BATCH; n++) {
      const at = ring.reserve(max);
      if (at < 0) {
        // Ring full: read the frame anyway so the TAP queue drains, and count it. A read
        // error here is the TAP failing, as on the path below.
        const r = tapRead(fd, this.scratch, 0, max);
        if (r === 0) break;
        if (r < 0) {
          ring.commit();
          return r;
        }
        ring.countDrop();
        continue;
      }
      const r = tapRead(fd, ring.data, at, max);
      if (r === 0) break;
      if (r < 0) {
        ring.commit();
        return r;
      }
      ring.commitReserved(r, meta | this.trace.begin());
    }
    ring.commit();
    return n;
  }
}
