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
// consumer of its tx ring and of its mirror rings. It reads main's messages (stop,
// mirrors) between batches, as every I/O thread does (src/core/io-loop.ts).

import type { MessagePort } from 'node:worker_threads';
import type { IoCommonEvent } from '../core/io-messages.js';
import { attachPair } from '../core/io-messages.js';
import { IoLoop } from '../core/io-loop.js';
import { Ring, type FrameHandler } from '../core/ring.js';
import { tapRead, tapWrite } from './tap-device.js';
import { STAGE_PICKED, TRACE_MASK } from '../core/frame-trace.js';
import type { TapIoStart, TapMirrorsMsg } from './tap-io-messages.js';

const BATCH = 64;

/** A mirror's ring toward this TAP, with the handler that writes its frames. */
interface MirrorRing {
  ring: Ring;
  handler: FrameHandler;
}

export class TapIoLoop extends IoLoop<TapIoStart, TapMirrorsMsg, never, null> {
  protected readonly polled = 'TAP';
  private readonly rx: Ring;
  private readonly tx: Ring;
  private readonly scratch: Buffer;
  private readonly txHandler: FrameHandler;
  /** Mirrors' rings toward this TAP (src/capture/mirrors.ts), each with its handler; empty for most TAPs. */
  private mirrors: MirrorRing[] = [];
  /**
   * Whether the TAP may hold frames. Reading a TAP that is known to be empty costs a
   * system call that returns EAGAIN; the path of a ping pays for every one
   * (docs/performance.md, "Where the time goes"), so it reads only after poll() said the
   * TAP has input, after a write (which may have queued an answer), or while the last
   * batch was full (it stopped short of EAGAIN).
   */
  private tapReadable = true;

  constructor(start: TapIoStart, control: MessagePort, emit: (e: IoCommonEvent<null>) => void) {
    super(start, control, emit);
    const { rx, tx } = attachPair(start.pair);
    this.rx = rx;
    this.tx = tx;
    this.scratch = Buffer.alloc(start.maxFrame);
    const fd = start.fd;
    const trace = this.trace;
    this.txHandler = (buf, off, len, meta) => {
      const traced = (meta & TRACE_MASK) !== 0;
      if (traced) trace.stamp(meta, STAGE_PICKED);
      // A TAP whose link is down or whose queue is full refuses the frame: a
      // counted drop on this port, never a reason to stop.
      if (tapWrite(fd, buf, off, len) !== len) tx.countConsumerDrop();
      if (traced) trace.finish(meta);
    };
    this.setMirrors(start.mirrorSabs);
  }

  protected turn(): boolean {
    const fd = this.start.fd;
    if (this.tapReadable) {
      const got = this.receive(fd);
      if (got < 0) {
        this.fail(`read failed (errno ${-got})`);
        return false;
      }
      this.tapReadable = got === BATCH;
    }
    let sent = this.tx.consume(BATCH, this.txHandler);
    const mirrors = this.mirrors;
    for (let i = 0; i < mirrors.length; i++) sent += mirrors[i].ring.consume(BATCH, mirrors[i].handler);
    if (sent > 0) this.tapReadable = true;
    return this.tapReadable;
  }

  protected pending(): boolean {
    if (!this.tx.isEmpty()) return true;
    const mirrors = this.mirrors;
    for (let i = 0; i < mirrors.length; i++) if (!mirrors[i].ring.isEmpty()) return true;
    return false;
  }

  /** A frame arriving on the TAP while it sleeps makes poll() return at once. */
  protected sleep(ms: number): number {
    const r = this.bell.sleepPoll(this.start.fd, ms);
    if (r < 0) return r;
    this.tapReadable = r > 0;
    return 0;
  }

  protected handle(msg: TapMirrorsMsg): void {
    this.setMirrors(msg.sabs);
    this.emit({ type: 'done', reqId: msg.reqId });
  }

  protected report(): null {
    return null;
  }

  private setMirrors(sabs: SharedArrayBuffer[]): void {
    const fd = this.start.fd;
    this.mirrors = sabs.map((sab): MirrorRing => {
      const ring = new Ring(sab);
      const handler: FrameHandler = (buf, off, len) => {
        if (tapWrite(fd, buf, off, len) !== len) ring.countConsumerDrop();
      };
      return { ring, handler };
    });
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
