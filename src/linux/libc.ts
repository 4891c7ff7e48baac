// libc: the few C library calls DiVES makes (open, close, read, write, readv, writev,
// ioctl, poll, fcntl, socket, connect, bind, listen, accept4, getsockname, setsockopt,
// getsockopt, sendto, recvmmsg,
// sendmmsg, eventfd, inet_pton, inet_ntop, if_nametoindex, sched_getaffinity,
// sched_setaffinity, strerror, mallopt, malloc_trim), bound through koffi,
// plus errno helpers.
// Runs on any thread: each thread (main, a TAP I/O thread) loads its own bindings on first use.
//
// Thread safety: file descriptors are process-wide, so an fd opened on the main thread
// works in an I/O thread that calls read/write/poll on it. koffi's native module is
// context-aware, so every thread gets its own library handle and function objects; this
// module keeps them in module state, which worker threads do not share.
//
// Why the shapes below: every function is declared once, with `void *` for buffers, so a
// Buffer or Uint8Array is passed in place (koffi hands the C side a pointer into the
// ArrayBuffer, no copy) and a call allocates nothing on the JS heap. Numbers passed for
// pointers work too but cost a heap number when the address is above 2^31; readv/writev
// with a preallocated iovec avoid that (see src/tap/tap-device.ts).
//
// Constants are Linux's generic values (x86-64, arm64, riscv64); they were checked against
// the C headers with a tiny C program: <linux/if_tun.h>, <net/if.h>, <poll.h>, <fcntl.h>.

import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import { DivesError } from '../core/errors.js';

type Koffi = typeof import('koffi').default;

/** The errnos DiVES reacts to, by name (Linux values; a test checks them against koffi.os.errno). */
export const ERRNO = Object.freeze({
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  ENODEV: 19,
  EINVAL: 22,
  ENOSYS: 38,
  EBADFD: 77,
  EMSGSIZE: 90,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
});

export const O_RDWR = 0o2;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const AF_UNIX = 1;
export const SO_REUSEADDR = 2;
export const IPPROTO_TCP = 6;
export const TCP_NODELAY = 1;
export const SOCK_RAW = 3;
export const SOCK_CLOEXEC = 0x80000;
export const SOCK_NONBLOCK = 0o4000;
export const SOL_SOCKET = 1;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
/** Like SO_SNDBUF/SO_RCVBUF, past net.core.wmem_max/rmem_max; needs CAP_NET_ADMIN. */
export const SO_SNDBUFFORCE = 32;
export const SO_RCVBUFFORCE = 33;
export const MSG_DONTWAIT = 0x40;
export const MSG_TRUNC = 0x20;
export const EFD_NONBLOCK = 0o4000;
export const EFD_CLOEXEC = 0o2000000;
export const IPPROTO_ICMP = 1;
// Multicast socket options (<netinet/in.h>, <linux/in6.h>), for src/linux/udp-multicast.ts.
export const IPPROTO_IP = 0;
export const IP_MULTICAST_IF = 32;
export const IP_MULTICAST_TTL = 33;
export const IP_MULTICAST_LOOP = 34;
export const IP_ADD_MEMBERSHIP = 35;
export const IP_DROP_MEMBERSHIP = 36;
export const IPPROTO_IPV6 = 41;
export const IPV6_MULTICAST_IF = 17;
export const IPV6_MULTICAST_HOPS = 18;
export const IPV6_MULTICAST_LOOP = 19;
export const IPV6_ADD_MEMBERSHIP = 20;
export const IPV6_DROP_MEMBERSHIP = 21;
export const POLLIN = 0x1;
export const POLLOUT = 0x4;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;

// struct ifreq (<net/if.h>), 40 bytes on 64-bit Linux:
//
// | byte | name      | meaning                                                   |
// |------|-----------|-----------------------------------------------------------|
// | 0    | ifr_name  | interface name, NUL-terminated, at most IFNAMSIZ-1 bytes  |
// | 16   | ifr_flags | short, native byte order (the union's first member here)  |
// | 18   | (union)   | the rest of the union; zero for the requests we make      |
export const IFNAMSIZ = 16;
/** C structs are in native byte order; true on x86-64 and arm64. */
export const LITTLE_ENDIAN = endianness() === 'LE';
export const IFREQ_SIZE = 40;
export const IFR_FLAGS = 16;

export const TUNSETIFF = 0x400454ca; // _IOW('T', 202, int)
export const TUNGETIFF = 0x800454d2; // _IOR('T', 210, unsigned int)
export const SIOCGIFFLAGS = 0x8913;
export const SIOCSIFFLAGS = 0x8914;
export const IFF_UP = 0x1;
export const IFF_TUN = 0x0001;
export const IFF_TAP = 0x0002;
export const IFF_MULTI_QUEUE = 0x0100;
export const IFF_PERSIST = 0x0800;
export const IFF_NO_PI = 0x1000;
export const IFF_VNET_HDR = 0x4000;
export const TUNSETOFFLOAD = 0x400454d0; // _IOW('T', 208, unsigned int); the argument is the value itself
export const TUN_F_CSUM = 0x01;
export const TUN_F_TSO4 = 0x02;
export const TUN_F_TSO6 = 0x04;

