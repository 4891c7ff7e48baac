// PeerIo: every peer of the switch over one UDP socket bound on -h:-p (by main). Datagrams
// from known peers go to src/peer/peer-rx.ts (keepalives, advertisements, frames for the
// forwarding threads); frames the forwarding threads queue for a peer port are sent to
// that peer with the 4-byte vid header in front (src/peer/peer-tx-batch.ts). With a
// cluster key every datagram both ways is sealed and opened by src/peer/peer-seal.ts
// first. A legacy peer (the original DiVES, which reads every datagram as a vid and a
// frame) is sent nothing but frames: no keepalive, no advertisement.
// Runs on the peer I/O thread, an IoLoop (src/core/io-loop.ts): a blocking loop with no
// event loop.
//
// The loop receives up to RX_SLOTS datagrams per recvmmsg and sends up to TX_SLOTS per
// sendmmsg (src/linux/mmsg.ts; the send side is src/peer/peer-tx-batch.ts), and sleeps in poll() on the socket and on its doorbell's
// eventfd, so one wake-up serves a datagram from the wire and a frame from a forwarding
// thread alike. Control messages from main arrive on its Worker's port; main bumps the
// doorbell's CONTROL count after posting one, and the loop reads them between batches.
//
// Thread safety: this thread is the single producer of every rx ring and the single
// consumer of every tx ring named in `rings` messages. Everything else here belongs to
// this thread; main sees only the snapshots sent on `stats`.
//
// Per datagram nothing here throws or allocates: each is received into a fixed slot,
// copied once into its rx ring, and each frame to send is copied once from its tx ring
// into a fixed slot behind its header (the ring's space is released when the batch of
// frames is consumed, before the kernel would have taken it).

import type { MessagePort } from 'node:worker_threads';
import { PEER_DROP, PEER_SOCKET, PEER_SOCKET_COUNTERS } from '../core/counters.js';
import { IoLoop } from '../core/io-loop.js';
import { attachPair, type IoCommonEvent } from '../core/io-messages.js';
import { metaPort } from '../core/ring-record.js';
import { formatHostPort } from '../linux/host-port.js';
import { MmsgBatch } from '../linux/mmsg.js';
import { SOCKADDR_MAX, UDP_MAX_PAYLOAD, UdpSocket, sockaddrEqual, sockaddrFor, sockaddrKey, sockaddrParts } from '../linux/udp-socket.js';
import { PEER_HDR_LEN } from './wire/peer-datagram.js';
import { KEEPALIVE, KEEPALIVE_LEN } from './wire/keepalive.js';
import { PeerSeal, UNSEAL_DROPPED } from './peer-seal.js';
import { PeerRx } from './peer-rx.js';
import { OFFLOAD_ADVERT_LEN, encodeOffloadAdvert } from './wire/offload-advert.js';
import type { Ring, FrameHandler } from '../core/ring.js';
import type { PeerControl, PeerEvent, PeerIoReport, PeerIoStart, PeerSetMsg } from './peer-io-messages.js';
import { PeerRec } from './peer-record.js';
import { PeerTxBatch } from './peer-tx-batch.js';

const RX_SLOTS = 32;
const D_GIANT = PEER_DROP.giant;
const S_STRANGERS = PEER_SOCKET.strangers;
const S_NO_PORT = PEER_SOCKET['no-port'];
const S_RECV_ERROR = PEER_SOCKET['recv-error'];
const TX_SLOTS = 32;
/**
 * Batches per tx ring per round of the loop. A ring that forwarding threads keep
 * filling is never empty, so draining it "until empty" could hold the thread there
 * for seconds and the stop message unread (SIGTERM under traffic took 3 s, the
 * forced stop); after this many the loop reads control and the socket, then goes on.
 */
const TX_ROUNDS = 16;

