// Peering: who this switch's peers are and whether they are alive. It runs
// discovery, keeps the peer table, sends and answers keepalives, expires silent
// peers, and tells PeerPorts (src/peer/peer-ports.ts) when a peer goes up or down;
// it also answers `show peers`, `peer HOST PORT` and `no peer HOST PORT`. Main thread.
//
// Policy, also in docs/wire-protocol.md: a peer is created only by an announcement
// (discovery) or by configuration (`peer HOST PORT`). A datagram or keepalive from
// anyone else is a stranger's and never makes a peer. Static peers are sent a
// keepalive every interval; a keepalive from a known peer is answered at once
// unless one went to it within the last half interval, so a switch that has us as a
// static peer hears from us even when we only discovered it, without keepalives
// bouncing back and forth. A peer heard only by the original DiVES's sockaddr
// announcements is a legacy peer (src/peer/peer-table.ts says when): it is sent plain
// frames only — no keepalives, even as a static peer, and no offload advertisements.
//
// Everything an outsider can make happen here — announcements of new peers, names that
// do not resolve, peers that come and go — is bounded: new discovered peers by
// DiscoveryLimits (src/peer/discovery-limits.ts), their log lines by the logger's
// LogLimiter (src/core/log-limiter.ts), and what is remembered about names by
// MAX_UNRESOLVABLE; a forgotten peer leaves nothing behind here, in PeerPorts or in the
// peer I/O thread.