/** The bound functions. Each returns what C returns (-1 on error, then read errno()). */
export interface Libc {
  open(path: string, flags: number, mode: number): number;
  close(fd: number): number;
  read(fd: number, buf: Uint8Array, count: number): number;
  write(fd: number, buf: Uint8Array, count: number): number;
  /** `iov` holds `iovcnt` struct iovec {void *base; size_t len} (16 bytes each on 64-bit). */
  readv(fd: number, iov: ArrayBufferView, iovcnt: number): number;
  writev(fd: number, iov: ArrayBufferView, iovcnt: number): number;
  /** ioctl with a pointer argument, e.g. a 40-byte struct ifreq from ifreq(). */
  ioctl(fd: number, request: number, arg: Uint8Array): number;
  /** ioctl whose argument is a plain integer value (TUNSETOFFLOAD). */
  ioctlValue(fd: number, request: number, value: number): number;
  /** `fds` holds `nfds` struct pollfd {int fd; short events; short revents} (8 bytes each). */
  poll(fds: ArrayBufferView, nfds: number, timeoutMs: number): number;
  fcntl(fd: number, cmd: number, arg: number): number;
  socket(domain: number, type: number, protocol: number): number;
  connect(fd: number, addr: Uint8Array, addrLen: number): number;
  bind(fd: number, addr: Uint8Array, addrLen: number): number;
  listen(fd: number, backlog: number): number;
  /** `addrLen` is a one-element Uint32Array, as for getsockname; `addr` may be null with `addrLen` null. */
  accept4(fd: number, addr: Uint8Array | null, addrLen: Uint32Array | null, flags: number): number;
  /** `addrLen` is a one-element Uint32Array: in, the room in `addr`; out, the length used. */
  getsockname(fd: number, addr: Uint8Array, addrLen: Uint32Array): number;
  /** setsockopt with an int option value (`value` is a one-element Int32Array). */
  setsockopt(fd: number, level: number, name: number, value: Int32Array, len: number): number;
  /** getsockopt with an int option value; `len` is a one-element Uint32Array (in: 4). */
  getsockopt(fd: number, level: number, name: number, value: Int32Array, len: Uint32Array): number;
  sendto(fd: number, buf: Uint8Array, len: number, flags: number, addr: Uint8Array, addrLen: number): number;
  /** `msgs` holds `vlen` struct mmsghdr (64 bytes each on 64-bit; see src/linux/mmsg.ts); no timeout. */
  recvmmsg(fd: number, msgs: ArrayBufferView, vlen: number, flags: number, timeout: null): number;
  sendmmsg(fd: number, msgs: ArrayBufferView, vlen: number, flags: number): number;
  eventfd(initval: number, flags: number): number;
  inet_pton(af: number, src: string, dst: Uint8Array): number;
  inet_ntop(af: number, src: Uint8Array, dst: Uint8Array, size: number): string | null;
  if_nametoindex(name: string): number;
  /** pid 0: the calling thread. `mask` is a cpu_set_t of `size` bytes (bit n: CPU n). */
  sched_getaffinity(pid: number, size: number, mask: Uint8Array): number;
  sched_setaffinity(pid: number, size: number, mask: Uint8Array): number;
  strerror(errnum: number): string;
  /** Set a malloc parameter (M_MMAP_THRESHOLD); returns 1 on success. */
  mallopt(param: number, value: number): number;
  /** Give free heap memory back to the kernel; returns 1 when some was. */
  malloc_trim(pad: number): number;
  /** Address of a buffer's first byte, for building iovecs; the caller keeps the buffer alive. */
  address(buf: ArrayBufferView): bigint;
  /** The calling thread's errno; read it right after the failing call. */
  errno(): number;
}

let bound: Libc | undefined;
let names: Map<number, string> | undefined;

/**
 * Binds libc on this thread the first time it is called and returns the same object after.
 * Throws DivesError EINTERNAL when koffi or libc cannot be loaded, so a thread should call
 * it once at start-up; the per-frame wrappers in src/tap/tap-device.ts then never throw.
 */
