// Discovery: the multicast side of peering. It announces this switch's HOST:PORT to
// the discovery group every interval and listens on the group for other switches'
// announcements, in either format — `HOST:PORT` text (src/peer/wire/announcement.ts) or
// the original DiVES's sockaddr (src/peer/wire/sockaddr-announcement.ts) — handing each
// acceptable one and its format to its owner (src/peer/peering.ts). What it sends is one
// format only, made at start (src/peer/peering-options.ts).
// Main thread; one UDP socket, no frames.
//
// Several switches on one host share the group port (reuseAddr), and multicast
// loopback stays on so they hear each other; each ignores its own announcements.
// The TTL and the outgoing interface are set explicitly rather than left to the
// routing table, so an announcement leaves where the operator said and goes no
// further. Everything that fails the strict parse (src/peer/wire/announcement.ts), or the
// loopback rule, is counted as malformed and dropped; anyone on the group can send it,
// so its log lines go through the logger's LogLimiter (src/core/log-limiter.ts).

import dgram from 'node:dgram';
import { isIPv4 } from 'node:net';
import { MAX_ANNOUNCEMENT, acceptFromSource, parseAnnouncementReason, type Announcement } from './wire/announcement.js';
import { looksLikeSockaddr, parseSockaddrAnnouncement, type AnnouncementFormat } from './wire/sockaddr-announcement.js';
import { DISCOVERY_COUNTERS } from '../core/counters.js';
import { DivesError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { LogLimiter } from '../core/log-limiter.js';
import { looksSealed, sealKeyId } from '../crypto/sealed-datagram.js';
import { keyIdHex } from '../crypto/key-ring.js';
import type { AnnounceSeal } from './announce-seal.js';
import type { PeerSession } from './peer-io-messages.js';

export interface DiscoveryOptions {
  /** The multicast group (-m), IPv4. */
  group: string;
  /** The discovery UDP port (-d). */
  port: number;
  /** The IPv4 address of the interface announcements leave and are received on. */
  interfaceAddress: string;
  ttl: number;
  intervalMs: number;
  /** This switch's own announcement, as encodeAnnouncement or encodeSockaddrAnnouncement made it. */
  announcement: Buffer;
  /** With a cluster key: announcements are sealed, and only sealed ones are taken (src/peer/announce-seal.ts). */
  seal?: AnnounceSeal | null;
  log: Logger;
  /** An acceptable announcement from another switch; `source` is the sender's IP address; `session` when it was sealed. */
  onAnnouncement: (ann: Announcement, source: string, format: AnnouncementFormat, session: PeerSession | null) => void;
}

const C = DISCOVERY_COUNTERS.index;

export class Discovery {
  /** Indexed by DISCOVERY_COUNTER (src/core/counters.ts). */
  readonly counts = DISCOVERY_COUNTERS.create();
  private socket: dgram.Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly lines: LogLimiter;

  constructor(private readonly opts: DiscoveryOptions) {
    this.lines = LogLimiter.of(opts.log);
  }

  /** Join the group on the interface and start announcing. Throws DivesError('ELISTEN') when that fails. */
  async start(): Promise<void> {
    const o = this.opts;
    if (!isIPv4(o.group)) {
      throw new DivesError('EBADARG', `discovery group ${o.group} is not an IPv4 multicast address; give one with -m (e.g. 239.13.13.13)`);
    }
    if (!isIPv4(o.interfaceAddress)) {
      throw new DivesError('EBADARG', `multicast interface ${o.interfaceAddress} is not an IPv4 address; give the interface's address with --multicast-if`);
    }
    const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    this.socket = s;
    try {
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        // Bound to the group address rather than the wildcard, the socket receives
        // datagrams for the group only, never unicast sent to the same port.
        s.bind({ address: o.group, port: o.port }, () => {
          s.off('error', reject);
          resolve();
        });
      });
      s.setMulticastTTL(o.ttl);
      s.setMulticastInterface(o.interfaceAddress);
      s.setMulticastLoopback(true);
      s.addMembership(o.group, o.interfaceAddress);
    } catch (err) {
      this.socket = null;
      s.close();
      const msg = err instanceof Error ? err.message : String(err);
      throw new DivesError('ELISTEN', `discovery on ${o.group}:${o.port} via ${o.interfaceAddress}: ${msg}; check -m, -d and --multicast-if`, { cause: err });
    }
    s.on('error', (err) => this.lines.error('discovery-socket', `discovery socket: ${err.message}`));
    s.on('message', (msg, rinfo) => this.receive(msg, rinfo.address));
    this.announce();
    this.timer = setInterval(() => this.announce(), o.intervalMs);
  }

  private announce(): void {
    const o = this.opts;
    const msg = o.seal === undefined || o.seal === null ? o.announcement : o.seal.seal(o.announcement);
    this.socket?.send(msg, o.port, o.group, (err) => {
      this.counts[err ? C['send-errors'] : C.sent]++;
    });
  }

  /** One datagram from the group. Public so tests can feed it datagrams without a network. */
  receive(msg: Buffer, source: string): void {
    const c = this.counts;
    c[C.received]++;
    const seal = this.opts.seal ?? null;
    if (seal !== null) {
      this.receiveSealed(seal, msg, source);
      return;
    }
    if (msg.equals(this.opts.announcement)) {
      c[C.own]++;
      return;
    }
    if (looksSealed(msg, msg.length)) {
      c[C.keyed]++;
      this.lines.warn('discovery-keyed', `discovery: refused a sealed announcement (key ${keyIdHex(sealKeyId(msg))}) from ${source}: this switch has no cluster key; start it with --key-file to join a keyed cluster (counted as keyed)`);
      return;
    }
    // The formats cannot be mistaken for each other (src/peer/wire/sockaddr-announcement.ts).
    const format: AnnouncementFormat = looksLikeSockaddr(msg) ? 'sockaddr' : 'text';
    const ann = this.parse(msg, source, format, format === 'sockaddr' ? 'sockaddr ' : '');
    if (ann === null) return;
    c[C.accepted]++;
    if (format === 'sockaddr') c[C.sockaddr]++;
    this.opts.onAnnouncement(ann, source, format, null);
  }

  /**
   * The announcement `msg` says, or null when it is malformed or a loopback host from a
   * remote source (counted as malformed, and logged through the limiter); `what` names its
   * kind in the log line ("sockaddr ", "sealed ").
   */
  private parse(msg: Buffer, source: string, format: AnnouncementFormat, what: string): Announcement | null {
    const c = this.counts;
    const parsed = format === 'sockaddr' ? parseSockaddrAnnouncement(msg) : parseAnnouncementReason(msg);
    if (!parsed.ok) {
      c[C.malformed]++;
      if (msg.length > MAX_ANNOUNCEMENT) c[C.oversized]++;
      this.lines.warn('discovery-malformed', `discovery: dropped a malformed ${what}announcement from ${source}: ${parsed.reason} (counted as malformed)`);
      return null;
    }
    if (!acceptFromSource(parsed.value, source)) {
      c[C.malformed]++;
      this.lines.warn('discovery-malformed', `discovery: dropped a malformed ${what}announcement from ${source}: loopback host ${parsed.value.host} from a remote source (counted as malformed)`);
      return null;
    }
    return parsed.value;
  }

  /** A keyed switch takes sealed announcements only: genuine, fresh, newer than the last from their HOST:PORT. */
  private receiveSealed(seal: AnnounceSeal, msg: Buffer, source: string): void {
    const c = this.counts;
    if (!looksSealed(msg, msg.length)) {
      c[C.unauthenticated]++;
      const what = looksLikeSockaddr(msg) ? "an original DiVES's sockaddr announcement" : 'an announcement without an authenticator';
      this.lines.warn('discovery-unauthenticated', `discovery: refused ${what} from ${source}: this switch has a cluster key and takes only sealed announcements; give that switch the key (dives start --key-file) (counted as unauthenticated)`);
      return;
    }
    if (seal.isOwn(msg)) {
      c[C.own]++;
      return;
    }
    const opened = seal.open(msg);
    if (!opened.ok) {
      c[C[opened.counter]]++;
      this.lines.warn(`discovery-${opened.counter}`, `discovery: refused a sealed announcement from ${source}: ${opened.reason} (counted as ${opened.counter})`);
      return;
    }
    // Its text is at most MAX_ANNOUNCEMENT bytes (open() refuses a longer datagram), so never oversized.
    const ann = this.parse(opened.text, source, 'text', 'sealed ');
    if (ann === null) return;
    if (!seal.fresh(`${ann.host}:${ann.port}`, opened.session.ts)) {
      c[C.replay]++;
      this.lines.warn('discovery-replay', `discovery: refused an announcement of ${ann.host}:${ann.port} from ${source}: not newer than the last one taken from it (a replay; counted as replay)`);
      return;
    }
    c[C.accepted]++;
    this.opts.onAnnouncement(ann, source, 'text', opened.session);
  }

  /** The counters as name → count, for `show peers` and tests. */
  get counters(): Record<(typeof DISCOVERY_COUNTERS.names)[number], number> {
    return DISCOVERY_COUNTERS.toRecord(this.counts);
  }

  async close(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    const s = this.socket;
    this.socket = null;
    if (s !== null) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
