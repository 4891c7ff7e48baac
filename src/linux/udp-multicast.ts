// Multicast on a UdpSocket (src/linux/udp-socket.ts) through libc: joining and leaving a
// group on an interface, and where, how far and whether back to this host the socket's
// own multicast datagrams go. Main thread, at set-up and on configuration commands;
// never per datagram. Used by the VXLAN sockets (src/vxlan/vxlan-sockets.ts).
//
// The option values, in native byte order where they are integers:
//
// | option                      | value                                                       |
// |-----------------------------|-------------------------------------------------------------|
// | IP_ADD/DROP_MEMBERSHIP      | struct ip_mreqn: group (4), interface address (4), ifindex (int) |
// | IP_MULTICAST_IF             | struct in_addr: the interface's address (0: by route)       |
// | IP_MULTICAST_TTL, _LOOP     | int                                                         |
// | IPV6_ADD/DROP_MEMBERSHIP    | struct ipv6_mreq: group (16), ifindex (unsigned)            |
// | IPV6_MULTICAST_IF, _HOPS, _LOOP | int (the ifindex for _IF; 0: by route)                  |

import { networkInterfaces } from 'node:os';
import { DivesError } from '../core/errors.js';
import {
  AF_INET, AF_INET6, IPPROTO_IP, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, IPV6_DROP_MEMBERSHIP, IPV6_MULTICAST_HOPS, IPV6_MULTICAST_IF,
  IPV6_MULTICAST_LOOP, IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP, IP_MULTICAST_IF, IP_MULTICAST_LOOP, IP_MULTICAST_TTL, LITTLE_ENDIAN,
  describeErrno, loadLibc,
} from './libc.js';
import type { UdpFamily, UdpSocket } from './udp-socket.js';

/** True for an IPv4 (224.0.0.0/4) or IPv6 (ff00::/8) multicast address of `family`; false for anything else. */
export function isMulticastAddress(family: UdpFamily, address: string): boolean {
  const bytes = Buffer.alloc(16);
  if (loadLibc().inet_pton(family === 'udp4' ? AF_INET : AF_INET6, address, bytes) !== 1) return false;
  return family === 'udp4' ? (bytes[0] & 0xf0) === 0xe0 : bytes[0] === 0xff;
}

/** The index of the interface that holds `address` in this network namespace; throws EBADARG when none does. */
export function interfaceIndexOf(address: string): number {
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if (!(addrs ?? []).some((a) => a.address === address || a.address === address.replace(/%.*$/, ''))) continue;
    const index = loadLibc().if_nametoindex(name);
    if (index > 0) return index;
  }
  throw new DivesError('EBADARG', `${address} is the address of no interface here; give one this host has (ip address shows them)`);
}

function setInt(sock: UdpSocket, level: number, name: number, value: number, what: string): void {
  const c = loadLibc();
  if (c.setsockopt(sock.fd, level, name, new Int32Array([value]), 4) < 0) throw new DivesError('ELISTEN', `${what}: ${describeErrno(c.errno())}`);
}

/** An option value of `bytes` bytes, as the Int32Array setsockopt takes, and a byte view of it. */
function optionBytes(bytes: number): { words: Int32Array; view: Buffer } {
  const words = new Int32Array(Math.ceil(bytes / 4));
  return { words, view: Buffer.from(words.buffer, 0, bytes) };
}

function addressBytes(family: UdpFamily, address: string): Buffer {
  const out = Buffer.alloc(family === 'udp4' ? 4 : 16);
  if (loadLibc().inet_pton(family === 'udp4' ? AF_INET : AF_INET6, address.replace(/%.*$/, ''), out) !== 1) {
    throw new DivesError('EBADARG', `${address}: not an ${family === 'udp4' ? 'IPv4' : 'IPv6'} address`);
  }
  return out;
}

/**
 * Join (or, with `join` false, leave) `group` on the interface that holds `ifAddress`
 * (null: the one the routing table picks for the group). Throws DivesError ELISTEN with
 * the kernel's reason when it refuses.
 */
export function setMembership(sock: UdpSocket, group: string, ifAddress: string | null, join: boolean): void {
  const c = loadLibc();
  let ok: boolean;
  if (sock.family === 'udp4') {
    const { words, view } = optionBytes(12);
    addressBytes('udp4', group).copy(view, 0);
    if (ifAddress !== null) addressBytes('udp4', ifAddress).copy(view, 4);
    ok = c.setsockopt(sock.fd, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, words, 12) === 0;
  } else {
    const { words, view } = optionBytes(20);
    addressBytes('udp6', group).copy(view, 0);
    const index = ifAddress === null ? 0 : interfaceIndexOf(ifAddress);
    if (LITTLE_ENDIAN) view.writeUInt32LE(index, 16);
    else view.writeUInt32BE(index, 16);
    ok = c.setsockopt(sock.fd, IPPROTO_IPV6, join ? IPV6_ADD_MEMBERSHIP : IPV6_DROP_MEMBERSHIP, words, 20) === 0;
  }
  if (!ok) throw new DivesError('ELISTEN', `${join ? 'joining' : 'leaving'} multicast group ${group}: ${describeErrno(c.errno())}`);
}

/**
 * How the socket's own multicast datagrams leave: through the interface that holds
 * `ifAddress` (null: by route), with `ttl` hops at most, and looped back to this host's
 * own sockets or not. Throws DivesError ELISTEN when the kernel refuses.
 */
export function setMulticastSend(sock: UdpSocket, ifAddress: string | null, ttl: number, loop: boolean): void {
  if (sock.family === 'udp4') {
    if (ifAddress !== null) {
      const { words, view } = optionBytes(4);
      addressBytes('udp4', ifAddress).copy(view, 0);
      const c = loadLibc();
      if (c.setsockopt(sock.fd, IPPROTO_IP, IP_MULTICAST_IF, words, 4) < 0) throw new DivesError('ELISTEN', `multicast interface ${ifAddress}: ${describeErrno(c.errno())}`);
    }
    setInt(sock, IPPROTO_IP, IP_MULTICAST_TTL, ttl, 'multicast TTL');
    setInt(sock, IPPROTO_IP, IP_MULTICAST_LOOP, loop ? 1 : 0, 'multicast loopback');
    return;
  }
  if (ifAddress !== null) setInt(sock, IPPROTO_IPV6, IPV6_MULTICAST_IF, interfaceIndexOf(ifAddress), `multicast interface ${ifAddress}`);
  setInt(sock, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, ttl, 'multicast hops');
  setInt(sock, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, loop ? 1 : 0, 'multicast loopback');
}