export function loadLibc(): Libc {
  if (bound !== undefined) return bound;
  let koffi: Koffi;
  try {
    koffi = createRequire(import.meta.url)('koffi') as Koffi;
  } catch (err) {
    throw new DivesError('EINTERNAL', `cannot load koffi (the FFI DiVES uses to reach libc): ${String(err)}`, { cause: err });
  }
  let lib: ReturnType<Koffi['load']>;
  try {
    lib = koffi.load('libc.so.6');
  } catch (err) {
    throw new DivesError('EINTERNAL', `cannot load libc.so.6 through koffi (DiVES needs glibc on Linux): ${String(err)}`, { cause: err });
  }
  // open, fcntl and ioctl are variadic in C; declaring them with the one extra argument
  // we always pass is the usual, ABI-safe way on Linux (glibc reads it as the 3rd argument).
  bound = Object.freeze({
    open: lib.func('int open(const char *path, int flags, uint32_t mode)'),
    close: lib.func('int close(int fd)'),
    read: lib.func('intptr_t read(int fd, void *buf, size_t count)'),
    write: lib.func('intptr_t write(int fd, const void *buf, size_t count)'),
    readv: lib.func('intptr_t readv(int fd, const void *iov, int iovcnt)'),
    writev: lib.func('intptr_t writev(int fd, const void *iov, int iovcnt)'),
    ioctl: lib.func('int ioctl(int fd, unsigned long request, void *arg)'),
    ioctlValue: lib.func('ioctl', 'int', ['int', 'unsigned long', 'unsigned long']),
    poll: lib.func('int poll(void *fds, unsigned long nfds, int timeout)'),
    fcntl: lib.func('int fcntl(int fd, int cmd, int arg)'),
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    connect: lib.func('int connect(int fd, const void *addr, uint32_t len)'),
    bind: lib.func('int bind(int fd, const void *addr, uint32_t len)'),
    listen: lib.func('int listen(int fd, int backlog)'),
    accept4: lib.func('int accept4(int fd, void *addr, void *len, int flags)'),
    getsockname: lib.func('int getsockname(int fd, void *addr, void *len)'),
    setsockopt: lib.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)'),
    getsockopt: lib.func('int getsockopt(int fd, int level, int name, void *value, void *len)'),
    sendto: lib.func('intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t alen)'),
    recvmmsg: lib.func('int recvmmsg(int fd, void *msgs, unsigned int vlen, int flags, void *timeout)'),
    sendmmsg: lib.func('int sendmmsg(int fd, void *msgs, unsigned int vlen, int flags)'),
    eventfd: lib.func('int eventfd(unsigned int initval, int flags)'),
    inet_pton: lib.func('int inet_pton(int af, const char *src, void *dst)'),
    inet_ntop: lib.func('const char *inet_ntop(int af, const void *src, void *dst, uint32_t size)'),
    if_nametoindex: lib.func('unsigned int if_nametoindex(const char *name)'),
    sched_getaffinity: lib.func('int sched_getaffinity(int pid, size_t size, void *mask)'),
    sched_setaffinity: lib.func('int sched_setaffinity(int pid, size_t size, const void *mask)'),
    strerror: lib.func('const char *strerror(int errnum)'),
    mallopt: lib.func('int mallopt(int param, int value)'),
    malloc_trim: lib.func('int malloc_trim(size_t pad)'),
    address: (buf: ArrayBufferView): bigint => koffi.address(buf),
    errno: (): number => koffi.errno(),
  }) as Libc;
  names = new Map();
  for (const [name, value] of Object.entries(koffi.os.errno)) if (!names.has(value)) names.set(value, name);
  for (const [name, value] of Object.entries(ERRNO)) names.set(value, name);
  return bound;
}

/** The calling thread's errno after the last libc call. */
export function errno(): number {
  return loadLibc().errno();
}

/** 'EBUSY' for 16; every errno koffi knows gets its name, others `errno N`. Accepts -errno too. */
export function errnoName(err: number): string {
  loadLibc();
  const n = Math.abs(err);
  return names?.get(n) ?? `errno ${n}`;
}

/** 'EBUSY (Device or resource busy)': for messages at set-up boundaries, not the frame path. */
export function describeErrno(err: number): string {
  const n = Math.abs(err);
  return `${errnoName(n)} (${loadLibc().strerror(n)})`;
}

/** A zeroed struct ifreq holding `name` (ASCII/UTF-8, at most IFNAMSIZ-1 bytes) and `flags`. */
export function ifreq(name: string, flags = 0): Buffer {
  const ifr = Buffer.alloc(IFREQ_SIZE);
  if (Buffer.byteLength(name) >= IFNAMSIZ) throw new DivesError('EBADARG', `interface name ${name}: longer than ${IFNAMSIZ - 1} bytes`);
  ifr.write(name, 0, 'utf8');
  setIfrFlags(ifr, flags);
  return ifr;
}

/** ifr_flags of a struct ifreq, as the unsigned 16-bit value the kernel means. */
export function ifrFlags(ifr: Uint8Array): number {
  return new DataView(ifr.buffer, ifr.byteOffset, IFREQ_SIZE).getUint16(IFR_FLAGS, LITTLE_ENDIAN);
}

export function setIfrFlags(ifr: Uint8Array, flags: number): void {
  new DataView(ifr.buffer, ifr.byteOffset, IFREQ_SIZE).setUint16(IFR_FLAGS, flags & 0xffff, LITTLE_ENDIAN);
}

/** ifr_name of a struct ifreq. */
export function ifrName(ifr: Uint8Array): string {
  const end = ifr.indexOf(0);
  return Buffer.from(ifr.buffer, ifr.byteOffset, end < 0 || end > IFNAMSIZ ? IFNAMSIZ : end).toString('utf8');
}
