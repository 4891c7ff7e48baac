// UdpSocket: a UDP socket opened straight through libc (src/linux/libc.ts), so a thread
// without an event loop can poll() it and move datagrams in batches (src/linux/mmsg.ts);
// plus struct sockaddr_in / sockaddr_in6 encoding, decoding and formatting.
// Opened and closed on the peer I/O thread; the sockaddr helpers run on any thread, at
// set-up time (never per datagram, except sockaddrKey, which allocates nothing).
//
// sockaddr layouts (<netinet/in.h>, family in native order, port and address in network order):
//
// | byte | sockaddr_in (16)     | sockaddr_in6 (28)        |
// |------|----------------------|--------------------------|
// | 0    | sin_family (u16)     | sin6_family (u16)        |
// | 2    | sin_port (u16, BE)   | sin6_port (u16, BE)      |
// | 4    | sin_addr (4 bytes)   | sin6_flowinfo (u32)      |
// | 8    | zero                 | sin6_addr (16 bytes)     |
// | 24   |                      | sin6_scope_id (u32)      |

import { DivesError } from '../core/errors.js';
import {
  AF_INET, AF_INET6, LITTLE_ENDIAN, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, SOL_SOCKET, SO_RCVBUF, SO_RCVBUFFORCE, SO_SNDBUF,
  SO_SNDBUFFORCE, describeErrno, errno, loadLibc, type Libc,
} from './libc.js';

export type UdpFamily = 'udp4' | 'udp6';
/** The largest UDP payload of each family: 65535 less the UDP header (8) and, over IPv4, the IP header (20). */
export const UDP_MAX_PAYLOAD: Readonly<Record<UdpFamily, number>> = { udp4: 65507, udp6: 65527 };
export const SOCKADDR_IN_LEN = 16;
export const SOCKADDR_IN6_LEN = 28;
/** Room for either sockaddr. */
export const SOCKADDR_MAX = 28;

export function sockaddrLen(family: UdpFamily): number {
  return family === 'udp4' ? SOCKADDR_IN_LEN : SOCKADDR_IN6_LEN;
}

/**
 * The sockaddr for `address` (numeric IPv4 or IPv6, an IPv6 one optionally with `%zone`,
 * the zone an interface name or index) and `port`. Throws DivesError EBADARG when the
 * address is not one of `family`'s.
 */
