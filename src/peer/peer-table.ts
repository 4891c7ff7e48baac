// PeerTable: every peer this switch knows — discovered by announcement or configured
// with `peer HOST PORT` — with how it was learned, whether it is up and when it was
// last heard. Pure bookkeeping with the clock passed in: it decides when a peer goes
// up, goes down or is forgotten, and src/peer/peering.ts acts on it. Main thread.
//
// Liveness: any proof of life (an announcement, a keepalive) marks a peer heard. A
// peer not heard for `expiryIntervals` discovery intervals expires: a discovered
// peer is forgotten (the next announcement makes it a new peer), a static one stays
// configured but goes down until it is heard again.
//
// Legacy peers (the original DiVES, docs/multi-host.md): a peer heard by a sockaddr
// announcement is legacy unless a text announcement or a keepalive — which only DiVES
// sends — came from it within the expiry time; such a proof makes it a DiVES peer at
// once, and one kept alive by sockaddr announcements alone for the expiry time becomes
// legacy again (demote). The original announces once a second whatever this switch's
// interval, so a legacy peer expires after LEGACY_MIN_EXPIRY_MS at the least.

import { SocketAddress, isIPv6 } from 'node:net';
import type { AnnouncementFormat } from './wire/sockaddr-announcement.js';
import { formatHostPort } from '../linux/host-port.js';

/** Three of the original DiVES's once-a-second announcements: a legacy peer is never expired sooner. */
export const LEGACY_MIN_EXPIRY_MS = 3000;

export type PeerLearned = 'discovered' | 'static';
export type PeerState = 'up' | 'down';

export interface PeerEntry {
  /** Unique for the life of the switch; a forgotten and rediscovered peer gets a new one. */
  readonly id: number;
  /** "host:port" as the peer is shown and matched: names lowercased, IPv6 canonical and bracketed. */
  readonly key: string;
  /** The host as announced or configured, without brackets. */
  readonly host: string;
  readonly port: number;
  /** The address its datagrams come from and go to (host resolved). */
  readonly address: string;
  learned: PeerLearned;
  state: PeerState;
  /** When it was last heard (ms, the caller's clock), -1 if never. */
  lastHeardMs: number;
  /** When a text announcement or a keepalive last came from it, -1 if never. */
  lastDivesMs: number;
  /** The original DiVES as far as we can tell: sent plain frames only, nothing else. */
  legacy: boolean;
}

/** What hearing from a peer changed. */
export interface Heard {
  entry: PeerEntry;
  /** It was down (or new) and is up now. */
  wentUp: boolean;
  /** Its `legacy` flipped. */
  legacyChanged: boolean;
}

export interface PeerTableOptions {
  intervalMs: number;
  /** Missed intervals after which a peer expires. */
  expiryIntervals: number;
}

/** A peer's key: "10.0.0.2:3333", "node7.example:3333", "[2001:db8::7]:3333". */
export function peerKey(host: string, port: number): string {
  return formatHostPort(isIPv6(host) ? canonicalAddress(host) : host.toLowerCase(), port);
}

/** An IP address as the peer socket reports senders: IPv6 lowercased and compressed, IPv4 as it is. */
export function canonicalAddress(address: string): string {
  // SocketAddress round-trips through inet_pton/inet_ntop, as the kernel's sender addresses do.
  return isIPv6(address) ? new SocketAddress({ address, family: 'ipv6' }).address : address;
}

export class PeerTable {
  private readonly peers = new Map<string, PeerEntry>();
  private nextId = 1;
  /** How many of the peers are discovered (not static): what --max-peers bounds. */
  private discovered = 0;
  readonly intervalMs: number;
  readonly expiryIntervals: number;

  constructor(opts: PeerTableOptions) {
    this.intervalMs = opts.intervalMs;
    this.expiryIntervals = opts.expiryIntervals;
  }

  /** How long a peer may stay unheard before it expires. */
  get expiryMs(): number {
    return this.intervalMs * this.expiryIntervals;
  }

  /** Discovered peers now (static ones are not counted). */
  get discoveredCount(): number {
    return this.discovered;
  }

  get(key: string): PeerEntry | undefined {
    return this.peers.get(key);
  }

  byId(id: number): PeerEntry | undefined {
    for (const p of this.peers.values()) if (p.id === id) return p;
    return undefined;
  }

  private create(host: string, port: number, address: string, learned: PeerLearned): PeerEntry {
    const entry: PeerEntry = {
      id: this.nextId++,
      key: peerKey(host, port),
      host,
      port,
      address: canonicalAddress(address),
      learned,
      state: 'down',
      lastHeardMs: -1,
      lastDivesMs: -1,
      legacy: false,
    };
    this.peers.set(entry.key, entry);
    if (learned === 'discovered') this.discovered++;
    return entry;
  }

