// VxlanSockets: the UDP sockets every VXLAN datagram crosses, opened by the main thread
// (so a bind error is reported where the first `vxlan remote` or `vxlan group` was typed,
// and a restarted VXLAN I/O thread takes the same sockets over): one bound on the VXLAN
// port (--vxlan-port) on every address, which receives from VTEPs and joins the groups,
// and a small pool bound on ports of the dynamic range (49152..65535) that datagrams are
// sent from, picked by a hash of the inner frame (src/vxlan/vxlan-tx-batch.ts). Main
// thread; src/vxlan/vxlan-io.ts serves them.
//
// Why a pool: RFC 7348 asks for a UDP source port taken from the inner frame, so routers
// that spread flows by their 5-tuple spread VXLAN flows, and Linux sends each from a
// hashed port. One socket sends from one port, and raw sockets would need CAP_NET_RAW and
// our own IP headers; eight sockets give eight ports, one per flow hash. The pool is read
// too: vxvde answers a VTEP at the port it sent from, not at the VXLAN port.

import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import { DivesError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { UdpSocket, type UdpFamily } from '../linux/udp-socket.js';
import { interfaceIndexOf, isMulticastAddress, setMembership, setMulticastSend } from '../linux/udp-multicast.js';
import { VXLAN_PORT } from './vxlan-header.js';

/** Sockets datagrams are sent from; a power of two, so a hash picks one with a mask. */
export const VXLAN_SOURCE_PORTS = 8;
/** The dynamic port range RFC 7348 (after RFC 6335) takes source ports from, as Linux's driver does. */
export const SOURCE_PORT_MIN = 49152;
const SOURCE_PORT_SPAN = 65536 - SOURCE_PORT_MIN;
/** Learned VTEPs at most, by default (--vxlan-max-vteps). */
export const DEFAULT_MAX_VTEPS = 256;
/** Hops a datagram to a group may cross: 1 keeps it on the local network, as vxvde's default and Linux's for groups. */
export const VXLAN_MULTICAST_TTL = 1;
/** The kernel buffer asked for each way, as for the peer socket: room for a burst or a TCP window. */
const SOCKET_BUFFER = 4 << 20;

/** The switch-level VXLAN settings `dives start` was given. */
export interface VxlanSettings {
  /** --vxlan-port: the UDP port VTEPs send to, and the default port of `vxlan remote`. */
  port: number;
  /** --vxlan-local: the address datagrams leave from and groups are joined on; null: by route. */
  local: string | null;
  family: UdpFamily;
  /** --vxlan-max-vteps: learned (not configured) VTEPs at most. */
  maxVteps: number;
}

/** Check the flags: the port, the local address (an address of this host), the VTEP bound. */
export function resolveVxlanSettings(f: { port?: number; local?: string; maxVteps?: number } = {}): VxlanSettings {
  const port = f.port ?? VXLAN_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new DivesError('EBADARG', `--vxlan-port must be a UDP port 1..65535, got ${port}`);
  const maxVteps = f.maxVteps ?? DEFAULT_MAX_VTEPS;
  if (!Number.isInteger(maxVteps) || maxVteps < 1 || maxVteps > 65535) throw new DivesError('EBADARG', `--vxlan-max-vteps must be 1..65535, got ${maxVteps}`);
  if (f.local === undefined) return { port, local: null, family: 'udp4', maxVteps };
  const local = /^\[.*\]$/.test(f.local) ? f.local.slice(1, -1) : f.local;
  const v = isIP(local.replace(/%.*$/, ''));
  if (v === 0) throw new DivesError('EBADARG', `--vxlan-local must be an IPv4 or IPv6 address of this host, got ${JSON.stringify(f.local)}`);
  try {
    interfaceIndexOf(local);
  } catch (err) {
    throw new DivesError('EBADARG', `--vxlan-local ${local}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { port, local, family: v === 6 ? 'udp6' : 'udp4', maxVteps };
}

export class VxlanSockets {
  /** Groups joined on `rx`, with how many VLANs use each. */
  private readonly groups = new Map<string, number>();

  private constructor(
    readonly settings: VxlanSettings,
    /** Bound on the VXLAN port on every address: receives, and joins the groups. */
    readonly rx: UdpSocket,
    /** Bound on ports of the dynamic range: datagrams leave from these, and answers to them are read. */
    readonly pool: readonly UdpSocket[],
  ) {}

  /**
   * Bind the receiving socket and the source-port pool. Throws DivesError ELISTEN naming
   * what could not be bound (another program holds the VXLAN port: a kernel `vxlan`
   * device with the same dstport, or another switch), EBADARG for a bad --vxlan-local.
   */
  static open(settings: VxlanSettings, log: Logger): VxlanSockets {
    const { family, port, local } = settings;
    const any = family === 'udp4' ? '0.0.0.0' : '::';
    let rx: UdpSocket;
    try {
      rx = UdpSocket.bind(family, any, port, SOCKET_BUFFER);
    } catch (err) {
      throw new DivesError('ELISTEN', `cannot bind the VXLAN socket on UDP port ${port}: ${err instanceof Error ? err.message : String(err)}; another program (a kernel vxlan device, another switch) holds it: choose another --vxlan-port`);
    }
    const pool: UdpSocket[] = [];
    try {
      for (let i = 0; i < VXLAN_SOURCE_PORTS; i++) {
        const s = bindSourcePort(family, local ?? any);
        pool.push(s);
        setMulticastSend(s, local, VXLAN_MULTICAST_TTL, false);
      }
    } catch (err) {
      for (const s of [rx, ...pool]) s.close();
      throw err;
    }
    if (rx.receiveBuffer < 2 * SOCKET_BUFFER) log.warn(`vxlan: the kernel gave a receive buffer of ${rx.receiveBuffer} bytes, not the ${2 * SOCKET_BUFFER} asked for; bursts from VTEPs may be dropped (raise net.core.rmem_max, or run as root)`);
    return new VxlanSockets(settings, rx, pool);
  }

  /** Every fd the I/O thread reads: the VXLAN port's socket first, then the pool. */
  get fds(): number[] {
    return [this.rx.fd, ...this.pool.map((s) => s.fd)];
  }

  /** The pool's source ports, in order. */
  get sourcePorts(): number[] {
    return this.pool.map((s) => s.port);
  }

  /** Join `group` on the VXLAN socket (once for every VLAN that uses it). Throws EBADARG or ELISTEN. */
  join(group: string): void {
    if (!isMulticastAddress(this.settings.family, group)) {
      throw new DivesError('EBADARG', `${group} is not an ${this.settings.family === 'udp4' ? 'IPv4 multicast address (224.0.0.0/4)' : 'IPv6 multicast address (ff00::/8)'}`);
    }
    const n = this.groups.get(group) ?? 0;
    if (n === 0) setMembership(this.rx, group, this.settings.local, true);
    this.groups.set(group, n + 1);
  }

  /** A VLAN stopped using `group`: leave it when no VLAN uses it any more. */
  leave(group: string): void {
    const n = this.groups.get(group) ?? 0;
    if (n > 1) {
      this.groups.set(group, n - 1);
      return;
    }
    this.groups.delete(group);
    try {
      setMembership(this.rx, group, this.settings.local, false);
    } catch {
      // The membership goes with the socket anyway; a refusal to drop it early changes nothing else.
    }
  }

  close(): void {
    for (const s of [this.rx, ...this.pool]) s.close();
  }
}

/** A socket bound on a free port of the dynamic range, tried from a random one up. */
function bindSourcePort(family: UdpFamily, address: string): UdpSocket {
  const first = randomInt(SOURCE_PORT_SPAN);
  let last: unknown;
  // Most of the range is free on a host; a few hundred tries find a port or say why not.
  for (let i = 0; i < 512; i++) {
    try {
      return UdpSocket.bind(family, address, SOURCE_PORT_MIN + ((first + i * 131) % SOURCE_PORT_SPAN), SOCKET_BUFFER);
    } catch (err) {
      last = err;
    }
  }
  throw new DivesError('ELISTEN', `cannot bind a VXLAN source socket on ${address} in ports ${SOURCE_PORT_MIN}..65535: ${last instanceof Error ? last.message : String(last)}`);
}