export function sockaddrFor(family: UdpFamily, address: string, port: number): Buffer {
  const c = loadLibc();
  const out = Buffer.alloc(sockaddrLen(family));
  const pct = address.indexOf('%');
  const host = family === 'udp6' && pct >= 0 ? address.slice(0, pct) : address;
  const af = family === 'udp4' ? AF_INET : AF_INET6;
  const addr = Buffer.alloc(16);
  if (c.inet_pton(af, host, addr) !== 1) throw new DivesError('EBADARG', `${address}: not an ${family === 'udp4' ? 'IPv4' : 'IPv6'} address`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new DivesError('EBADARG', `${port}: not a UDP port`);
  if (LITTLE_ENDIAN) out.writeUInt16LE(af, 0);
  else out.writeUInt16BE(af, 0);
  out.writeUInt16BE(port, 2);
  if (family === 'udp4') {
    addr.copy(out, 4, 0, 4);
  } else {
    addr.copy(out, 8, 0, 16);
    if (pct >= 0) {
      const zone = address.slice(pct + 1);
      const index = /^\d+$/.test(zone) ? Number(zone) : c.if_nametoindex(zone);
      if (index === 0) throw new DivesError('EBADARG', `${address}: no interface ${zone}`);
      if (LITTLE_ENDIAN) out.writeUInt32LE(index, 24);
      else out.writeUInt32BE(index, 24);
    }
  }
  return out;
}

/** The address and port a sockaddr holds (address as inet_ntop writes it). */
export function sockaddrParts(family: UdpFamily, sa: Uint8Array, off = 0): { address: string; port: number } {
  const c = loadLibc();
  const port = (sa[off + 2] << 8) | sa[off + 3];
  const text = Buffer.alloc(64);
  const src = family === 'udp4' ? sa.subarray(off + 4, off + 8) : sa.subarray(off + 8, off + 24);
  const address = c.inet_ntop(family === 'udp4' ? AF_INET : AF_INET6, src, text, text.length) ?? '?';
  return { address, port };
}

/**
 * A number naming a source address and port, for a Map lookup per datagram without
 * allocating: exact for IPv4 (address × 65536 + port); a 32-bit hash of the address and
 * scope for IPv6, so an IPv6 match must still be confirmed with sockaddrEqual.
 */
export function sockaddrKey(family: UdpFamily, sa: Uint8Array, off: number): number {
  const port = (sa[off + 2] << 8) | sa[off + 3];
  let a: number;
  if (family === 'udp4') {
    a = ((sa[off + 4] << 24) | (sa[off + 5] << 16) | (sa[off + 6] << 8) | sa[off + 7]) >>> 0;
  } else {
    let h = 0x811c9dc5;
    for (let i = off + 8; i < off + 28; i++) h = Math.imul(h ^ sa[i], 0x01000193);
    a = h >>> 0;
  }
  return a * 65536 + port;
}

/** True when two sockaddrs of `family` name the same address, port (and IPv6 scope). */
export function sockaddrEqual(family: UdpFamily, a: Uint8Array, aOff: number, b: Uint8Array, bOff: number): boolean {
  if (a[aOff + 2] !== b[bOff + 2] || a[aOff + 3] !== b[bOff + 3]) return false;
  const from = family === 'udp4' ? 4 : 8;
  const to = family === 'udp4' ? 8 : 28;
  for (let i = from; i < to; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

/**
 * Ask for a kernel buffer of `bytes` (option `name`, or `force` past the sysctl cap when
 * this process has CAP_NET_ADMIN) and return what the kernel gave, as getsockopt says:
 * Linux doubles the value asked for (half is its bookkeeping) and caps a plain request at
 * net.core.wmem_max / rmem_max, so an unprivileged 4 MiB may come back as 416 KiB.
 */
function setBuffer(c: Libc, fd: number, name: number, force: number, bytes: number): number {
  const v = new Int32Array([bytes]);
  if (c.setsockopt(fd, SOL_SOCKET, force, v, 4) < 0) c.setsockopt(fd, SOL_SOCKET, name, v, 4);
  const len = new Uint32Array([4]);
  return c.getsockopt(fd, SOL_SOCKET, name, v, len) === 0 ? v[0] : 0;
}

export class UdpSocket {
  private constructor(
    readonly fd: number,
    readonly family: UdpFamily,
    /** The address and port the socket is bound to (the port the kernel chose for port 0). */
    readonly address: string,
    readonly port: number,
    /** The kernel's send and receive buffers, as getsockopt reports them (0 when unknown). */
    readonly sendBuffer = 0,
    readonly receiveBuffer = 0,
  ) {}

  /**
   * A non-blocking, close-on-exec UDP socket bound exclusively (no SO_REUSEADDR) to
   * address:port, with kernel buffers of `bufferBytes` each way where the kernel allows
   * (sendBuffer and receiveBuffer say what it gave). Throws DivesError ELISTEN with the
   * errno's name when it cannot bind.
   */
  static bind(family: UdpFamily, address: string, port: number, bufferBytes: number): UdpSocket {
    const c = loadLibc();
    const sa = sockaddrFor(family, address, port);
    const fd = c.socket(family === 'udp4' ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new DivesError('ELISTEN', `socket: ${describeErrno(errno())}`);
    // Larger kernel buffers absorb bursts (a flood, a TCP window) that the defaults of
    // about 200 kB would drop. Not fatal when capped: the defaults work, with less room,
    // and the caller tells the operator what the kernel gave.
    const receiveBuffer = setBuffer(c, fd, SO_RCVBUF, SO_RCVBUFFORCE, bufferBytes);
    const sendBuffer = setBuffer(c, fd, SO_SNDBUF, SO_SNDBUFFORCE, bufferBytes);
    if (c.bind(fd, sa, sa.length) < 0) {
      const e = errno();
      c.close(fd);
      throw new DivesError('ELISTEN', describeErrno(e));
    }
    const got = Buffer.alloc(SOCKADDR_MAX);
    const gotLen = new Uint32Array([got.length]);
    if (c.getsockname(fd, got, gotLen) < 0) {
      const e = errno();
      c.close(fd);
      throw new DivesError('ELISTEN', `getsockname: ${describeErrno(e)}`);
    }
    const parts = sockaddrParts(family, got);
    return new UdpSocket(fd, family, parts.address, parts.port, sendBuffer, receiveBuffer);
  }

  /** A socket bind() made, by its fd, on another thread (the fd is shared by the process). */
  static adopt(fd: number, family: UdpFamily, address: string, port: number): UdpSocket {
    return new UdpSocket(fd, family, address, port);
  }

  /** Send one datagram to `to` (a sockaddr of this family). Returns bytes sent or -errno. Never throws. */
  sendTo(buf: Uint8Array, len: number, to: Uint8Array): number {
    try {
      const c = loadLibc();
      const r = c.sendto(this.fd, buf, Math.min(len, buf.length), 0, to, to.length);
      return r >= 0 ? r : -c.errno();
    } catch {
      return -22;
    }
  }

  close(): void {
    loadLibc().close(this.fd);
  }
}
