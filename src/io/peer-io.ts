// PeerIo: every peer of the switch over one UDP socket bound on -h:-p. Datagrams
// from known peers are checked (keepalive, vid header, VLAN, port) and their frames
// queued on the rx ring to the VLAN's forwarding worker; frames the workers queue
// for a peer port are sent to that peer with the 4-byte vid header in front.
// Runs on the peer I/O thread (workers/peer-io.ts), which keeps an event loop.
//
// Thread safety: this thread is the single producer of every rx ring and the single
// consumer of every tx ring named in `rings` messages; it sleeps on its own doorbell
// with Atomics.waitAsync so its socket keeps being served. Everything else here
// belongs to this thread; main sees only the snapshots sent on `stats`.
//
// Per datagram nothing here throws, and nothing is allocated but what node:dgram
// itself needs: the received Buffer it hands us, and one Buffer per datagram sent,
// because dgram keeps the buffer until the kernel took it, so a ring slot or a
// reused scratch buffer could be overwritten under it (QemuIo does the same).

import dgram from 'node:dgram';
import { pumpRings } from './ring-pump.js';
import { Doorbell } from '../doorbell.js';
import { ringMeta } from '../forwarding-engine.js';
import { PEER_HDR_LEN, decodePeerDatagram, writePeerHeader } from '../peer-codec.js';
import { KEEPALIVE, KEEPALIVE_LEN, isKeepalive } from '../peer-keepalive.js';
import { Ring, type FrameHandler } from '../ring.js';
import {
  PD_DOWN,
  PD_NO_VLAN,
  PD_QUEUE_FULL,
  PD_RX_RING_FULL,
  PD_SEND_ERROR,
  PD_TOO_BIG,
  PEER_DROPS,
  type PeerControl,
  type PeerDropReason,
  type PeerEvent,
  type PeerIoStart,
  type PeerIoStats,
} from './peer-io-messages.js';

const BATCH = 256;
// The largest UDP payload: 65535 less the UDP header (8) and, over IPv4, the IP header (20).
const MAX_PAYLOAD = { udp4: 65507, udp6: 65527 } as const;

class PeerRec {
  portId = -1;
  framesIn = 0;
  bytesIn = 0;
  framesOut = 0;
  bytesOut = 0;
  keepalivesIn = 0;
  keepalivesOut = 0;
  /** Indexed by the PEER_DROPS positions. */
  readonly drops = new Float64Array(PEER_DROPS.length);
  /** Send callbacks made once per peer, so sending allocates no closure per frame. */
  readonly onSent: (err: Error | null, bytes: number) => void;
  readonly onKeepaliveSent: (err: Error | null) => void;

  constructor(
    readonly id: number,
    readonly address: string,
    readonly port: number,
  ) {
    this.onSent = (err, bytes) => {
      if (err !== null) {
        this.drops[PD_SEND_ERROR]++;
        return;
      }
      this.framesOut++;
      this.bytesOut += bytes - PEER_HDR_LEN;
    };
    this.onKeepaliveSent = (err) => {
      if (err === null) this.keepalivesOut++;
    };
  }

  snapshot(): PeerIoStats {
    const drops = {} as Record<PeerDropReason, number>;
    PEER_DROPS.forEach((name, i) => {
      drops[name] = this.drops[i];
    });
    return {
      peerId: this.id,
      framesIn: this.framesIn,
      bytesIn: this.bytesIn,
      framesOut: this.framesOut,
      bytesOut: this.bytesOut,
      keepalivesIn: this.keepalivesIn,
      keepalivesOut: this.keepalivesOut,
      drops,
    };
  }
}

