// Discovery codec: encodes and strictly parses the `HOST:PORT` announcements switches
// multicast to find peers (docs/wire-protocol.md, "Discovery announcements").
// Run by the main thread, which owns the discovery socket; no I/O of its own.
//
// Parsing is strict because the datagrams come from anyone on the multicast group:
// anything that is not exactly one well-formed HOST:PORT is rejected with a reason the
// caller counts as malformed, and nothing from the datagram reaches a log unescaped.

import { BlockList, isIPv6 } from 'node:net';
import { DivesError } from '../../core/errors.js';
import { formatHostPort } from '../../linux/host-port.js';

export interface Announcement {
  /** IPv4 dotted quad, RFC 1123 hostname, or IPv6 address (without brackets). */
  host: string;
  port: number;
}

/**
 * Longest valid announcement in bytes: a 253-character hostname (the RFC 1123 limit
 * without a trailing dot), ':' and a 5-digit port, 253 + 1 + 5 = 259. Dotted quads
 * (at most 15) and bracketed IPv6 addresses (at most 45 + 2) are shorter.
 */
export const MAX_ANNOUNCEMENT = 259;

const MAX_HOSTNAME = 253;
const LABEL_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const DIGITS_RE = /^[0-9]+$/;
const OCTET_RE = /^(?:0|[1-9][0-9]{0,2})$/;
const PORT_RE = /^[1-9][0-9]{0,4}$/;

// Unspecified ("wildcard") addresses name no host anyone can send to. The whole of
// 0.0.0.0/8 is "this host on this network" (RFC 1122 3.2.1.3) and is never a valid
// destination, so it is treated as wildcard too. BlockList also matches the IPv4-mapped
// IPv6 forms (::ffff:0.0.0.0, ::ffff:127.0.0.1) against the IPv4 rules.
const WILDCARD = new BlockList();
WILDCARD.addSubnet('0.0.0.0', 8, 'ipv4');
WILDCARD.addAddress('::', 'ipv6');

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

type Parsed = { ok: true; value: Announcement } | { ok: false; reason: string };

/**
 * Encodes the announcement for `host:port` as ASCII, bracketing an IPv6 host.
 * Throws DivesError('EBADARG') when the host or port could never be parsed back,
 * or when the host is a wildcard address that no peer could send to.
 */
export function encodeAnnouncement(host: string, port: number): Buffer {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new DivesError('EBADARG', `discovery announcement: port ${String(port)} is not an integer in 1..65535`);
  }
  if (typeof host !== 'string' || host.length === 0) {
    throw new DivesError('EBADARG', 'discovery announcement: the host is empty; give the address peers should send to');
  }
  if (host.startsWith('[')) {
    throw new DivesError('EBADARG', `discovery announcement: write the IPv6 address ${JSON.stringify(host)} without brackets`);
  }
  const problem = hostProblem(host);
  if (problem !== null) {
    throw new DivesError('EBADARG', `discovery announcement: host ${JSON.stringify(host)}: ${problem}`);
  }
  if (isWildcardHost(host)) {
    throw new DivesError(
      'EBADARG',
      `discovery announcement: host ${host} is a wildcard address peers cannot send to; announce a concrete address (-h)`,
    );
  }
  const text = formatHostPort(host, port);
  return Buffer.from(text, 'latin1');
}

/** Strictly parses an announcement datagram; null on anything malformed. */
export function parseAnnouncement(buf: Uint8Array): Announcement | null {
  const r = parseAnnouncementReason(buf);
  return r.ok ? r.value : null;
}

/**
 * Strictly parses an announcement datagram, saying why when it is malformed. Reasons are
 * short English phrases safe to log: they quote datagram bytes only after checking that
 * every byte is printable ASCII.
 */
