// PeerTable: every peer this switch knows — discovered by announcement or configured
// with `peer HOST PORT` — with how it was learned, whether it is up and when it was
// last heard. Pure bookkeeping with the clock passed in: it decides when a peer goes
// up, goes down or is forgotten, and src/peer/peering.ts acts on it. Main thread.
//
// Liveness: any proof of life (an announcement, a keepalive) marks a peer heard. A
// peer not heard for `expiryIntervals` discovery intervals expires: a discovered
// peer is forgotten (the next announcement makes it a new peer), a static one stays
// configured but goes down until it is heard again.

import { SocketAddress, isIPv6 } from 'node:net';

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
}

export interface PeerTableOptions {
  intervalMs: number;
  /** Missed intervals after which a peer expires. */
  expiryIntervals: number;
}

/** A peer's key: "10.0.0.2:3333", "node7.example:3333", "[2001:db8::7]:3333". */
export function peerKey(host: string, port: number): string {
  if (isIPv6(host)) return `[${canonicalAddress(host)}]:${port}`;
  return `${host.toLowerCase()}:${port}`;
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
    };
    this.peers.set(entry.key, entry);
    if (learned === 'discovered') this.discovered++;
    return entry;
  }

  /**
   * An announcement for host:port arrived (already checked as not our own and
   * acceptable from its source). Creates a discovered peer when it is new. `wentUp`
   * says the peer was down (or new) and is up now.
   */
  announce(host: string, port: number, address: string, nowMs: number): { entry: PeerEntry; created: boolean; wentUp: boolean } {
    const existing = this.peers.get(peerKey(host, port));
    const entry = existing ?? this.create(host, port, address, 'discovered');
    return { entry, created: existing === undefined, wentUp: this.markHeard(entry, nowMs) };
  }

  /** A keepalive (or other proof of life) from peer `id`. Undefined when the peer is not known. */
  heard(id: number, nowMs: number): { entry: PeerEntry; wentUp: boolean } | undefined {
    const entry = this.byId(id);
    if (entry === undefined) return undefined;
    return { entry, wentUp: this.markHeard(entry, nowMs) };
  }

  private markHeard(entry: PeerEntry, nowMs: number): boolean {
    entry.lastHeardMs = nowMs;
    if (entry.state === 'up') return false;
    entry.state = 'up';
    return true;
  }

  /**
   * Configure a static peer. A peer already discovered under the same key becomes
   * static and keeps its state; a new one starts down until it is heard. `created`
   * is false when it was already known; null when it is already static.
   */
  addStatic(host: string, port: number, address: string): { entry: PeerEntry; created: boolean } | null {
    const existing = this.peers.get(peerKey(host, port));
    if (existing !== undefined) {
      if (existing.learned === 'static') return null;
      existing.learned = 'static';
      this.discovered--;
      return { entry: existing, created: false };
    }
    return { entry: this.create(host, port, address, 'static'), created: true };
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
      if (p.state !== 'up' || nowMs - p.lastHeardMs <= this.expiryMs) continue;
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
