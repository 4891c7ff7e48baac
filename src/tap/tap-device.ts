// TapDevice: opens a Linux TAP (an Ethernet-level virtual NIC) through /dev/net/tun, and
// tapRead/tapWrite/tapPoll, the per-frame calls on its fd. The whole TAP backend lives here
// so it can be swapped. Talks to libc through src/linux/libc.ts (koffi).
// open/close run on the main thread (control plane); tapRead/tapWrite run on the TAP I/O
// thread, which receives only the fd number (fds are process-wide). That thread waits with
// Doorbell.sleepPoll (the TAP and its eventfd together); tapPoll waits for one TAP alone, for
// callers with nothing else to wait for (tests, tools).
//
// The fd is non-blocking (O_NONBLOCK): the I/O thread waits in poll() with a timeout and
// then drains with tapRead until it returns 0, so it never sits inside a read() that
// nothing can interrupt when the switch shuts down. The fd is also close-on-exec, so a
// spawned `ip` or QEMU never inherits it (an inherited fd would keep the TAP busy and keep
// a TAP DiVES created alive after close()).
//
// Thread safety: the per-frame functions keep their scratch (a struct pollfd here, the
// iovec and cached buffer addresses of src/linux/fd-io.ts) in module state, which every
// thread has its own copy of. close() must only run after the I/O thread stopped using
// the fd, or a later open() could reuse the number under it.

import { existsSync, readFileSync } from 'node:fs';
import { fdRead, fdWrite } from '../linux/fd-io.js';
import { DivesError } from '../core/errors.js';
import {
  AF_INET, AF_INET6, ERRNO, IFF_MULTI_QUEUE, IFF_NO_PI, IFF_VNET_HDR, TUNSETOFFLOAD, TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6, IFF_PERSIST, IFF_TAP, IFF_TUN, IFF_UP, IFNAMSIZ,
  O_CLOEXEC, O_NONBLOCK, O_RDWR, POLLIN, POLLNVAL, SIOCGIFFLAGS, SIOCSIFFLAGS, SOCK_CLOEXEC,
  SOCK_DGRAM, TUNGETIFF, TUNSETIFF, describeErrno, ifreq, ifrFlags, ifrName, loadLibc, setIfrFlags, type Libc,
} from '../linux/libc.js';

const TUN_PATH = '/dev/net/tun';

export interface TapOpenOptions {
  /** Create a new (non-persistent) TAP when none has this name. Default true. */
  create?: boolean;
  /** Prefix every frame with a 10-byte virtio_net_hdr (IFF_VNET_HDR), so offloads can be enabled. Default false. */
  vnetHdr?: boolean;
}


export class TapDevice {
  readonly name: string;
  /** True when DiVES created the TAP: the kernel deletes it when the fd closes. */
  readonly created: boolean;
  #fd: number;

  /** Frames on this TAP carry a VNET_HDR_LEN-byte virtio_net_hdr first. */
  readonly vnetHdr: boolean;

  private constructor(name: string, fd: number, created: boolean, vnetHdr: boolean) {
    this.name = name;
    this.#fd = fd;
    this.created = created;
    this.vnetHdr = vnetHdr;
  }