export class PeerIo {
  private readonly bell: Doorbell;
  private readonly socket: dgram.Socket;
  private readonly maxFrame: number;
  private readonly maxPayload: number;
  private readonly queueLimit: number;
  private readonly peers = new Map<number, PeerRec>();
  /** Known peers by source address; a short list per address because several switches may share one. */
  private readonly byAddress = new Map<string, PeerRec[]>();
  /** Peers by port id, for the tx path. */
  private readonly byPort: (PeerRec | undefined)[] = [];
  /** Forwarding worker index of each VLAN peers are members of, -1 for the others. */
  private readonly vidFw = new Int16Array(4096).fill(-1);
  private readonly rxRings: (Ring | undefined)[] = [];
  private txRings: Ring[] = [];
  private strangers = 0;
  private lastStrangerAddress = '';
  private lastStrangerPort = 0;
  private noPort = 0;
  private stopped = false;
  private bound = false;
  private readonly txHandler: FrameHandler;

  constructor(
    private readonly start: PeerIoStart,
    private readonly emit: (e: PeerEvent) => void,
  ) {
    this.bell = new Doorbell(start.doorbellSab);
    this.maxFrame = start.maxFrame;
    this.maxPayload = MAX_PAYLOAD[start.family];
    this.queueLimit = start.queueLimit;
    this.txHandler = (buf, off, len, meta) => this.transmit(buf, off, len, meta);
    this.socket = dgram.createSocket({ type: start.family, reuseAddr: false });
    this.socket.on('message', this.receive);
  }

  /** Bind the socket on -h:-p and report `bound` or `bind-error`. */
  bind(): void {
    const s = this.socket;
    s.once('error', (err) => {
      if (!this.bound) this.emit({ type: 'bind-error', message: err.message });
    });
    s.bind({ address: this.start.bindAddress, port: this.start.bindPort, exclusive: true }, () => {
      this.bound = true;
      // Larger kernel buffers absorb bursts (a flood, a TCP window) that the
      // defaults of about 200 kB would drop; the kernel caps them at its limits.
      for (const set of [() => s.setRecvBufferSize(4 << 20), () => s.setSendBufferSize(4 << 20)]) {
        try {
          set();
        } catch {
          // Not fatal: the default sizes work, just with less room for bursts.
        }
      }
      s.on('error', (err) => this.emit({ type: 'log', level: 'error', message: `peer socket: ${err.message}` }));
      const a = s.address();
      this.emit({ type: 'bound', address: a.address, port: a.port });
    });
  }

  handle(msg: PeerControl): void {
    switch (msg.type) {
      case 'rings':
        this.rxRings[msg.fw] = new Ring(msg.rxSab, new Doorbell(msg.rxDoorbellSab));
        this.txRings = [...this.txRings, new Ring(msg.txSab)];
        break;
      case 'set-peer': {
        if (this.peers.has(msg.peerId)) break;
        const p = new PeerRec(msg.peerId, msg.address, msg.port);
        this.peers.set(p.id, p);
        this.byAddress.set(p.address, [...(this.byAddress.get(p.address) ?? []), p]);
        break;
      }
      case 'unset-peer': {
        const p = this.peers.get(msg.peerId);
        if (p !== undefined) {
          this.setPort(p, -1);
          this.peers.delete(p.id);
          const rest = (this.byAddress.get(p.address) ?? []).filter((x) => x !== p);
          if (rest.length === 0) this.byAddress.delete(p.address);
          else this.byAddress.set(p.address, rest);
        }
        this.emit({ type: 'done', reqId: msg.reqId });
        break;
      }
      case 'peer-port': {
        const p = this.peers.get(msg.peerId);
        if (p !== undefined) this.setPort(p, msg.portId);
        this.emit({ type: 'done', reqId: msg.reqId });
        break;
      }
      case 'vlan':
        this.vidFw[msg.vid] = msg.fw;
        this.emit({ type: 'done', reqId: msg.reqId });
        break;
      case 'keepalive':
        for (const id of msg.peerIds) {
          const p = this.peers.get(id);
          if (p !== undefined && this.bound) this.socket.send(KEEPALIVE, 0, KEEPALIVE_LEN, p.port, p.address, p.onKeepaliveSent);
        }
        break;
      case 'stats':
        this.emit({
          type: 'stats',
          reqId: msg.reqId,
          peers: [...this.peers.values()].map((p) => p.snapshot()),
          strangers: this.strangers,
          lastStranger: this.strangers === 0 ? null : formatAddress(this.lastStrangerAddress, this.lastStrangerPort),
          noPort: this.noPort,
        });
        break;
      case 'stop':
        this.stop();
        break;
    }
  }