  /**
   * An announcement for host:port arrived in `format` (already checked as not our own
   * and acceptable from its source). Creates a discovered peer when it is new.
   */
  announce(host: string, port: number, address: string, nowMs: number, format: AnnouncementFormat = 'text'): Heard & { created: boolean } {
    const existing = this.peers.get(peerKey(host, port));
    const entry = existing ?? this.create(host, port, address, 'discovered');
    return { ...this.markHeard(entry, nowMs, format === 'text'), created: existing === undefined };
  }

  /** A keepalive from peer `id`: it is alive, and speaks DiVES. Undefined when the peer is not known. */
  heard(id: number, nowMs: number): Heard | undefined {
    const entry = this.byId(id);
    return entry === undefined ? undefined : this.markHeard(entry, nowMs, true);
  }

  /** `dives`: the proof of life was one only DiVES sends (a text announcement, a keepalive). */
  private markHeard(entry: PeerEntry, nowMs: number, dives: boolean): Heard {
    entry.lastHeardMs = nowMs;
    if (dives) entry.lastDivesMs = nowMs;
    const legacy = !dives && (entry.legacy || entry.lastDivesMs < 0 || nowMs - entry.lastDivesMs > this.expiryMs);
    const legacyChanged = legacy !== entry.legacy;
    entry.legacy = legacy;
    const wentUp = entry.state !== 'up';
    entry.state = 'up';
    return { entry, wentUp, legacyChanged };
  }

  /** DiVES peers kept up by sockaddr announcements alone for the expiry time: they are legacy now. */
  demote(nowMs: number): PeerEntry[] {
    const out: PeerEntry[] = [];
    for (const p of this.peers.values()) {
      if (p.state !== 'up' || p.legacy || p.lastHeardMs <= p.lastDivesMs || nowMs - p.lastDivesMs <= this.expiryMs) continue;
      p.legacy = true;
      out.push(p);
    }
    return out;
  }

  /**
   * Configure a static peer. A peer already discovered under the same key becomes
   * static and keeps its state; a new one starts down until it is heard. `created`
   * is false when it was already known; null when it is already static. A new one is
   * taken for a DiVES switch (the operator's word) for one expiry time from `nowMs`, so
   * its sockaddr announcements do not make it legacy before it answers a keepalive; one
   * known already keeps what it was.
   */
  addStatic(host: string, port: number, address: string, nowMs = -1): { entry: PeerEntry; created: boolean } | null {
    const existing = this.peers.get(peerKey(host, port));
    if (existing !== undefined) {
      if (existing.learned === 'static') return null;
      existing.learned = 'static';
      this.discovered--;
      return { entry: existing, created: false };
    }
    const entry = this.create(host, port, address, 'static');
    entry.lastDivesMs = nowMs;
    return { entry, created: true };
  }

  /** Forget a static peer; undefined when host:port is not one. */
  removeStatic(host: string, port: number): PeerEntry | undefined {
    const entry = this.peers.get(peerKey(host, port));
    if (entry === undefined || entry.learned !== 'static') return undefined;
    this.peers.delete(entry.key);
    return entry;
  }

  /**
   * Expire the peers not heard for expiryMs. Returns those that went down: `removed`
   * (discovered, now forgotten) and `down` (static, kept). Both lose their port.
   */
  expire(nowMs: number): { removed: PeerEntry[]; down: PeerEntry[] } {
    const removed: PeerEntry[] = [];
    const down: PeerEntry[] = [];
    for (const p of this.peers.values()) {
      const expiryMs = p.legacy ? Math.max(this.expiryMs, LEGACY_MIN_EXPIRY_MS) : this.expiryMs;
      if (p.state !== 'up' || nowMs - p.lastHeardMs <= expiryMs) continue;
      p.state = 'down';
      if (p.learned === 'static') {
        down.push(p);
      } else {
        this.peers.delete(p.key);
        this.discovered--;
        removed.push(p);
      }
    }
    return { removed, down };
  }

  /** Every peer, by key. */
  list(): PeerEntry[] {
    return [...this.peers.values()].sort((a, b) => a.key.localeCompare(b.key));
  }

  /** The static peers as configured, in the order `peer HOST PORT` lines would recreate them. */
  staticPeers(): { host: string; port: number }[] {
    return this.list()
      .filter((p) => p.learned === 'static')
      .map((p) => ({ host: p.host, port: p.port }));
  }
}
