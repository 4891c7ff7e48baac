// The original DiVES's announcement format: the raw `struct sockaddr_in` (16 bytes) or
// `sockaddr_in6` (28 bytes) of its unicast socket, which the Ruby switch of 2011 multicasts
// instead of the `HOST:PORT` text its README describes (docs/wire-protocol.md, "The
// original DiVES's format"). Encoded and strictly parsed here; run by the main thread,
// which owns the discovery socket; no I/O of its own.
//
// The two formats never look alike: a sockaddr starts with its family, whose first byte
// (0x02, 0x0a or 0x00) is never printable ASCII, which every text announcement starts
// with; so a datagram is parsed as a sockaddr when looksLikeSockaddr() says so, and as
// text otherwise. The same rules hold for both: a wildcard address is refused here, a
// loopback one by acceptFromSource (src/peer/wire/announcement.ts) after parsing.
//
// | byte | sockaddr_in (16)               | sockaddr_in6 (28)              |
// |------|--------------------------------|--------------------------------|
// | 0    | family AF_INET (2), u16        | family AF_INET6 (10), u16      |
// | 2    | port, u16 big-endian           | port, u16 big-endian           |
// | 4    | IPv4 address (4 bytes)         | flowinfo (u32), must be 0      |
// | 8    | 8 zero bytes                   | IPv6 address (16 bytes)        |
// | 24   |                                | scope id (u32), must be 0      |
//
// The family is in the sender's byte order (`02 00` from an x86 host, `00 02` from a
// big-endian one); both are accepted, and this switch writes its own host's order.

import { SocketAddress, isIPv4, isIPv6 } from 'node:net';
import { DivesError } from '../../core/errors.js';
import { AF_INET, AF_INET6, LITTLE_ENDIAN } from '../../linux/libc.js';
import { isWildcardHost, type Announcement } from './announcement.js';

/** What a switch announces: `HOST:PORT` text (DiVES, the seed README) or a sockaddr (the original DiVES). */
export type AnnouncementFormat = 'text' | 'sockaddr';
export const ANNOUNCEMENT_FORMATS: readonly AnnouncementFormat[] = ['text', 'sockaddr'];

export const SOCKADDR_ANNOUNCEMENT_IN = 16;
export const SOCKADDR_ANNOUNCEMENT_IN6 = 28;

type Parsed = { ok: true; value: Announcement } | { ok: false; reason: string };

/** The sockaddr announcement of `address` (a numeric IPv4 or IPv6 address, no zone) and `port`. Throws DivesError('EBADARG') for anything the parser would refuse. */
export function encodeSockaddrAnnouncement(address: string, port: number): Buffer {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new DivesError('EBADARG', `discovery announcement: port ${String(port)} is not an integer in 1..65535`);
  }
  if ((!isIPv4(address) && !isIPv6(address)) || address.includes('%')) {
    throw new DivesError('EBADARG', `discovery announcement: ${JSON.stringify(address)} is not an IPv4 or IPv6 address (without a zone), which the sockaddr format needs`);
  }
  if (isWildcardHost(address)) {
    throw new DivesError('EBADARG', `discovery announcement: host ${address} is a wildcard address peers cannot send to; announce a concrete address (-h)`);
  }
  const v4 = isIPv4(address);
  const out = Buffer.alloc(v4 ? SOCKADDR_ANNOUNCEMENT_IN : SOCKADDR_ANNOUNCEMENT_IN6);
  const family = v4 ? AF_INET : AF_INET6;
  if (LITTLE_ENDIAN) out.writeUInt16LE(family, 0);
  else out.writeUInt16BE(family, 0);
  out.writeUInt16BE(port, 2);
  if (v4) {
    address.split('.').forEach((octet, i) => (out[4 + i] = Number(octet)));
  } else {
    ipv6Bytes(address).copy(out, 8);
  }
  return out;
}

/** True when `buf` is shaped like a sockaddr announcement (16 or 28 bytes, not starting with printable ASCII) rather than text. */
export function looksLikeSockaddr(buf: Uint8Array): boolean {
  return (buf.length === SOCKADDR_ANNOUNCEMENT_IN || buf.length === SOCKADDR_ANNOUNCEMENT_IN6) && buf[0] < 0x21;
}

/**
 * Strictly parses a sockaddr announcement, saying why when it is malformed (a phrase
 * safe to log: it quotes no datagram bytes but the family). The host comes back as
 * the address in text, IPv6 compressed and lowercased.
 */
export function parseSockaddrAnnouncement(buf: Uint8Array): Parsed {
  const len = buf.length;
  if (len !== SOCKADDR_ANNOUNCEMENT_IN && len !== SOCKADDR_ANNOUNCEMENT_IN6) return fail(`a sockaddr is 16 or 28 bytes, not ${len}`);
  const b = Buffer.from(buf.buffer, buf.byteOffset, len);
  const want = len === SOCKADDR_ANNOUNCEMENT_IN ? AF_INET : AF_INET6;
  if (b.readUInt16LE(0) !== want && b.readUInt16BE(0) !== want) {
    return fail(`family 0x${b.readUInt16BE(0).toString(16).padStart(4, '0')} is not ${want === AF_INET ? 'AF_INET' : 'AF_INET6'} for a ${len}-byte sockaddr`);
  }
  const port = b.readUInt16BE(2);
  if (port === 0) return fail('port 0');
  let host: string;
  if (len === SOCKADDR_ANNOUNCEMENT_IN) {
    for (let i = 8; i < 16; i++) if (b[i] !== 0) return fail('sin_zero (bytes 8..15) is not zero');
    host = `${b[4]}.${b[5]}.${b[6]}.${b[7]}`;
  } else {
    if (b.readUInt32BE(4) !== 0) return fail('sin6_flowinfo is not zero');
    // A scope id names an interface on the sender, which means nothing here (as a zone id in text).
    if (b.readUInt32BE(24) !== 0) return fail('sin6_scope_id is not zero');
    const groups: string[] = [];
    for (let i = 8; i < 24; i += 2) groups.push(b.readUInt16BE(i).toString(16));
    host = new SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
  }
  if (isWildcardHost(host)) return fail(`host ${host} is a wildcard address`);
  return { ok: true, value: { host, port } };
}

function fail(reason: string): Parsed {
  return { ok: false, reason };
}

/** The 16 bytes of an IPv6 address in text (checked by isIPv6 first). */
function ipv6Bytes(address: string): Buffer {
  const out = Buffer.alloc(16);
  let text = address;
  // An embedded IPv4 tail (::ffff:10.0.0.1) becomes two hex groups.
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (tail !== null) {
    const [a, b, c, d] = tail.slice(1).map(Number);
    text = `${text.slice(0, tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = rest === undefined || rest === '' ? [] : rest.split(':');
  const groups = rest === undefined ? left : [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right];
  groups.forEach((g, i) => out.writeUInt16BE(Number.parseInt(g, 16), i * 2));
  return out;
}
