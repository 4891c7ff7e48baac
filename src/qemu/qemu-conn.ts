// QemuConn: one VM's connection on a QEMU I/O thread — its fd, the framer that cuts the
// byte stream into frames, the ring pair with its VLAN's forwarding thread (a trunk
// connection: one pair per forwarding thread of its VLANs, and the TrunkDemux that
// untags its frames into them), what the socket has not taken yet of the last batch,
// and its counters. QEMU I/O thread only (src/qemu/qemu-io.ts drives it); main sees snapshots.
//
// Nothing here throws or allocates per frame: a read goes into the thread's read buffer
// and each frame from it into the rx ring; a batch to send is staged by the thread and
// written in one call, and only what the socket would not take is kept here, in a buffer
// made once, the first time that happens.

import { PORT_DROP, PORT_DROPS } from '../core/counters.js';
import type { FrameTrace } from '../core/frame-trace.js';
import { Ring } from '../core/ring.js';
import { TrunkCounters } from '../core/trunk-counters.js';
import { TrunkDemux, type TrunkMember } from '../core/trunk-demux.js';
import { ERRNO, POLLIN, POLLOUT, describeErrno } from '../linux/libc.js';
import { fdRead, fdWrite } from '../linux/fd-io.js';
import { FRAMER_OK, FRAMER_REASON_TEXT, QemuFramer } from './qemu-framer.js';
import type { QemuConnStats } from './qemu-io-messages.js';

const D_RX_RING_FULL = PORT_DROP['rx-ring-full'];

export class QemuConn {
  portId = -1;
  private meta = 0;
  /** Rings toward the forwarding thread(s) and from them: one each, or one per forwarding thread of a trunk's VLANs. */
  rxs: Ring[] = [];
  txs: Ring[] = [];
  framesIn = 0;
  framesOut = 0;
  /** Indexed by PORT_DROP; this thread counts rx-ring-full. */
  readonly drops = PORT_DROPS.create();
  /** A trunk connection's tagging, its member VLANs, and per member: frames in, rx-ring-full drops. */
  demux: TrunkDemux | null = null;
  private members: TrunkMember[] = [];
  private memberIn = new Float64Array(0);
  private memberFull = new Float64Array(0);
  private readonly framer: QemuFramer;
  /** Bytes of the last batch the socket did not take: pending[pendingOff, pendingOff + pendingLen). */
  private pending: Buffer | null = null;
  private pendingOff = 0;
  pendingLen = 0;
  /** The socket may hold bytes to read (poll said so, or the last read filled the buffer). */
  readable = false;
  /** Readable, but its rx ring has no room for a read: not read (nor polled) until the forwarding thread drains it. */
  blocked = false;
  /** Its slot in the thread's poll set. */
  slot = 0;
  /** Why the connection ended, once it did. */
  closed: string | null = null;

  constructor(
    readonly id: number,
    readonly fd: number,
    readonly listenerId: number,
    readonly remote: string,
    private readonly maxFrame: number,
    trace: FrameTrace,
  ) {
    this.framer = new QemuFramer((buf, off, len) => {
      if (this.demux !== null) {
        const m = this.demux.push(buf, off, len);
        if (m >= 0) this.memberIn[m]++;
      } else if (this.rxs[0].write(buf, off, len, this.meta | trace.begin()) === 1) this.framesIn++;
      else this.drops[D_RX_RING_FULL]++;
    }, maxFrame);
  }

  get attached(): boolean {
    return this.rxs.length > 0;
  }

  /** Give the connection its port and rings: from now on it is read and written. */
  attach(portId: number, meta: number, rx: Ring, tx: Ring): void {
    this.portId = portId;
    this.meta = meta;
    this.rxs = [rx];
    this.txs = [tx];
    this.readable = true;
  }

  /** Make it a trunk connection: a port per member VLAN, a ring pair per forwarding thread; then read and write it. */
  attachTrunk(native: number, members: TrunkMember[], rxs: Ring[], txs: Ring[], countersSab: SharedArrayBuffer, trace: FrameTrace): void {
    this.portId = members[0].portId;
    this.members = members;
    this.memberIn = new Float64Array(members.length);
    this.memberFull = new Float64Array(members.length);
    this.demux = new TrunkDemux(native, members, rxs, new TrunkCounters(countersSab), trace, (m) => this.memberFull[m]++);
    this.rxs = rxs;
    this.txs = txs;
    this.readable = true;
  }