import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { encodeAnnouncement, isWildcardHost, type Announcement } from './wire/announcement.js';
import { DivesError, isDivesError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { LogLimiter } from '../core/log-limiter.js';
import { EventBus } from '../core/event-bus.js';
import type { AnnouncementFormat } from './wire/sockaddr-announcement.js';
import type { PeerInfo, PeersInfo, StaticPeer } from './peer-info.js';
import { idleReport, peersReport } from './peers-report.js';
import type { PeerPorts } from './peer-ports.js';
import { Discovery } from './discovery.js';
import { DiscoveryLimits } from './discovery-limits.js';
import { PeerTable, canonicalAddress, peerKey, type PeerEntry } from './peer-table.js';
import type { PeeringOptions, PeerSecurity } from './peering-options.js';
import { AnnounceSeal } from './announce-seal.js';
import { loadAead } from '../crypto/aead.js';
import type { PeerSession } from './peer-io-messages.js';
import { KeyControl } from '../crypto/key-control.js';

const RESOLVE_RETRY_MS = 60_000;
/**
 * Unresolvable names remembered at most. New names are resolved at --peer-rate a second
 * at most and forgotten after RESOLVE_RETRY_MS, so this bites only with a high rate.
 */
const MAX_UNRESOLVABLE = 1024;

/** The refusal of `peer HOST PORT` for a peer that is static already. */
export function alreadyStatic(key: string): DivesError {
  return new DivesError('EATTACHED', `peer ${key} is already a static peer`);
}

/** The refusal of `no peer HOST PORT` for one that is not a static peer. */
export function notStatic(key: string): DivesError {
  return new DivesError('ENOTATTACHED', `peer ${key} is not a static peer; "show peers" lists the peers`);
}

export class Peering {
  private opts: PeeringOptions | null = null;
  private table: PeerTable | null = null;
  private discovery: Discovery | null = null;
  private limits: DiscoveryLimits | null = null;
  private readonly lines: LogLimiter;
  private readonly events: EventBus;
  private timer: NodeJS.Timeout | null = null;
  private nextKeepaliveAt = 0;
  /** Peer id → when we last sent it a keepalive. */
  private readonly keepaliveSent = new Map<number, number>();
  /** Hosts of announcements being resolved, so a burst resolves each name once. */
  private readonly resolving = new Set<string>();
  /** Announced names that did not resolve, oldest first, and when: tried again once a minute. */
  private readonly unresolvable = new Map<string, number>();
  private closed = false;
  /** `show keys`, `key add|use|remove` (src/crypto/key-control.ts). */
  readonly keyControl: KeyControl;

  constructor(
    private readonly ports: PeerPorts,
    private readonly log: Logger,
  ) {
    this.lines = LogLimiter.of(log);
    this.events = EventBus.of(log);
    this.keyControl = new KeyControl(() => this.opts?.security ?? null, log);
  }

  get running(): boolean {
    return this.opts !== null && !this.closed;
  }

  /** Bind the peer socket, start discovery (unless off) and the liveness timer. */
  async start(opts: PeeringOptions): Promise<void> {
    if (this.opts !== null) throw new DivesError('EINTERNAL', 'peering is already running');
    for (const w of opts.warnings) this.log.warn(w);
    const announceSeal = this.secure(opts.security, opts.discovery?.maxPeers ?? 0);
    await this.ports.start(opts.bind);
    this.opts = opts;
    this.table = new PeerTable({ intervalMs: opts.intervalMs, expiryIntervals: opts.expiryIntervals });
    this.ports.onHeard = (id) => this.onKeepalive(id);
    if (opts.discovery !== null) {
      const d = opts.discovery;
      this.discovery = new Discovery({
        group: d.group,
        port: d.port,
        interfaceAddress: d.interfaceAddress,
        ttl: d.ttl,
        intervalMs: opts.intervalMs,
        announcement: d.announcement,
        seal: announceSeal,
        log: this.log,
        onAnnouncement: (ann, source, format, session) => this.onAnnouncement(ann, source, format, session),
      });
      this.limits = new DiscoveryLimits({ maxPeers: d.maxPeers, peerRate: d.peerRate, counts: this.discovery.counts, lines: this.lines });
      try {
        await this.discovery.start();
      } catch (err) {
        await this.close();
        throw err;
      }
      const what = d.format === 'text' ? d.announcement.toString('latin1') : `the sockaddr of ${peerKey(opts.bind.address, opts.bind.port)} (the original DiVES's format)`;
      this.log.info(`discovery: announcing ${what} to ${d.group}:${d.port} via ${d.interfaceAddress}, ttl ${d.ttl}, every ${opts.intervalMs / 1000} s; at most ${d.maxPeers} discovered peers, ${d.peerRate} new a second`);
    } else {
      this.log.info('discovery is off: only static peers ("peer HOST PORT")');
    }
    this.nextKeepaliveAt = Date.now();
    // Expiry is checked several times per interval so a silent peer goes down
    // close to its deadline rather than up to a whole interval after it.
    const checkMs = Math.min(250, Math.max(20, Math.floor(opts.intervalMs / 5)));
    this.timer = setInterval(() => this.tick(), checkMs);
  }

  /**
   * With a key: load the AEAD (src/crypto/aead.ts; a missing one stops the start here), give the peer thread
   * its sealing and keep it and discovery in step with the key ring. The announcement
   * sealer, or null without a key.
   */
  private secure(sec: PeerSecurity | null, maxPeers: number): AnnounceSeal | null {
    if (sec === null) return null;
    const aead = loadAead();
    const ring = sec.ring;
    this.ports.told.sealing = { session: sec.session, counterSab: new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT), keys: ring.dataKeys(), sendId: ring.sendId, encrypt: ring.encrypt, skewMs: sec.skewMs };
    const seal = new AnnounceSeal(sec.session, ring.discoveryKeys(), ring.sendId, sec.skewMs, Math.max(64, 2 * maxPeers));
    ring.onChange = () => {
      this.ports.told.rekey(ring.dataKeys(), ring.sendId);
      seal.setKeys(ring.discoveryKeys(), ring.sendId);
    };
    this.log.info(`peers: cluster key ${ring.ids().join(', ')} from ${ring.list()[0].source}; datagrams are ${ring.encrypt ? 'encrypted and authenticated' : 'authenticated (not encrypted: --no-encrypt)'} with XChaCha20-Poly1305 (${aead.libraries}), clocks may differ by ${sec.skewMs / 1000} s`);
    return seal;
  }

  private onAnnouncement(ann: Announcement, source: string, format: AnnouncementFormat, session: PeerSession | null): void {
    const opts = this.opts;
    if (opts === null || this.closed) return;
    if (isIP(ann.host) !== 0) {
      this.announced(ann, ann.host, source, false, format, session);
      return;
    }
    // A name (only text carries one): resolve it once; later announcements find the peer by its key.
    const key = peerKey(ann.host, ann.port);
    if (this.table?.get(key) !== undefined) {
      this.announced(ann, '', source, false, format, session);
      return;
    }
    const now = Date.now();
    if (this.resolving.has(key) || now - (this.unresolvable.get(key) ?? -Infinity) < RESOLVE_RETRY_MS) return;
    // A lookup is work an outsider asks for: it is a new peer's, so it needs the room and the token first.
    if (!this.admit(key, source, now)) return;
    this.resolving.add(key);
    void this.resolve(ann.host).then(
      (address) => {
        this.resolving.delete(key);
        this.unresolvable.delete(key);
        this.announced(ann, address, source, true, format, session);
      },
      (err: unknown) => {
        this.resolving.delete(key);
        this.unresolvable.delete(key);
        this.unresolvable.set(key, Date.now());
        if (this.unresolvable.size > MAX_UNRESOLVABLE) this.unresolvable.delete(this.unresolvable.keys().next().value as string);
        const why = err instanceof Error ? err.message : String(err);
        this.lines.warn('discovery-unresolvable', `discovery: announcement ${key} from ${source}: cannot resolve ${ann.host} (${why}); trying again in a minute`);
      },
    );
  }

  /** May `key` become a new discovered peer now? Counted and logged when not (DiscoveryLimits). */
  private admit(key: string, source: string, now: number): boolean {
    const table = this.table;
    return table !== null && this.limits !== null && this.limits.admit(key, source, table.discoveredCount + this.resolving.size, now);
  }

  /** An announcement of host:port, `address` its resolved address ('' when the peer is known); `admitted` when admit() passed it already. */
  private announced({ host, port }: Announcement, address: string, source: string, admitted: boolean, format: AnnouncementFormat, session: PeerSession | null): void {
    const opts = this.opts;
    const table = this.table;
    if (opts === null || table === null || this.closed) return;
    // An empty address means the peer is known already (a name resolved earlier).
    if (address !== '') {
      if (this.isSelf(address, port)) return;
      if (!this.sameFamily(address)) {
        this.lines.warn('discovery-wrong-family', `discovery: ${peerKey(host, port)} resolves to ${address}, which this switch's ${opts.bind.family} peer socket cannot reach; ignored`);
        return;
      }
    }
    const now = Date.now();
    if (!admitted && table.get(peerKey(host, port)) === undefined && !this.admit(peerKey(host, port), source, now)) return;
    const { entry, created, wentUp, legacyChanged } = table.announce(host, port, address, now, format);
    if (created) this.ports.addPeer(entry.id, entry.address, entry.port, entry.legacy);
    else if (legacyChanged) this.legacyChanged(entry);
    if (session !== null) this.ports.told.setSession(entry.id, session);
    if (wentUp) this.bringUp(entry, `${format} announcement`);
  }

  /** Tell the peer thread what the peer is now, and say so. */
  private legacyChanged(entry: PeerEntry): void {
    this.ports.setLegacy(entry.id, entry.legacy);
    const now = entry.legacy
      ? 'a legacy peer (the original DiVES: only sockaddr announcements heard from it); it is sent plain frames only, no keepalives or advertisements'
      : 'a DiVES peer (a text announcement or a keepalive came from it)';
    this.lines.info('peer-legacy', `peer ${entry.key} is ${now}`);
  }

  private onKeepalive(id: number): void {
    const table = this.table;
    if (table === null || this.closed) return;
    const now = Date.now();
    const r = table.heard(id, now);
    if (r === undefined) return;
    if (r.legacyChanged) this.legacyChanged(r.entry);
    if (r.wentUp) this.bringUp(r.entry, 'keepalive');
    if (now - (this.keepaliveSent.get(id) ?? -Infinity) >= (this.opts?.intervalMs ?? 0) / 2) this.sendKeepalives([id], now);
  }

  private bringUp(entry: PeerEntry, how: string): void {
    void this.ports.up(entry.id, `peer:${entry.key}`).then(
      (portId) => {
        if (portId >= 0) this.events.emit({ kind: 'peer-up', peer: entry.key, learned: entry.learned, legacy: entry.legacy, how, portId, vlans: this.ports.memberVlans() });
      },
      (err: unknown) => this.lines.error('peer-error', `peer ${entry.key}: cannot bring it up: ${String(err)}`),
    );
  }

  private tick(): void {
    const table = this.table;
    const opts = this.opts;
    if (table === null || opts === null || this.closed) return;
    const now = Date.now();
    const { removed, down } = table.expire(now);
    for (const p of [...removed, ...down]) {
      this.events.emit({ kind: 'peer-down', peer: p.key, learned: p.learned, reason: 'expired', silentSeconds: Math.round((now - p.lastHeardMs) / 100) / 10 });
    }
    for (const p of removed) {
      this.keepaliveSent.delete(p.id);
      void this.ports.removePeer(p.id).catch((err: unknown) => this.lines.error('peer-error', `peer ${p.key}: ${String(err)}`));
    }
    for (const p of down) void this.ports.down(p.id).catch((err: unknown) => this.lines.error('peer-error', `peer ${p.key}: ${String(err)}`));
    for (const p of table.demote(now)) this.legacyChanged(p);
    this.forgetUnresolvable(now);
    if (now >= this.nextKeepaliveAt) {
      this.nextKeepaliveAt = now + opts.intervalMs;
      this.ports.readvertise();
      this.sendKeepalives(
        table
          .list()
          .filter((p) => p.learned === 'static' && !p.legacy)
          .map((p) => p.id),
        now,
      );
    }
  }

  /** Names that failed long enough ago are tried afresh at their next announcement; oldest first, so stop at the first recent one. */
  private forgetUnresolvable(now: number): void {
    for (const [key, at] of this.unresolvable) {
      if (now - at < RESOLVE_RETRY_MS) break;
      this.unresolvable.delete(key);
    }
  }

  private sendKeepalives(ids: number[], now: number): void {
    for (const id of ids) this.keepaliveSent.set(id, now);
    this.ports.keepalive(ids);
  }

  private isSelf(address: string, port: number): boolean {
    const b = this.opts?.bind;
    return b !== undefined && port === b.port && canonicalAddress(address) === canonicalAddress(b.address);
  }

  private sameFamily(address: string): boolean {
    return (isIP(address) === 6) === (this.opts?.bind.family === 'udp6');
  }

  private async resolve(host: string): Promise<string> {
    if (isIP(host) !== 0) return host;
    const family = this.opts?.bind.family === 'udp6' ? 6 : 4;
    const lookup = this.opts?.lookup;
    return lookup !== undefined ? lookup(host, family) : (await dnsLookup(host, { family })).address;
  }

  private need(): { opts: PeeringOptions; table: PeerTable } {
    if (this.opts === null || this.table === null || this.closed) {
      throw new DivesError('EBADCMD', 'peering is not running on this switch (it starts with "dives start")');
    }
    return { opts: this.opts, table: this.table };
  }

  /** `peer HOST PORT`: configure a static peer and greet it with a keepalive. */
  async addStatic(hostWord: string, port: number): Promise<PeerInfo> {
    const { opts, table } = this.need();
    const host = /^\[.*\]$/.test(hostWord) ? hostWord.slice(1, -1) : hostWord;
    if (isWildcardHost(host)) throw new DivesError('EBADARG', `peer ${host} ${port}: ${host} is a wildcard address; give the peer's own address`);
    try {
      // A static peer must be something that could announce itself: a concrete
      // address or a well-formed name, never a wildcard.
      encodeAnnouncement(host, port);
    } catch (err) {
      throw new DivesError('EBADARG', `peer ${host} ${port}: ${isDivesError(err) ? err.message.replace(/^discovery announcement: /, '') : String(err)}`);
    }
    let address: string;
    try {
      address = await this.resolve(host);
    } catch (err) {
      throw new DivesError('EBADARG', `peer ${host} ${port}: cannot resolve ${host} (${err instanceof Error ? err.message : String(err)})`);
    }
    if (!this.sameFamily(address)) {
      throw new DivesError('EBADARG', `peer ${host} ${port}: ${address} is not reachable over this switch's ${opts.bind.family} peer socket (-h ${opts.host})`);
    }
    if (this.isSelf(address, port)) throw new DivesError('EBADARG', `peer ${host} ${port}: that is this switch's own address`);
    const added = table.addStatic(host, port, address, Date.now());
    if (added === null) throw alreadyStatic(peerKey(host, port));
    if (added.created) this.ports.addPeer(added.entry.id, added.entry.address, port, false);
    this.log.info(`peer ${added.entry.key}: static peer configured`);
    if (!added.entry.legacy) this.sendKeepalives([added.entry.id], Date.now());
    return (await this.show()).peers.find((p) => p.address === added.entry.key) as PeerInfo;
  }

  /** `no peer HOST PORT`: forget a static peer, taking its port down. */
  async removeStatic(hostWord: string, port: number): Promise<void> {
    const { table } = this.need();
    const host = /^\[.*\]$/.test(hostWord) ? hostWord.slice(1, -1) : hostWord;
    const entry = table.removeStatic(host, port);
    if (entry === undefined) {
      throw notStatic(peerKey(host, port));
    }
    this.keepaliveSent.delete(entry.id);
    await this.ports.removePeer(entry.id);
    if (entry.state === 'up') this.events.emit({ kind: 'peer-down', peer: entry.key, learned: 'static', reason: 'removed', silentSeconds: null });
    else this.log.info(`peer ${entry.key}: static peer removed`);
  }

  staticPeers(): StaticPeer[] {
    return this.table?.staticPeers() ?? [];
  }

  /** Everything `show peers` prints. */
  async show(): Promise<PeersInfo> {
    if (this.opts === null || this.table === null) return idleReport(this.ports.offloadEnabled);
    return peersReport(this.opts, this.table, this.ports, this.discovery?.counters);
  }

  /** Stop discovery and the timer, then the peer thread. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.discovery?.close();
    await this.ports.close();
  }
}
