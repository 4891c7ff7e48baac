// What `show peers` reports, as text or JSON, and the static peers a running-config
// lists: the peer part of SwitchControl's results (src/control/switch-api.ts). Produced
// by src/peer/peering.ts, printed by src/control/commands/peer.ts; main thread.

import type { PeerLearned } from '../core/event-kinds.js';
import type { DISCOVERY_COUNTERS, PEER_SOCKET_COUNTERS } from '../core/counters.js';
import type { PeerIoStats } from './peer-io-messages.js';
import type { AnnouncementFormat } from './wire/sockaddr-announcement.js';

/** A peer: who it is and how it came to be known, on top of what the peer I/O thread counted for it (PeerIoStats). */
export interface PeerInfo extends Omit<PeerIoStats, 'peerId'> {
  /** "10.0.0.2:3333": the peer's HOST:PORT as announced or configured, IPv6 in brackets. */
  address: string;
  learned: PeerLearned;
  /** up: heard within the expiry time and carrying frames; down: a static peer not heard (yet, or any more). */
  state: 'up' | 'down';
  /**
   * The original DiVES as far as this switch can tell (only sockaddr announcements heard
   * from it): it is sent plain frames of at most LEGACY_MAX_DATAGRAM bytes, nothing else.
   */
  legacy: boolean;
  /** Seconds since the peer was last heard (announcement or keepalive), to 0.1 s; null if never. */
  lastHeardSeconds: number | null;
  /** The peer's port while it is up, else null. */
  portId: number | null;
}

export interface DiscoveryInfo {
  group: string;
  port: number;
  /** The address of the interface announcements leave and are received on. */
  interface: string;
  ttl: number;
  /** What this switch announces in: `HOST:PORT` text, or the original DiVES's sockaddr (--discovery-format). */
  format: AnnouncementFormat;
  sent: number;
  received: number;
  own: number;
  accepted: number;
  malformed: number;
  oversized: number;
  /** --max-peers: discovered peers at most. */
  maxPeers: number;
  /** --peer-rate: new discovered peers a second at most. */
  peerRate: number;
  /** Every discovery counter (DISCOVERY_COUNTERS), the ones above included. */
  counters: Record<(typeof DISCOVERY_COUNTERS.names)[number], number>;
}

export interface PeersInfo {
  /** Where this switch peers, "10.0.0.1:3333"; null when peering is not running. */
  local: string | null;
  /** The peer socket's kernel buffers in bytes, as the kernel reports them (twice what it grants); null when not running. */
  buffers: { send: number; receive: number } | null;
  intervalSeconds: number;
  expiryIntervals: number;
  /** Null with --no-discovery (or when peering is not running). */
  discovery: DiscoveryInfo | null;
  peers: PeerInfo[];
  /** Offloaded frames between peers are on (off with --no-peer-offload). */
  offload: boolean;
  /** With a cluster key: the key datagrams are sealed with, the ids accepted, and whether frames are encrypted; null without one. */
  sealing: { sendKey: string; keys: string[]; encrypt: boolean } | null;
  /** Datagrams dropped because their sender is no known peer, and the last such sender. */
  strangers: number;
  lastStranger: string | null;
  /** The peer socket's counters (PEER_SOCKET_COUNTERS), strangers included. */
  counters: Record<(typeof PEER_SOCKET_COUNTERS.names)[number], number>;
}

/** A static peer as `peer HOST PORT` configured it. */
export interface StaticPeer {
  host: string;
  port: number;
}
