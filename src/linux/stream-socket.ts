// Stream sockets through libc for the QEMU ports: a listening TCP (IPv4 or IPv6) or UNIX
// socket, made on the main thread so a bind error is reported where `listen` was typed
// and the fd outlives an I/O thread that dies; and accept, close and TCP_NODELAY for the
// QEMU I/O thread, which polls the listening fds and serves the connections it accepts
// with fdRead/fdWrite (src/linux/fd-io.ts). Every fd is non-blocking and close-on-exec.

import { DivesError } from '../core/errors.js';
import {
  AF_INET, AF_INET6, AF_UNIX, ERRNO, IPPROTO_TCP, LITTLE_ENDIAN, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, TCP_NODELAY,
  describeErrno, loadLibc,
} from './libc.js';
import { SOCKADDR_MAX, sockaddrFor, sockaddrParts } from './udp-socket.js';
import { formatHostPort } from './host-port.js';

/** Longest UNIX socket path: sizeof(sun_path) less its NUL. */
export const UNIX_PATH_MAX = 107;
const SOCKADDR_UN_LEN = 110;

export interface StreamListener {
  fd: number;
  /** The TCP port bound (the one the kernel chose for port 0); 0 for a UNIX socket. */
  port: number;
}

function fail(what: string, e: number): never {
  throw new DivesError('ELISTEN', `${what}: ${describeErrno(e)}`);
}

function listening(family: number, sa: Uint8Array, what: string): number {
  const c = loadLibc();
  const fd = c.socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) fail(`${what}: socket`, c.errno());
  // TCP: a listener may bind while old connections to its port linger in TIME_WAIT, as
  // Node's net module does.
  if (family !== AF_UNIX) c.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, new Int32Array([1]), 4);
  if (c.bind(fd, sa, sa.length) < 0 || c.listen(fd, 128) < 0) {
    const e = c.errno();
    c.close(fd);
    fail(what, e);
  }
  return fd;
}

/** Listen on TCP `address` (a numeric IPv4 or IPv6 address) and `port`. Throws DivesError ELISTEN. */
export function listenTcp(address: string, port: number): StreamListener {
  const family = address.includes(':') ? 'udp6' : 'udp4';
  const where = formatHostPort(address, port);
  let sa: Buffer;
  try {
    sa = sockaddrFor(family, address, port);
  } catch (err) {
    throw new DivesError('ELISTEN', `${where}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const fd = listening(family === 'udp6' ? AF_INET6 : AF_INET, sa, where);
  const c = loadLibc();
  const got = Buffer.alloc(SOCKADDR_MAX);
  c.getsockname(fd, got, new Uint32Array([got.length]));
  return { fd, port: sockaddrParts(family, got).port };
}

/** Listen on the UNIX stream socket `path` (the caller made sure nothing is there). Throws DivesError ELISTEN. */
export function listenUnix(path: string): StreamListener {
  const bytes = Buffer.from(path);
  if (bytes.length > UNIX_PATH_MAX) throw new DivesError('ELISTEN', `unix:${path}: the path is ${bytes.length} bytes, a UNIX socket path is at most ${UNIX_PATH_MAX}`);
  const sa = Buffer.alloc(SOCKADDR_UN_LEN);
  if (LITTLE_ENDIAN) sa.writeUInt16LE(AF_UNIX, 0);
  else sa.writeUInt16BE(AF_UNIX, 0);
  bytes.copy(sa, 2);
  return { fd: listening(AF_UNIX, sa, `unix:${path}`), port: 0 };
}

/**
 * Accept one connection on a listening fd: its fd (non-blocking, close-on-exec, with
 * TCP_NODELAY on TCP, as QEMU sets it), 0 when none is waiting, or -errno. `peer`
 * receives the remote sockaddr (SOCKADDR_MAX bytes). Never throws.
 */
export function acceptStream(fd: number, tcp: boolean, peer: Uint8Array, peerLen: Uint32Array): number {
  try {
    const c = loadLibc();
    peerLen[0] = peer.length;
    const s = c.accept4(fd, peer, peerLen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (s < 0) {
      const e = c.errno();
      return e === ERRNO.EAGAIN || e === ERRNO.EINTR ? 0 : -e;
    }
    if (tcp) c.setsockopt(s, IPPROTO_TCP, TCP_NODELAY, NODELAY, 4);
    return s;
  } catch {
    return -ERRNO.EINVAL;
  }
}
const NODELAY = new Int32Array([1]);

/** "10.0.0.1:40000" or "[::1]:40000" from a TCP peer's sockaddr. */
export function formatPeer(peer: Uint8Array): string {
  const ipv6 = (LITTLE_ENDIAN ? peer[0] | (peer[1] << 8) : (peer[0] << 8) | peer[1]) === AF_INET6;
  const { address, port } = sockaddrParts(ipv6 ? 'udp6' : 'udp4', peer);
  return formatHostPort(address, port);
}

export function closeFd(fd: number): void {
  if (fd >= 0) loadLibc().close(fd);
}