export class PeerIo extends IoLoop<PeerIoStart, PeerControl, PeerEvent, PeerIoReport> {
  protected readonly polled = 'peer socket';
  private readonly maxFrame: number;
  private readonly maxPayload: number;
  private readonly peers = new Map<number, PeerRec>();
  /** Known peers by sockaddrKey of their address; a short list, as IPv6 keys are hashes. */
  private readonly byKey = new Map<number, PeerRec[]>();
  /** Peers by port id, for the tx path. */
  private readonly byPort: (PeerRec | undefined)[] = [];
  /** Where the frames of received datagrams go (src/peer/peer-rx.ts). */
  private readonly rxPath: PeerRx;
  private txRings: Ring[] = [];
  private socket: UdpSocket | null;
  private readonly rx: MmsgBatch;
  private readonly tx: PeerTxBatch;
  /** The socket's own counters (strangers, no-port, recv-error), indexed by PEER_SOCKET. */
  private readonly counts = PEER_SOCKET_COUNTERS.create();
  /** The last stranger's sockaddr, formatted only when `stats` asks. */
  private readonly lastStranger = Buffer.alloc(SOCKADDR_MAX);
  /**
   * Whether the socket may hold datagrams: a recvmmsg that fills fewer slots than it has
   * drained the socket, so the loop reads again only after poll() says so (one EAGAIN
   * system call less per wake-up).
   */
  private readable = true;
  /** What we tell peers about offloaded frames after each keepalive; null: nothing (we take none). */
  private advert: Buffer | null = null;
  private readonly txHandler: FrameHandler;
  /** With a cluster key: sealing and opening (src/peer/peer-seal.ts); null: the original wire format. */
  private seal: PeerSeal | null = null;
  /** Each rx slot past the sealed header, where an opened datagram's payload is. */
  private readonly bodies: Buffer[];
  private readonly complain = (p: PeerRec, reason: string, message: string): void =>
    this.log('warn', 'peer-io', `peer ${this.addressOf(p)} ${message} (counted as ${reason})`);

  /** Serves the socket main bound (main closes it once the thread is gone). */
  constructor(start: PeerIoStart, control: MessagePort, emit: (e: PeerEvent | IoCommonEvent<PeerIoReport>) => void) {
    super(start, control, emit);
    this.maxFrame = start.maxFrame;
    this.rxPath = new PeerRx(this.maxFrame, this.trace, emit, start.seal !== null);
    this.maxPayload = UDP_MAX_PAYLOAD[start.family];
    this.txHandler = (buf, off, len, meta) => this.queue(buf, off, len, meta);
    this.socket = UdpSocket.adopt(start.fd, start.family, start.address, start.port);
    // A slot holds the largest datagram there is, since an offloaded frame (a TCP
    // segment of up to 64 KiB) may fill one whatever maxFrame says; a plain frame
    // over maxFrame is still giant, and a datagram the slot cut short too.
    this.rx = new MmsgBatch(RX_SLOTS, Math.max(PEER_HDR_LEN + this.maxFrame, this.maxPayload));
    if (start.seal !== null) this.seal = new PeerSeal(start.seal, this.complain);
    this.bodies = this.seal === null ? [] : this.seal.bodies(this.rx.slot);
    this.tx = new PeerTxBatch(TX_SLOTS, this.maxPayload, this.trace, this.seal);
  }

  protected turn(): boolean {
    const fd = this.start.fd;
    if (this.readable) this.readable = this.receive(fd) === RX_SLOTS;
    // While frames flow out, try the socket every round too: poll() runs only when there
    // is nothing to send, and a peer's keepalives must be read under a flood toward it.
    if (this.transmit(fd) > 0) this.readable = true;
    return this.readable;
  }

  protected pending(): boolean {
    return this.anyTx();
  }

  protected sleep(ms: number): number {
    const r = this.bell.sleepPoll(this.start.fd, ms);
    if (r < 0) return r;
    this.readable = r > 0;
    return 0;
  }

  protected override finish(): void {
    this.socket = null;
  }

  protected report(): PeerIoReport {
    return {
      peers: [...this.peers.values()].map((p) => p.snapshot()),
      socket: PEER_SOCKET_COUNTERS.toRecord(this.counts),
      lastStranger: this.counts[S_STRANGERS] === 0 ? null : this.formatStranger(),
    };
  }