  private setPort(p: PeerRec, portId: number): void {
    if (p.portId >= 0 && this.byPort[p.portId] === p) this.byPort[p.portId] = undefined;
    p.portId = portId;
    if (portId >= 0) this.byPort[portId] = p;
  }

  private lookup(address: string, port: number): PeerRec | undefined {
    const list = this.byAddress.get(address);
    if (list === undefined) return undefined;
    for (let i = 0; i < list.length; i++) if (list[i].port === port) return list[i];
    return undefined;
  }

  /** One datagram from the socket: a stranger's, a keepalive, or a frame for a forwarding worker. */
  private readonly receive = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    const p = this.lookup(rinfo.address, rinfo.port);
    if (p === undefined) {
      // A stranger cannot inject frames, and cannot make itself a peer either:
      // peers come only from discovery and static configuration.
      this.strangers++;
      this.lastStrangerAddress = rinfo.address;
      this.lastStrangerPort = rinfo.port;
      return;
    }
    const len = msg.length;
    if (isKeepalive(msg, len)) {
      p.keepalivesIn++;
      this.emit({ type: 'heard', peerId: p.id });
      return;
    }
    const vid = decodePeerDatagram(msg, len, this.maxFrame);
    if (vid < 0) {
      p.drops[-vid - 1]++;
      return;
    }
    if (p.portId < 0) {
      p.drops[PD_DOWN]++;
      return;
    }
    const fw = this.vidFw[vid];
    const rx = fw < 0 ? undefined : this.rxRings[fw];
    if (rx === undefined) {
      p.drops[PD_NO_VLAN]++;
      return;
    }
    if (rx.write(msg, PEER_HDR_LEN, len - PEER_HDR_LEN, ringMeta(vid, p.portId)) === 0) {
      p.drops[PD_RX_RING_FULL]++;
      return;
    }
    rx.commit();
    p.framesIn++;
    p.bytesIn += len - PEER_HDR_LEN;
  };

  /** One frame from a tx ring to its peer; the ring meta carries the vid and the peer's port id. */
  private transmit(buf: Buffer, off: number, len: number, meta: number): void {
    const p = this.byPort[meta & 0xffff];
    if (p === undefined) {
      this.noPort++;
      return;
    }
    if (len + PEER_HDR_LEN > this.maxPayload) {
      p.drops[PD_TOO_BIG]++;
      return;
    }
    // dgram never pushes back: past the limit a peer link that cannot keep up
    // loses frames here instead of growing the queue without bound.
    if (this.socket.getSendQueueSize() > this.queueLimit) {
      p.drops[PD_QUEUE_FULL]++;
      return;
    }
    const out = Buffer.allocUnsafe(PEER_HDR_LEN + len);
    writePeerHeader((meta >>> 16) & 0xfff, out, 0);
    buf.copy(out, PEER_HDR_LEN, off, off + len);
    this.socket.send(out, 0, out.length, p.port, p.address, p.onSent);
  }

  /** The tx pump: drain the tx rings once bound, then sleep on the doorbell without blocking the event loop. */
  pump(): Promise<void> {
    return pumpRings(this.bell, {
      rings: () => this.txRings,
      handler: this.txHandler,
      ready: () => this.bound,
      stopped: () => this.stopped,
    }, BATCH);
  }

  private stop(): void {
    this.stopped = true;
    this.bell.control();
    const done = (): void => this.emit({ type: 'stopped' });
    try {
      this.socket.close(done);
    } catch {
      // Never bound, so already closed.
      done();
    }
  }
}

/** "address:port", with an IPv6 address in brackets. */
export function formatAddress(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
