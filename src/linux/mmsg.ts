// MmsgBatch: a fixed set of datagram slots for recvmmsg/sendmmsg, so a thread moves up
// to `slots` datagrams per system call. Every structure the kernel reads is built once:
// the struct mmsghdr array, one struct iovec per slot pointing at that slot's bytes, and
// one sockaddr per slot; a batch call only rewrites lengths (and, to send, the
// destination pointer). A batch is used for receiving or for sending, not both.
// Runs on the thread that made it (the peer and VXLAN I/O threads).
//
// struct mmsghdr on 64-bit Linux (64 bytes), as 32-bit words per slot:
//
// | word | field          | meaning                                                  |
// |------|----------------|----------------------------------------------------------|
// | 0-1  | msg_name       | pointer to the slot's sockaddr (recv) or the peer's (send)|
// | 2    | msg_namelen    | room (recv, reset before each call) or length (send)     |
// | 4-5  | msg_iov        | pointer to the slot's struct iovec                       |
// | 6-7  | msg_iovlen     | 1                                                        |
// | 8-11 | msg_control... | unused, zero                                             |
// | 12   | msg_flags      | out: MSG_TRUNC when the datagram was longer than the slot |
// | 14   | msg_len        | out: bytes received or sent                              |
//
// struct iovec (16 bytes): words 0-1 base, 2-3 length.
//
// Thread safety: everything here belongs to one thread. The buffers are ordinary (not
// shared) ArrayBuffers, whose memory V8 never moves, so the pointers stay valid.

import { ERRNO, LITTLE_ENDIAN, MSG_DONTWAIT, MSG_TRUNC, loadLibc, type Libc } from './libc.js';
import { SOCKADDR_MAX } from './udp-socket.js';

const MMSGHDR = 64;
const W = MMSGHDR >> 2;
const IOVEC = 16;
const LO = LITTLE_ENDIAN ? 0 : 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const TWO_32 = 0x1_0000_0000;

/** A native address split into 32-bit halves, so no BigInt or heap number is made per use. */
export interface Address {
  lo: number;
  hi: number;
}

export function addressOf(c: Libc, buf: ArrayBufferView): Address {
  const a = Number(c.address(buf));
  const lo = a % TWO_32;
  return { lo, hi: (a - lo) / TWO_32 };
}

function put(words: Uint32Array, at: number, base: Address, plus: number): void {
  const lo = base.lo + plus;
  words[at + LO] = lo % TWO_32;
  words[at + HI] = lo >= TWO_32 ? base.hi + 1 : base.hi;
}

/** What a run of sends is counted into, slot by slot (the peer and VXLAN tx batches). */
export interface SendCounts {
  /** The kernel took slot i. */
  sent(i: number): void;
  /** Slot i was not sent: the socket's send buffer was full. */
  queueFull(i: number): void;
  /** The kernel refused slot i (no route, too big for the path). */
  refused(i: number): void;
}

export class MmsgBatch {
  /** Every slot's bytes: slot i starts at i * slotBytes. */
  readonly data: Buffer;
  /** One view per slot, made once, so callers can hand a slot to codecs that start at 0. */
  readonly slot: readonly Buffer[];
  /** Every slot's sockaddr: slot i's at i * SOCKADDR_MAX (filled by recv). */
  readonly names: Buffer;
  private readonly hdrs: Uint32Array;
  private readonly iovs: Uint32Array;
  private readonly c: Libc;

  constructor(
    readonly slots: number,
    readonly slotBytes: number,
  ) {
    this.c = loadLibc();
    this.data = Buffer.alloc(slots * slotBytes);
    this.names = Buffer.alloc(slots * SOCKADDR_MAX);
    this.hdrs = new Uint32Array(slots * W);
    this.iovs = new Uint32Array(slots * (IOVEC >> 2));
    const dataAt = addressOf(this.c, this.data);
    const namesAt = addressOf(this.c, this.names);
    const iovsAt = addressOf(this.c, this.iovs);
    const slotViews: Buffer[] = [];
    for (let i = 0; i < slots; i++) {
      const h = i * W;
      const v = i * (IOVEC >> 2);
      put(this.iovs, v, dataAt, i * slotBytes);
      this.iovs[v + 2 + LO] = slotBytes;
      put(this.hdrs, h, namesAt, i * SOCKADDR_MAX);
      this.hdrs[h + 2] = SOCKADDR_MAX;
      put(this.hdrs, h + 4, iovsAt, i * IOVEC);
      this.hdrs[h + 6 + LO] = 1;
      slotViews.push(this.data.subarray(i * slotBytes, (i + 1) * slotBytes));
    }
    this.slot = slotViews;
  }

  /**
   * Receive up to `slots` waiting datagrams without blocking. Returns how many, 0 when
   * none was waiting, or -errno. Never throws.
   */
  recv(fd: number): number {
    const h = this.hdrs;
    for (let i = 0, n = this.slots; i < n; i++) h[i * W + 2] = SOCKADDR_MAX;
    try {
      const r = this.c.recvmmsg(fd, h, this.slots, MSG_DONTWAIT, null);
      if (r >= 0) return r;
      const e = this.c.errno();
      return e === 11 || e === 4 ? 0 : -e; // EAGAIN, EINTR
    } catch {
      return -22;
    }
  }

  /** Bytes of datagram i of the last recv (or sent of datagram i of the last send). */
  len(i: number): number {
    return this.hdrs[i * W + 14];
  }

  /** Datagram i of the last recv was longer than a slot (the rest was lost). */
  truncated(i: number): boolean {
    return (this.hdrs[i * W + 12] & MSG_TRUNC) !== 0;
  }

  /** Make slot i a datagram of `len` bytes (already in slot[i]) to the sockaddr at `to`. */
  prepareSend(i: number, len: number, to: Address, toLen: number): void {
    const h = i * W;
    put(this.hdrs, h, to, 0);
    this.hdrs[h + 2] = toLen;
    this.iovs[i * (IOVEC >> 2) + 2 + LO] = len;
  }

  /**
   * Send slots [from, from + count) in one call. Returns how many the kernel took (it stops
   * at the first that fails), or -errno when the first failed. Never throws.
   */
  send(fd: number, from: number, count: number): number {
    try {
      const hdrs = from === 0 ? this.hdrs : this.hdrs.subarray(from * W);
      const r = this.c.sendmmsg(fd, hdrs, count, MSG_DONTWAIT);
      return r >= 0 ? r : -this.c.errno();
    } catch {
      return -22;
    }
  }

  /**
   * Send slots [from, end) in as few calls as the kernel allows, counting each slot into
   * `counts`. When the send buffer is full (EAGAIN) the link cannot keep up, so the rest of
   * the run is lost here instead of queuing without bound; a datagram the kernel refuses is
   * dropped and the rest are sent. Never throws, allocates nothing.
   */
  sendRun(fd: number, from: number, end: number, counts: SendCounts): void {
    while (from < end) {
      const r = this.send(fd, from, end - from);
      if (r > 0) {
        for (let i = from; i < from + r; i++) counts.sent(i);
        from += r;
        continue;
      }
      if (r === -ERRNO.EAGAIN) {
        for (let i = from; i < end; i++) counts.queueFull(i);
        return;
      }
      counts.refused(from);
      from++;
    }
  }
}