  /** Apply one control message from main. */
  protected handle(msg: PeerControl): void {
    switch (msg.type) {
      case 'rings': {
        const { rx, tx } = attachPair(msg.pair);
        this.rxPath.rings[msg.fw] = rx;
        this.txRings = [...this.txRings, tx];
        break;
      }
      case 'set-peer':
        this.setPeer(msg);
        break;
      case 'unset-peer': {
        const p = this.peers.get(msg.peerId);
        if (p !== undefined) {
          this.setPort(p, -1);
          this.peers.delete(p.id);
          const rest = (this.byKey.get(p.key) ?? []).filter((x) => x !== p);
          if (rest.length === 0) this.byKey.delete(p.key);
          else this.byKey.set(p.key, rest);
        }
        this.emit({ type: 'done', reqId: msg.reqId });
        break;
      }
      case 'peer-port': {
        const p = this.peers.get(msg.peerId);
        if (p !== undefined) {
          this.setPort(p, msg.portId);
          if (msg.portId >= 0) this.sendAdvert(p);
        }
        this.emit({ type: 'done', reqId: msg.reqId });
        break;
      }
      case 'vlan':
        this.rxPath.vidFw[msg.vid] = msg.fw;
        this.emit({ type: 'done', reqId: msg.reqId });
        break;
      case 'keepalive':
        for (const id of msg.peerIds) {
          const p = this.peers.get(id);
          if (p !== undefined && !p.legacy) this.sendKeepalive(p);
        }
        break;
      case 'keys':
        this.seal?.setKeys(msg.keys, msg.sendId);
        break;
      case 'offload-advert':
        // Main sends it when it changes and once per interval: said at once to every live
        // peer, so one told that a VLAN now needs plain frames stops sending offloaded
        // ones there within a round trip, and a lost one costs one interval at most.
        this.advert = msg.plainVids === null ? null : encodeOffloadAdvert(msg.plainVids);
        for (const p of this.peers.values()) if (p.portId >= 0) this.sendAdvert(p);
        break;
    }
  }

  /** A new known peer, or what a known one now is (legacy or not). */
  private setPeer(msg: PeerSetMsg): void {
    const known = this.peers.get(msg.peerId);
    if (known !== undefined) {
      this.setLegacy(known, msg.legacy);
      if (msg.session !== null) this.seal?.offer(known, msg.session);
      return;
    }
    let sa: Buffer;
    try {
      sa = sockaddrFor(this.start.family, msg.address, msg.port);
    } catch (err) {
      this.log('error', 'peer-io', `peer ${formatHostPort(msg.address, msg.port)}: ${String(err)}`);
      return;
    }
    const key = sockaddrKey(this.start.family, sa, 0);
    const p = new PeerRec(msg.peerId, key, sa, msg.sessionSab);
    p.legacy = msg.legacy;
    if (msg.session !== null) this.seal?.offer(p, msg.session);
    this.peers.set(p.id, p);
    this.byKey.set(key, [...(this.byKey.get(key) ?? []), p]);
  }

  private sendAdvert(p: PeerRec): void {
    if (this.advert === null || this.socket === null || p.legacy) return;
    if (this.seal === null) this.socket.sendTo(this.advert, OFFLOAD_ADVERT_LEN, p.sockaddr);
    else {
      const len = this.seal.control(p, this.advert, OFFLOAD_ADVERT_LEN);
      if (len > 0) this.socket.sendTo(this.seal.controlSlot, len, p.sockaddr);
    }
  }

  /** A keepalive to p: the original one, or sealed with this host's clock when keyed. */
  private sendKeepalive(p: PeerRec): void {
    if (this.socket === null) return;
    const buf = this.seal === null ? KEEPALIVE : this.seal.controlSlot;
    const len = this.seal === null ? KEEPALIVE_LEN : this.seal.keepalive(p);
    if (len > 0 && this.socket.sendTo(buf, len, p.sockaddr) === len) p.keepalivesOut++;
  }