  /**
   * Attaches the TAP called `name` (a persistent one from `ip tuntap add`, possibly owned
   * by this user) or, when there is none and `opts.create` is not false, creates a new one
   * that lives as long as this fd. Single queue, no packet-info header: each read/write is
   * exactly one Ethernet frame. Brings the link up (SIOCSIFFLAGS) unless it already is.
   * Throws DivesError ETAPPERM, ETAPBUSY, ETAPNODEV or EBADARG with a message to act on.
   */
  static open(name: string, opts: TapOpenOptions = {}): TapDevice {
    const bad = nameProblem(name);
    if (bad !== null) throw new DivesError('EBADARG', `tap ${JSON.stringify(name)}: ${bad}`);
    const create = opts.create ?? true;
    const existing = classify(name);
    if (existing === 'missing' && !create) throw noDevice(name);
    if (existing !== 'missing' && existing !== 'tap') throw wrongKind(name, existing);

    const c = loadLibc();
    const fd = c.open(TUN_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
    if (fd < 0) throw openFailed(name, c.errno());
    try {
      // IFF_VNET_HDR: every frame read or written is preceded by a 10-byte
      // virtio_net_hdr, so the kernel can hand over (and take) 64 KiB TCP
      // segments and frames with their checksum left to do, once setOffload(true).
      const ifr = ifreq(name, IFF_TAP | IFF_NO_PI | (opts.vnetHdr === true ? IFF_VNET_HDR : 0));
      if (c.ioctl(fd, TUNSETIFF, ifr) < 0) throw attachFailed(name, c.errno());
      // A non-persistent TAP exists only while an fd holds it, and a held single-queue TAP
      // answers EBUSY; so if we attached one, we created it. This is race-free, unlike
      // looking for the device before the ioctl.
      if (c.ioctl(fd, TUNGETIFF, ifr) < 0) throw internal(name, 'TUNGETIFF', c.errno());
      const created = (ifrFlags(ifr) & IFF_PERSIST) === 0;
      if (ifrName(ifr) !== name) throw new DivesError('EINTERNAL', `tap ${name}: the kernel attached ${ifrName(ifr)} instead`);
      if (created && !create) throw noDevice(name);
      bringUp(c, name);
      return new TapDevice(name, fd, created, opts.vnetHdr === true);
    } catch (err) {
      c.close(fd);
      throw err;
    }
  }

  /** The TAP's file descriptor, or -1 once closed. */
  get fd(): number {
    return this.#fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  /**
   * Let the kernel pass offloaded frames (TCP segments up to 64 KiB, checksums
   * left to do) through this TAP, or stop it. Only safe while every port such a
   * frame can reach hands it to a kernel (a TAP, or a peer that takes offloaded frames; Switch.updateOffloads decides).
   * Returns false, never throws, when the kernel refuses.
   */
  setOffload(on: boolean): boolean {
    if (this.#fd < 0) return false;
    const flags = on ? TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 : 0;
    return loadLibc().ioctlValue(this.#fd, TUNSETOFFLOAD, flags) === 0;
  }

  /** Releases the TAP; a TAP DiVES created disappears, a persistent one stays. Idempotent. */
  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    // close() on Linux releases the fd even when it reports an error, so there is nothing
    // to retry and nothing a caller could do about it.
    loadLibc().close(fd);
  }
}

// --- per-frame calls ----------------------------------------------------------------

// Per-thread scratch for tapPoll: struct pollfd is {int fd; short events; short revents}.
const pollfd = new Int32Array(2);
const pollShorts = new Int16Array(pollfd.buffer);

/**
 * Reads one frame into buf[off, off+max). Returns its length, 0 when no frame is waiting
 * (EAGAIN), or -errno (-EBADFD once the TAP was deleted under the fd). Never throws, never
 * allocates (src/linux/fd-io.ts). A frame longer than `max` is truncated by the kernel, so
 * pass room for the MTU plus 14.
 */
export function tapRead(fd: number, buf: Uint8Array, off: number, max: number): number {
  const r = fdRead(fd, buf, off, max);
  return r === -ERRNO.EAGAIN || r === -ERRNO.EINTR ? 0 : r;
}

/**
 * Writes the frame buf[off, off+len) to the TAP, i.e. hands it to the kernel as if it had
 * arrived on the wire. Returns len, or -errno (-EAGAIN when the kernel has no room, -EINVAL
 * for a frame shorter than an Ethernet header). Never throws, never allocates.
 */
export function tapWrite(fd: number, buf: Uint8Array, off: number, len: number): number {
  return fdWrite(fd, buf, off, len);
}

/**
 * Waits up to timeoutMs (-1: forever) for the TAP to become readable. Returns 1 when a read
 * will not block, 0 on timeout or when a signal interrupted the wait, or -errno (-EBADF for
 * an fd that is not open). POLLERR/POLLHUP count as readable: the next tapRead says why.
 */
export function tapPoll(fd: number, timeoutMs: number): number {
  try {
    const c = loadLibc();
    pollfd[0] = fd;
    pollShorts[2] = POLLIN;
    pollShorts[3] = 0;
    const r = c.poll(pollfd, 1, timeoutMs);
    if (r > 0) return (pollShorts[3] & POLLNVAL) !== 0 ? -ERRNO.EBADF : 1;
    if (r === 0) return 0;
    const e = c.errno();
    return e === ERRNO.EINTR ? 0 : -e;
  } catch {
    return -ERRNO.EINVAL;
  }
}

// --- set-up helpers -------------------------------------------------------------------

type Kind = 'missing' | 'tap' | 'tun' | 'multiqueue' | 'other';

/** Why `name` cannot be an interface name (the kernel's dev_valid_name rules), or null. */
function nameProblem(name: string): string | null {
  if (typeof name !== 'string' || name === '') return 'a TAP name must not be empty';
  if (Buffer.byteLength(name) > IFNAMSIZ - 1) return `a TAP name is at most ${IFNAMSIZ - 1} bytes (Linux IFNAMSIZ)`;
  if (name === '.' || name === '..') return 'not a valid interface name';
  // '%' would make the kernel pick a numbered name (tap%d), which DiVES could not find again.
  if (/[/:%\s]/.test(name) || [...name].some((ch) => ch.charCodeAt(0) < 0x20 || ch === '\x7f')) return "a TAP name must not contain '/', ':', '%', whitespace or control characters";
  return null;
}

/**
 * What kind of device `name` is in this thread's view of sysfs (the network namespace
 * /sys was mounted for, which `ip netns exec` keeps in step with the process).
 */
function classify(name: string): Kind {
  const dir = `/sys/class/net/${name}`;
  if (!existsSync(dir)) return 'missing';
  let flags: number;
  try {
    flags = Number.parseInt(readFileSync(`${dir}/tun_flags`, 'utf8').trim(), 16);
  } catch {
    // Only TUN/TAP devices have tun_flags; the device vanishing in between reads the same.
    return existsSync(dir) ? 'other' : 'missing';
  }
  if ((flags & IFF_TUN) !== 0) return 'tun';
  if ((flags & IFF_MULTI_QUEUE) !== 0) return 'multiqueue';
  return 'tap';
}

function devtype(name: string): string {
  try {
    const m = /^DEVTYPE=(.+)$/m.exec(readFileSync(`/sys/class/net/${name}/uevent`, 'utf8'));
    return m ? `${m[1]} ` : '';
  } catch {
    return '';
  }
}

function wrongKind(name: string, kind: Kind): DivesError {
  switch (kind) {
    case 'tun':
      return new DivesError('EBADARG', `tap ${name}: is a TUN device (IP level, no Ethernet frames), not a TAP; recreate it with \`ip tuntap add ${name} mode tap\``);
    case 'multiqueue':
      return new DivesError('EBADARG', `tap ${name}: is a multi-queue TAP, DiVES attaches single-queue TAPs; recreate it with \`ip tuntap add ${name} mode tap\` (without multi_queue)`);
    default:
      return new DivesError('EBADARG', `tap ${name}: is an existing ${devtype(name)}network device that is not a TAP (e.g. a veth or a NIC); pick another name`);
  }
}

function noDevice(name: string): DivesError {
  return new DivesError('ETAPNODEV', `tap ${name}: no such device; create it with \`ip tuntap add ${name} mode tap\``);
}

function permission(name: string): DivesError {
  return new DivesError('ETAPPERM', `tap ${name}: permission denied; run as root, grant CAP_NET_ADMIN, or create a persistent TAP owned by this user with \`ip tuntap add ${name} mode tap user $USER\``);
}

function internal(name: string, what: string, e: number): DivesError {
  return new DivesError('EINTERNAL', `tap ${name}: ${what} failed: ${describeErrno(e)}`);
}

function openFailed(name: string, e: number): DivesError {
  if (e === ERRNO.EACCES || e === ERRNO.EPERM) {
    return new DivesError('ETAPPERM', `tap ${name}: permission denied opening ${TUN_PATH}; run as root, or give this user access to ${TUN_PATH} and a persistent TAP owned by it (\`ip tuntap add ${name} mode tap user $USER\`)`);
  }
  if (e === ERRNO.ENOENT || e === ERRNO.ENODEV || e === ERRNO.ENXIO) {
    return new DivesError('ETAPNODEV', `tap ${name}: ${TUN_PATH} is missing (${describeErrno(e)}); load the tun module with \`modprobe tun\``);
  }
  return internal(name, `opening ${TUN_PATH}`, e);
}

function attachFailed(name: string, e: number): DivesError {
  if (e === ERRNO.EPERM || e === ERRNO.EACCES) return permission(name);
  if (e === ERRNO.EBUSY || e === ERRNO.EINVAL) {
    // The device may have changed since classify(): look again to say what it is now.
    const kind = classify(name);
    if (kind === 'tap' && e === ERRNO.EBUSY) {
      return new DivesError('ETAPBUSY', `tap ${name}: device busy; another process (a QEMU, another DiVES) already holds it`);
    }
    if (kind !== 'tap' && kind !== 'missing') return wrongKind(name, kind);
  }
  return internal(name, 'TUNSETIFF', e);
}

/** Sets IFF_UP through an AF_INET (or AF_INET6) datagram socket, unless the link already is up. */
function bringUp(c: Libc, name: string): void {
  let s = c.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) s = c.socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) throw internal(name, 'socket() for SIOCSIFFLAGS', c.errno());
  try {
    const ifr = ifreq(name);
    if (c.ioctl(s, SIOCGIFFLAGS, ifr) < 0) throw internal(name, 'SIOCGIFFLAGS', c.errno());
    const flags = ifrFlags(ifr);
    if ((flags & IFF_UP) !== 0) return;
    setIfrFlags(ifr, flags | IFF_UP);
    if (c.ioctl(s, SIOCSIFFLAGS, ifr) < 0) {
      const e = c.errno();
      if (e === ERRNO.EPERM || e === ERRNO.EACCES) {
        throw new DivesError('ETAPPERM', `tap ${name}: attached, but bringing it up needs CAP_NET_ADMIN; run \`ip link set ${name} up\` as root once`);
      }
      throw internal(name, 'SIOCSIFFLAGS', e);
    }
  } finally {
    c.close(s);
  }
}