export function parseAnnouncementReason(buf: Uint8Array): Parsed {
  const len = buf.length;
  if (len === 0) return fail('empty datagram');
  if (len > MAX_ANNOUNCEMENT) return fail(`longer than ${MAX_ANNOUNCEMENT} bytes (${len})`);
  for (let i = 0; i < len; i++) {
    const b = buf[i];
    // 0x21..0x7e is printable ASCII without space, so this also refuses tabs, NUL and newlines.
    if (b < 0x21 || b > 0x7e) return fail(`byte 0x${b.toString(16).padStart(2, '0')} at offset ${i} is not printable ASCII`);
  }
  const text = Buffer.from(buf.buffer, buf.byteOffset, len).toString('latin1');

  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return fail('"[" without a closing "]"');
    host = text.slice(1, close);
    if (text[close + 1] !== ':') return fail('"]" is not followed by ":PORT"');
    portText = text.slice(close + 2);
    if (!host.includes(':')) return fail(`"[${host}]" is not an IPv6 address; only IPv6 addresses go in brackets`);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return fail('no ":PORT"');
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(':')) return fail('more than one ":" (an IPv6 address must be written in brackets)');
  }

  if (!PORT_RE.test(portText) || Number(portText) > 65535) {
    return fail(`port "${portText}" is not a decimal 1..65535 without sign or leading zeros`);
  }
  if (host.length === 0) return fail('empty host');
  const problem = hostProblem(host);
  if (problem !== null) return fail(`host "${host}": ${problem}`);
  if (isWildcardHost(host)) return fail(`host ${host} is a wildcard address`);
  return { ok: true, value: { host, port: Number(portText) } };
}

/** True for 0.0.0.0/8, :: and their IPv4-mapped forms: addresses that name no reachable host. */
export function isWildcardHost(host: string): boolean {
  const family = ipFamily(host);
  return family !== null && WILDCARD.check(host, family);
}

/**
 * True for 127.0.0.0/8, ::1, their IPv4-mapped forms, and the names `localhost` and
 * `*.localhost`, which RFC 6761 reserves for loopback.
 */
export function isLoopbackHost(host: string): boolean {
  const family = ipFamily(host);
  if (family !== null) return LOOPBACK.check(host, family);
  const lower = host.toLowerCase();
  return lower === 'localhost' || lower.endsWith('.localhost');
}

/**
 * The lead's rule for loopback announcements: one naming a loopback host is accepted only
 * when it arrived from a loopback source address (`rinfo.address`), because another
 * host's loopback is not reachable from here. Every other announcement is accepted.
 * A false result is counted as malformed.
 */
export function acceptFromSource(ann: Announcement, sourceAddress: string): boolean {
  if (!isLoopbackHost(ann.host)) return true;
  return ipFamily(sourceAddress) !== null && isLoopbackHost(sourceAddress);
}

function fail(reason: string): Parsed {
  return { ok: false, reason };
}

function ipFamily(host: string): 'ipv4' | 'ipv6' | null {
  if (host.includes(':')) return isIPv6(host) ? 'ipv6' : null;
  return dottedQuadProblem(host) === null ? 'ipv4' : null;
}

/** Why `host` (unbracketed) is not an IPv6 address, dotted quad or RFC 1123 hostname; null when it is. */
function hostProblem(host: string): string | null {
  if (host.includes(':')) {
    // Zone ids (fe80::1%eth0) name an interface on the sender, which means nothing here.
    if (host.includes('%')) return 'IPv6 zone ids are not allowed';
    return isIPv6(host) ? null : 'not a valid IPv6 address';
  }
  const labels = host.split('.');
  // RFC 1123 2.1: a name whose last label is all digits would be read as an address, so
  // such a host must be a complete, well-formed dotted quad.
  if (DIGITS_RE.test(labels[labels.length - 1])) return dottedQuadProblem(host);
  if (host.length > MAX_HOSTNAME) return `hostname longer than ${MAX_HOSTNAME} characters`;
  for (const label of labels) {
    if (!LABEL_RE.test(label)) {
      return label.length === 0
        ? 'empty label (no leading, trailing or doubled ".")'
        : `label "${label}" is not 1..63 of [A-Za-z0-9-] without a leading or trailing "-"`;
    }
  }
  return null;
}

function dottedQuadProblem(host: string): string | null {
  const parts = host.split('.');
  if (parts.length !== 4) return 'numeric host is not a dotted quad a.b.c.d';
  for (const p of parts) {
    if (!OCTET_RE.test(p) || Number(p) > 255) return `"${p}" is not an octet 0..255 without leading zeros`;
  }
  return null;
}