  /** A peer found to be the original DiVES forgets its advertisement (no offloaded frame reaches it); one found to be DiVES is told ours at once. */
  private setLegacy(p: PeerRec, legacy: boolean): void {
    if (p.legacy === legacy) return;
    p.legacy = legacy;
    if (legacy) p.plain.reset();
    else if (p.portId >= 0) this.sendAdvert(p);
  }

  private formatStranger(): string {
    const { address, port } = sockaddrParts(this.start.family, this.lastStranger);
    return formatHostPort(address, port);
  }

  private addressOf(p: PeerRec): string {
    const { address, port } = sockaddrParts(this.start.family, p.sockaddr);
    return formatHostPort(address, port);
  }

  private setPort(p: PeerRec, portId: number): void {
    if (p.portId >= 0 && this.byPort[p.portId] === p) this.byPort[p.portId] = undefined;
    // A peer that went down may come back as another program: it advertises again first.
    if (portId < 0) p.plain.reset();
    p.portId = portId;
    if (portId >= 0) this.byPort[portId] = p;
  }

  private lookup(names: Buffer, at: number): PeerRec | undefined {
    const family = this.start.family;
    const list = this.byKey.get(sockaddrKey(family, names, at));
    if (list === undefined) return undefined;
    if (family === 'udp4') return list[0];
    for (let i = 0; i < list.length; i++) if (sockaddrEqual(family, names, at, list[i].sockaddr, 0)) return list[i];
    return undefined;
  }

  private anyTx(): boolean {
    const rings = this.txRings;
    for (let i = 0; i < rings.length; i++) if (!rings[i].isEmpty()) return true;
    return false;
  }

  /** One recvmmsg worth of datagrams: strangers', keepalives, or frames for forwarding threads. */
  private receive(fd: number): number {
    const rx = this.rx;
    const n = rx.recv(fd);
    if (n < 0) {
      // Not EAGAIN: the kernel refused the call (ENOMEM, a pending socket error). Counted;
      // the next poll() says whether the socket still works.
      this.counts[S_RECV_ERROR]++;
      return 0;
    }
    if (n === 0) return 0;
    const names = rx.names;
    for (let i = 0; i < n; i++) {
      const at = i * SOCKADDR_MAX;
      const p = this.lookup(names, at);
      if (p === undefined) {
        // A stranger cannot inject frames, and cannot make itself a peer either:
        // peers come only from discovery and static configuration.
        this.counts[S_STRANGERS]++;
        names.copy(this.lastStranger, 0, at, at + SOCKADDR_MAX);
        continue;
      }
      if (rx.truncated(i)) {
        p.drops[D_GIANT]++;
        continue;
      }
      const slot = rx.slot[i];
      const len = rx.len(i);
      if (this.seal !== null) {
        const body = this.bodies[i];
        const n = this.seal.unseal(p, slot, body, len);
        if (n !== UNSEAL_DROPPED) this.rxPath.take(p, body, n);
      } else if (!PeerSeal.refuseSealed(p, slot, len, this.complain)) {
        this.rxPath.take(p, slot, len);
      }
    }
    this.rxPath.commit();
    return n;
  }

  /** Drain the tx rings in batches of TX_SLOTS datagrams, one sendmmsg each, at most TX_ROUNDS per ring. */
  private transmit(fd: number): number {
    const rings = this.txRings;
    const tx = this.tx;
    let total = 0;
    for (let i = 0; i < rings.length; i++) {
      for (let round = 0; round < TX_ROUNDS; round++) {
        const n = rings[i].consume(tx.room, this.txHandler);
        if (tx.count > 0) tx.flush(fd);
        total += n;
        if (n === 0) break;
      }
    }
    return total;
  }

  /** One record from a tx ring: to its peer's slot in the batch, or counted when the peer's port just went. */
  private queue(buf: Buffer, off: number, len: number, meta: number): void {
    const p = this.byPort[metaPort(meta)];
    if (p === undefined) this.counts[S_NO_PORT]++;
    else this.tx.add(p, buf, off, len, meta);
  }
}
