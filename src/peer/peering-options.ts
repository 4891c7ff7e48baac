// Peering options: turns what `dives start` was given (-h, -p, -m, -d and the
// discovery flags) into checked, resolved settings for src/peer/peering.ts, with
// the warnings a person should see at start. Main thread, once at start.

import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { encodeAnnouncement, isLoopbackHost, isWildcardHost } from './wire/announcement.js';
import { encodeSockaddrAnnouncement, type AnnouncementFormat } from './wire/sockaddr-announcement.js';
import { DivesError, isDivesError } from '../core/errors.js';
import type { PeerBind } from './peer-socket.js';
import { DEFAULT_MAX_PEERS, DEFAULT_PEER_RATE } from './discovery-limits.js';
import { randomBytes } from 'node:crypto';
import { readKeyFile } from '../crypto/cluster-key.js';
import { KeyRing, type PeerSecurity } from '../crypto/key-ring.js';

export type { PeerSecurity };

export const DEFAULT_DISCOVERY_INTERVAL_S = 1;
export const DEFAULT_PEER_EXPIRY = 3;
export const DEFAULT_MULTICAST_TTL = 1;

/** The flags as `dives start` parsed them. */
export interface PeeringFlags {
  /** -h: the unicast address peers send to (an address or a name). */
  host: string;
  /** -p: the unicast UDP port. */
  port: number;
  /** False with --no-discovery. */
  discovery: boolean;
  /** -m and -d. */
  group: string;
  discoveryPort: number;
  /** --discovery-interval, seconds; decimals allowed ("0.5"). */
  interval: string | number;
  /** --peer-expiry: missed intervals. */
  expiry: number;
  /** --multicast-ttl. */
  ttl: number;
  /** --multicast-if: the IPv4 address of the interface discovery uses. */
  multicastIf?: string;
  /** --max-peers: discovered peers at most (default DEFAULT_MAX_PEERS). */
  maxPeers?: number;
  /** --peer-rate: new discovered peers a second at most (default DEFAULT_PEER_RATE). */
  peerRate?: number;
  /** --discovery-format: what this switch announces (default text; sockaddr for a cluster with the original DiVES). */
  discoveryFormat?: AnnouncementFormat;
  /** --key-file: the cluster key; peers must prove they hold it (docs/security.md). */
  keyFile?: string;
  /** --encrypt (default): with a key, frames are encrypted; --no-encrypt: authenticated only. */
  encrypt?: boolean;
  /** --max-clock-skew: seconds a keepalive's or announcement's clock may be from this host's. */
  maxClockSkew?: number;
}


export const DEFAULT_MAX_CLOCK_SKEW = 60;

export interface DiscoverySettings {
  group: string;
  port: number;
  interfaceAddress: string;
  ttl: number;
  /** What is announced, and in which format (never both: a text announcement kills the original DiVES). */
  format: AnnouncementFormat;
  announcement: Buffer;
  /** Discovered peers at most, and new ones a second at most (src/peer/discovery-limits.ts). */
  maxPeers: number;
  peerRate: number;
}

export interface PeeringOptions {
  /** -h as given: what this switch announces. */
  host: string;
  port: number;
  /** Where the peer socket binds: -h resolved. */
  bind: PeerBind;
  intervalMs: number;
  expiryIntervals: number;
  /** Null with --no-discovery. */
  discovery: DiscoverySettings | null;
  /** Things that work but are probably not what was meant; logged at start. */
  warnings: string[];
  /** With --key-file; null: no key, the original wire format. */
  security: PeerSecurity | null;
  /** How announced and configured names are resolved; the system resolver when left out (tests give their own). */
  lookup?: FamilyLookup;
}

export type Lookup = (host: string) => Promise<string>;
/** A name to one address of the peer socket's family. */
export type FamilyLookup = (host: string, family: 4 | 6) => Promise<string>;

/** The most --max-peers may be: every peer takes a port, and a switch has 65535. */
export const MAX_MAX_PEERS = 65535;
/** The most --peer-rate may be. */
export const MAX_PEER_RATE = 10_000;
/** The original DiVES forgets a peer not announced for this long (docs/wire-protocol.md). */
const ORIGINAL_EXPIRY_MS = 5000;

const defaultLookup: Lookup = async (host) => (await dnsLookup(host)).address;

/** Seconds as a positive decimal, 0.05..3600. */
export function parseIntervalSeconds(value: string | number): number {
  const text = String(value);
  const n = /^[0-9]+(?:\.[0-9]+)?$/.test(text) ? Number(text) : NaN;
  if (!(n >= 0.05 && n <= 3600)) {
    throw new DivesError('EBADARG', `--discovery-interval must be seconds between 0.05 and 3600 (e.g. 1 or 0.5), got ${JSON.stringify(text)}`);
  }
  return n;
}

