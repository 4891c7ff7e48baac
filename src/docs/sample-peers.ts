// SamplePeers: the peer part of the sample switch (src/docs/sample-switch.ts) — made-up
// peers with counters and the rest of what `show peers` prints; static peers are added and
// removed with the real switch's refusals (src/peer/peering.ts). Pure: no threads or sockets.

import { DISCOVERY_COUNTERS, PEER_DROPS, PEER_SOCKET_COUNTERS } from '../core/counters.js';
import type { PeerInfo, PeersInfo, StaticPeer } from '../peer/peer-info.js';
import { alreadyStatic, notStatic } from '../peer/peering.js';
import { formatHostPort } from '../linux/host-port.js';

export class SamplePeers {
  /** The peers `show peers` lists. */
  readonly peers: PeerInfo[] = [];
  /** Everything else `show peers` reports. */
  peering: Omit<PeersInfo, 'peers'> = {
    local: '10.0.0.1:3333',
    buffers: { send: 8 << 20, receive: 8 << 20 },
    intervalSeconds: 1,
    expiryIntervals: 3,
    discovery: {
      group: '239.13.13.13', port: 3535, interface: '10.0.0.1', ttl: 1, format: 'text', sent: 40, received: 81, own: 40, accepted: 40, malformed: 1, oversized: 0, maxPeers: 256, peerRate: 16,
      counters: { ...DISCOVERY_COUNTERS.zero(), sent: 40, received: 81, own: 40, accepted: 40, malformed: 1 },
    },
    offload: true,
    sealing: { sendKey: '85220c5e', keys: ['85220c5e', '5a313a40'], encrypt: true },
    strangers: 0,
    lastStranger: null,
    counters: PEER_SOCKET_COUNTERS.zero(),
  };

  constructor(
    /** The sample switch's next port id. */
    readonly nextPortId: () => number,
  ) {}

  /** Add a peer with counters, as traffic would have left it. */
  add(address: string, learned: PeerInfo['learned'], counters: Partial<PeerInfo> = {}): PeerInfo {
    const drops = PEER_DROPS.zero();
    const peer: PeerInfo = {
      address,
      learned,
      state: 'up',
      legacy: false,
      lastHeardSeconds: 0.4,
      portId: 'portId' in counters ? (counters.portId ?? null) : this.nextPortId(),
      framesIn: 0,
      bytesIn: 0,
      framesOut: 0,
      bytesOut: 0,
      keepalivesIn: 0,
      keepalivesOut: 0,
      offloadedIn: 0,
      offloadedOut: 0,
      plainVids: null,
      drops,
      ...counters,
    };
    this.peers.push(peer);
    return peer;
  }

  info(): PeersInfo {
    return { ...this.peering, peers: this.peers };
  }

  addStatic(host: string, port: number): PeerInfo {
    const key = formatHostPort(host, port);
    if (this.peers.some((p) => p.address === key && p.learned === 'static')) throw alreadyStatic(key);
    return this.add(key, 'static', { state: 'down', lastHeardSeconds: null, portId: null });
  }

  removeStatic(host: string, port: number): void {
    const key = formatHostPort(host, port);
    const i = this.peers.findIndex((p) => p.address === key && p.learned === 'static');
    if (i === -1) throw notStatic(key);
    this.peers.splice(i, 1);
  }

  staticPeers(): StaticPeer[] {
    return this.peers
      .filter((p) => p.learned === 'static')
      .map((p) => {
        const m = /^\[?(.*?)\]?:(\d+)$/.exec(p.address) as RegExpExecArray;
        return { host: m[1], port: Number(m[2]) };
      });
  }
}