  /**
   * How much may be read now so every frame it holds fits in the rx ring: a stream byte
   * becomes at most 4/3 of a ring byte (a 14-byte frame's 18 stream bytes take a 24-byte
   * record), less room for the frame the framer holds from the last read and for the gap
   * a wrap leaves. 0 when that is under a page: the VM waits, as QEMU's own hub makes it
   * wait, instead of having its frames read only to be dropped.
   */
  readBudget(max: number): number {
    let free = this.rxs[0].room();
    for (let i = 1; i < this.rxs.length; i++) free = Math.min(free, this.rxs[i].room());
    const room = free - 2 * (this.maxFrame + 16);
    const n = Math.floor((room * 3) / 4);
    return n < 4096 ? 0 : n < max ? n : max;
  }

  /**
   * One read of at most `max` bytes of what the VM sent, into `buf`, through the framer
   * into the rx ring (one commit). Returns the bytes read (max: there may be more), 0 when
   * nothing was waiting, or -1 when the connection ended (`closed` says why).
   */
  receive(buf: Buffer, max: number): number {
    const r = fdRead(this.fd, buf, 0, max);
    if (r > 0) {
      const code = this.framer.push(buf, 0, r);
      for (let i = 0; i < this.rxs.length; i++) this.rxs[i].commit();
      if (code !== FRAMER_OK) return this.end(`bad frame ${FRAMER_REASON_TEXT[code]} (${this.framer.badLength})`);
      return r;
    }
    if (r === 0) return this.end('closed');
    if (r === -ERRNO.EAGAIN || r === -ERRNO.EINTR) return 0;
    return this.end(`read failed: ${describeErrno(-r)}`);
  }

  /** What poll() should wait for: input once attached and not blocked, room while bytes are pending. */
  pollEvents(): number {
    return (this.attached && !this.blocked ? POLLIN : 0) | (this.pendingLen > 0 ? POLLOUT : 0);
  }

  /**
   * The fd to poll, or -1 (poll() skips it) while the connection waits for nothing: blocked,
   * with nothing to write. poll() reports a hang-up or an error whatever was asked, and a
   * blocked VM that hung up would otherwise wake the thread at once, again and again, until
   * its rx ring has room; it is read, and its end seen, once it has. Before it is attached
   * it is polled for nothing but exactly that: a hang-up while main places it.
   */
  pollFd(): number {
    return this.attached && this.blocked && this.pendingLen === 0 ? -1 : this.fd;
  }

  /** Write what the socket did not take last time. Returns true when nothing is left. */
  flushPending(): boolean {
    if (this.pendingLen === 0) return true;
    const w = fdWrite(this.fd, this.pending as Buffer, this.pendingOff, this.pendingLen);
    if (w < 0) {
      if (w !== -ERRNO.EAGAIN && w !== -ERRNO.EINTR) this.end(`write failed: ${describeErrno(-w)}`);
      return false;
    }
    this.pendingOff += w;
    this.pendingLen -= w;
    return this.pendingLen === 0;
  }

  /**
   * Write a staged batch, stage[0, len), of `frames` frames; keep what the socket would
   * not take for flushPending(). A VM that stops reading thus holds at most one batch
   * here, and its tx ring fills behind it: its frames, and only its, are dropped there.
   */
  send(stage: Buffer, len: number, frames: number): void {
    this.framesOut += frames;
    const w = fdWrite(this.fd, stage, 0, len);
    if (w === len) return;
    if (w < 0 && w !== -ERRNO.EAGAIN && w !== -ERRNO.EINTR) {
      this.end(`write failed: ${describeErrno(-w)}`);
      return;
    }
    const done = w < 0 ? 0 : w;
    if (this.pending === null || this.pending.length < stage.length) this.pending = Buffer.allocUnsafe(stage.length);
    stage.copy(this.pending, 0, done, len);
    this.pendingOff = 0;
    this.pendingLen = len - done;
  }

  private end(reason: string): number {
    if (this.closed === null) this.closed = reason;
    return -1;
  }

  /** Its counters, one entry per port: one, or a trunk connection's per member VLAN (frames out are the connection's). */
  snapshots(): QemuConnStats[] {
    if (this.demux === null) return [{ connId: this.id, portId: this.portId, remote: this.remote, framesIn: this.framesIn, framesOut: this.framesOut, drops: PORT_DROPS.toRecord(this.drops) }];
    return this.members.map((m, i) => {
      const drops = PORT_DROPS.create();
      drops[D_RX_RING_FULL] = this.memberFull[i];
      return { connId: this.id, portId: m.portId, remote: this.remote, framesIn: this.memberIn[i], framesOut: this.framesOut, drops: PORT_DROPS.toRecord(drops) };
    });
  }
}