/** Check the flags, resolve -h, pick the multicast interface, and collect warnings. */
export async function resolvePeeringOptions(f: PeeringFlags, lookup: Lookup = defaultLookup): Promise<PeeringOptions> {
  const intervalMs = Math.round(parseIntervalSeconds(f.interval) * 1000);
  if (!Number.isInteger(f.expiry) || f.expiry < 1 || f.expiry > 1000) {
    throw new DivesError('EBADARG', `--peer-expiry must be a whole number of intervals 1..1000, got ${f.expiry}`);
  }
  if (!Number.isInteger(f.ttl) || f.ttl < 0 || f.ttl > 255) {
    throw new DivesError('EBADARG', `--multicast-ttl must be 0..255, got ${f.ttl}`);
  }
  const maxPeers = f.maxPeers ?? DEFAULT_MAX_PEERS;
  if (!Number.isInteger(maxPeers) || maxPeers < 1 || maxPeers > MAX_MAX_PEERS) {
    throw new DivesError('EBADARG', `--max-peers must be a whole number of peers 1..${MAX_MAX_PEERS}, got ${maxPeers}`);
  }
  const peerRate = f.peerRate ?? DEFAULT_PEER_RATE;
  if (!Number.isInteger(peerRate) || peerRate < 1 || peerRate > MAX_PEER_RATE) {
    throw new DivesError('EBADARG', `--peer-rate must be a whole number of new peers a second 1..${MAX_PEER_RATE}, got ${peerRate}`);
  }
  const host = /^\[.*\]$/.test(f.host) ? f.host.slice(1, -1) : f.host;
  let address = host;
  if (isIP(host) === 0) {
    try {
      address = await lookup(host);
    } catch (err) {
      throw new DivesError('EBADARG', `-h ${host}: cannot resolve it (${err instanceof Error ? err.message : String(err)}); give an address`);
    }
  }
  const bind: PeerBind = { address, port: f.port, family: isIP(address) === 6 ? 'udp6' : 'udp4' };
  const security = resolveSecurity(f);
  const base = { host, port: f.port, bind, intervalMs, expiryIntervals: f.expiry, warnings: [] as string[], security };
  if (!f.discovery) return { ...base, discovery: null };

  if (isWildcardHost(address)) {
    throw new DivesError(
      'EBADARG',
      `-h ${host} is a wildcard address, which peers cannot send to; give this host's address with -h, or use --no-discovery with static peers`,
    );
  }
  const format = f.discoveryFormat ?? 'text';
  if (format === 'sockaddr' && security !== null) {
    throw new DivesError('EBADARG', '--discovery-format sockaddr cannot go with --key-file: the original DiVES\'s announcements carry no authenticator, so a keyed switch refuses them (docs/security.md)');
  }
  let announcement: Buffer;
  try {
    // The sockaddr format carries an address only: a name given to -h is announced resolved, as the original does.
    announcement = format === 'sockaddr' ? encodeSockaddrAnnouncement(address, f.port) : encodeAnnouncement(host, f.port);
  } catch (err) {
    throw new DivesError('EBADARG', `-h ${host}: cannot be announced: ${isDivesError(err) ? err.message : String(err)}`);
  }
  const interfaceAddress = f.multicastIf ?? (isIP(address) === 4 ? address : undefined);
  if (interfaceAddress === undefined) {
    throw new DivesError('EBADARG', `discovery runs over IPv4; -h ${host} is not an IPv4 address, so give the interface with --multicast-if ADDRESS`);
  }
  if (isIP(interfaceAddress) !== 4 || isWildcardHost(interfaceAddress)) {
    throw new DivesError('EBADARG', `--multicast-if must be the IPv4 address of an interface, got ${JSON.stringify(interfaceAddress)}`);
  }
  if (isLoopbackHost(address) && !isLoopbackHost(interfaceAddress)) {
    base.warnings.push(
      `-h ${host} is a loopback address but discovery runs on ${interfaceAddress}: switches on other hosts will drop this ` +
        `switch's announcements, because another host's loopback is unreachable; give -h this host's address on that network`,
    );
  }
  if (format === 'sockaddr' && intervalMs >= ORIGINAL_EXPIRY_MS) {
    base.warnings.push(
      `--discovery-interval ${intervalMs / 1000} with --discovery-format sockaddr: the original DiVES forgets a switch it has not heard for ` +
        `${ORIGINAL_EXPIRY_MS / 1000} s, so it will lose this one between announcements; use an interval under ${ORIGINAL_EXPIRY_MS / 1000} s`,
    );
  }
  return { ...base, discovery: { group: f.group, port: f.discoveryPort, interfaceAddress, ttl: f.ttl, format, announcement, maxPeers, peerRate } };
}

/** The key file read and checked (its errors stop the start), a new session, the skew. */
function resolveSecurity(f: PeeringFlags): PeerSecurity | null {
  const skew = f.maxClockSkew ?? DEFAULT_MAX_CLOCK_SKEW;
  if (!Number.isInteger(skew) || skew < 1 || skew > 86_400) {
    throw new DivesError('EBADARG', `--max-clock-skew must be whole seconds 1..86400, got ${skew}`);
  }
  if (f.keyFile === undefined) {
    if (f.encrypt === false) throw new DivesError('EBADARG', '--no-encrypt needs --key-file: without a cluster key nothing is authenticated or encrypted');
    return null;
  }
  const key = readKeyFile(f.keyFile);
  return { ring: new KeyRing(key, f.keyFile, f.encrypt ?? true), session: randomBytes(8), skewMs: skew * 1000 };
}
