// fdRead/fdWrite: read() and write() on any fd into and out of an offset in a buffer,
// without allocating: offset 0 passes the buffer itself; any other offset goes through
// readv/writev with a preallocated iovec, because a pointer passed as a JS number above
// 2^31 would box. The TAP and QEMU I/O threads call them per frame or per batch.
//
// Thread safety: the scratch iovec and the cached buffer addresses are module state, of
// which every thread has its own copy. One address is cached per direction: an I/O thread
// reads into one buffer and writes from another, so each cache stays hot; a miss costs one
// BigInt (koffi.address).

import { ERRNO, LITTLE_ENDIAN, loadLibc, type Libc } from './libc.js';

// struct iovec {void *base; size_t len}, written as 32-bit halves so no BigInt or heap number is made.
const iov = new Uint32Array(4);
const LO = LITTLE_ENDIAN ? 0 : 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const TWO_32 = 0x1_0000_0000;
let lc: Libc | undefined;
let readBuf: Uint8Array | undefined;
let readLo = 0;
let readHi = 0;
let writeBuf: Uint8Array | undefined;
let writeLo = 0;
let writeHi = 0;

function libc(): Libc {
  return lc ?? (lc = loadLibc());
}

/** Clamps [off, off+len) to the buffer: the C side trusts the length, so this is what keeps memory safe. */
function span(buf: Uint8Array, off: number, len: number): number {
  if ((off | 0) !== off || off < 0) return -1;
  const room = buf.length - off;
  const n = len < room ? len : room;
  return n > 0 ? n : -1;
}

function point(lo: number, hi: number, off: number, n: number): void {
  const at = lo + off;
  iov[LO] = at;
  iov[HI] = at >= TWO_32 ? hi + 1 : hi;
  iov[2 + LO] = n;
  iov[2 + HI] = 0;
}

/**
 * read() up to `max` bytes into buf[off, off+max). Returns the bytes read (0: end of
 * stream), or -errno (-EAGAIN when nothing is waiting on a non-blocking fd; -EINVAL for
 * a span outside the buffer). Never throws, never allocates.
 */
export function fdRead(fd: number, buf: Uint8Array, off: number, max: number): number {
  const n = span(buf, off, max);
  if (n < 0) return -ERRNO.EINVAL;
  try {
    const c = libc();
    let r: number;
    if (off === 0) {
      r = c.read(fd, buf, n);
    } else {
      if (readBuf !== buf) {
        const a = Number(c.address(buf));
        readBuf = buf;
        readLo = a % TWO_32;
        readHi = (a - readLo) / TWO_32;
      }
      point(readLo, readHi, off, n);
      r = c.readv(fd, iov, 1);
    }
    return r >= 0 ? r : -c.errno();
  } catch {
    // Only a failed libc load or a non-number argument gets here.
    return -ERRNO.EINVAL;
  }
}

/**
 * write() buf[off, off+len). Returns the bytes written (a stream may take fewer), or
 * -errno (-EAGAIN when a non-blocking fd has no room; -EINVAL when the span is not all
 * inside the buffer). Never throws, never allocates.
 */
export function fdWrite(fd: number, buf: Uint8Array, off: number, len: number): number {
  // Unlike a read, which may take less room, a write of bytes the buffer does not hold is refused.
  const n = span(buf, off, len);
  if (n < 0 || n !== len) return -ERRNO.EINVAL;
  try {
    const c = libc();
    let r: number;
    if (off === 0) {
      r = c.write(fd, buf, n);
    } else {
      if (writeBuf !== buf) {
        const a = Number(c.address(buf));
        writeBuf = buf;
        writeLo = a % TWO_32;
        writeHi = (a - writeLo) / TWO_32;
      }
      point(writeLo, writeHi, off, n);
      r = c.writev(fd, iov, 1);
    }
    return r >= 0 ? r : -c.errno();
  } catch {
    return -ERRNO.EINVAL;
  }
}
