// What `show peers` reports (PeersInfo, src/peer/peer-info.ts), put together from the
// peer table (who, learned how, up or down, legacy), the peer I/O thread's counters per
// peer and for its socket (asked through PeerPorts), and discovery's counters. Called by
// src/peer/peering.ts; main thread.

import { PEER_DROPS, PEER_SOCKET_COUNTERS, type DISCOVERY_COUNTERS } from '../core/counters.js';
import type { PeerInfo, PeersInfo } from './peer-info.js';
import type { PeerIoStats } from './peer-io-messages.js';
import type { PeerPorts } from './peer-ports.js';
import { peerKey, type PeerTable } from './peer-table.js';
import type { PeeringOptions } from './peering-options.js';
import { keyIdHex } from '../crypto/key-ring.js';

type DiscoveryCounts = Record<(typeof DISCOVERY_COUNTERS.names)[number], number>;

/** The counters of a peer the peer I/O thread has not reported (it is restarting, or the peer is new). */
function noStats(peerId: number): PeerIoStats {
  return { peerId, framesIn: 0, bytesIn: 0, framesOut: 0, bytesOut: 0, keepalivesIn: 0, keepalivesOut: 0, offloadedIn: 0, offloadedOut: 0, plainVids: null, drops: PEER_DROPS.zero() };
}

/** The report of a switch whose peering does not run. */
export function idleReport(offload: boolean): PeersInfo {
  return { local: null, buffers: null, intervalSeconds: 0, expiryIntervals: 0, discovery: null, peers: [], offload, sealing: null, strangers: 0, lastStranger: null, counters: PEER_SOCKET_COUNTERS.zero() };
}

/** Everything `show peers` prints, `counts` being discovery's counters (undefined without discovery). */
export async function peersReport(opts: PeeringOptions, table: PeerTable, ports: PeerPorts, counts: DiscoveryCounts | undefined): Promise<PeersInfo> {
  const io = await ports.stats();
  const byId = new Map<number, PeerIoStats>(io.peers.map((s) => [s.peerId, s]));
  const now = Date.now();
  const peers = table.list().map((p): PeerInfo => {
    const { peerId, ...counts } = byId.get(p.id) ?? noStats(p.id);
    return {
      address: p.key,
      learned: p.learned,
      state: p.state,
      legacy: p.legacy,
      lastHeardSeconds: p.lastHeardMs < 0 ? null : Math.round((now - p.lastHeardMs) / 100) / 10,
      portId: ports.portIdOf(p.id) ?? null,
      ...counts,
    };
  });
  const d = opts.discovery;
  const c = counts;
  const sec = opts.security;
  const bound = ports.bound;
  return {
    local: bound === null ? null : peerKey(opts.host, bound.port),
    buffers: bound === null ? null : { send: bound.sendBuffer, receive: bound.receiveBuffer },
    intervalSeconds: opts.intervalMs / 1000,
    expiryIntervals: opts.expiryIntervals,
    discovery:
      d === null || c === undefined
        ? null
        : {
            group: d.group,
            port: d.port,
            interface: d.interfaceAddress,
            ttl: d.ttl,
            format: d.format,
            sent: c.sent,
            received: c.received,
            own: c.own,
            accepted: c.accepted,
            malformed: c.malformed,
            oversized: c.oversized,
            maxPeers: d.maxPeers,
            peerRate: d.peerRate,
            counters: c,
          },
    peers,
    offload: ports.offloadEnabled,
    sealing: sec === null ? null : { sendKey: keyIdHex(sec.ring.sendId), keys: sec.ring.ids(), encrypt: sec.ring.encrypt },
    strangers: io.socket.strangers,
    lastStranger: io.lastStranger,
    counters: io.socket,
  };
}
