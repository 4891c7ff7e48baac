// PeerPorts: the main thread's side of the peer I/O thread. It starts the thread
// (which binds the unicast socket on -h:-p), tells it which peers exist, gives a
// live peer one port id and makes that port a member of every VLAN with local
// ports, keeps that membership in step as local ports come and go, and takes the
// port away again (flushing its MACs everywhere) when the peer goes down.
// Peer policy (who is a peer, when it is alive) is src/peer/peering.ts. Main thread.
//
// Every change of ports or membership runs one at a time on a promise chain, so a
// peer that goes up and down quickly, or a VLAN that loses its last local port while
// a peer comes up, is applied in order. The order inside each change matters too:
// a port joins a VLAN in the forwarding thread before the peer thread may queue
// frames for it, and leaves the peer thread before it leaves the forwarding thread, so a
// freed port id never carries a stale frame into another port.

import { DivesError } from '../core/errors.js';
import { IoThread } from '../core/io-thread.js';
import { ioLoop } from '../core/io-loop.js';
import type { IoRequest } from '../core/io-messages.js';
import type { PortRecord } from '../core/port-kind.js';
import { IoRingPairs } from '../forwarding/io-ring-pairs.js';
import { PeerOffloadPolicy } from './peer-offload-policy.js';
import { PEER_SOCKET_COUNTERS } from '../core/counters.js';
import type { PeerControl, PeerEvent, PeerIoReport, PeerIoStart } from './peer-io-messages.js';
import { ToldPeerThread } from './told-peer-thread.js';
import type { UdpSocket } from '../linux/udp-socket.js';
import { bindPeerSocket, type PeerBind } from './peer-socket.js';
import type { Logger } from '../core/log.js';
import { LogLimiter } from '../core/log-limiter.js';
import type { ForwardingPool } from '../forwarding/forwarding-pool.js';
import type { ForwardingThread } from '../forwarding/forwarding-thread.js';
import type { PortKindParts } from '../forwarding/port-kind-parts.js';
import type { PortTable } from '../forwarding/port-table.js';

// One ring pair carries every peer of a forwarding thread, and a flood writes one
// copy per peer, so it is sized like the QEMU rings.
export const PEER_RING_BYTES = 4 << 20;
const PEER_LOOP = ioLoop(new URL('./peer-io.js', import.meta.url), 'PeerIo');

export class PeerPorts {
  /** The socket on -h:-p, bound here and served by whichever peer thread runs. */
  private socket: UdpSocket | null = null;
  /** What the thread was told of each known peer, and how it seals (Peering sets both through it). */
  readonly told = new ToldPeerThread((msg) => this.post(msg));
  /** The forwarding thread of each member VLAN, told again to a restarted thread. */
  private readonly vidFw = new Map<number, number>();
  readonly io: IoThread<PeerIoStart, PeerControl, PeerEvent, PeerIoReport>;
  /** The ring pairs with the forwarding threads, told again to a restarted thread. */
  private readonly rings: IoRingPairs;
  /** VLANs peers are members of: those with local ports, as of the last reconcile. */
  private readonly memberVids = new Set<number>();
  /** Peer id → its port id, while the peer is up. */
  private readonly portOf = new Map<number, number>();
  private chain: Promise<unknown> = Promise.resolve();
  private reconcileQueued = false;
  private closed = false;
  /** The address and port the socket is bound to, once started. */
  bound: { address: string; port: number; sendBuffer: number; receiveBuffer: number } | null = null;
  /** Called when a keepalive arrives from a known peer. */
  onHeard: (peerId: number) => void = () => {};
  /** Called when what live peers take (offloaded frames, on which VLANs) may have changed. */
  onOffloadChange: () => void = () => {};
  private readonly offload: PeerOffloadPolicy;

  private readonly pool: ForwardingPool;
  private readonly ports: PortTable;
  private readonly log: Logger;

  constructor(
    parts: PortKindParts,
    /** Offloaded frames between peers (--no-peer-offload turns them off): advertised, and sent to peers that advertise. */
    offload = true,
  ) {
    this.pool = parts.pool;
    this.ports = parts.ports;
    this.log = parts.log;
    this.offload = new PeerOffloadPolicy(offload);
    this.io = new IoThread({
      name: 'peer-io',
      kind: 'peer-io',
      log: parts.log,
      loop: PEER_LOOP,
      cpu: -1,
      start: () => this.startOf(parts.maxFrame),
      replay: () => this.replay(),
      onEvent: (e) => this.onEvent(e),
      restartNote: ' on the same socket (its counters start again from zero)',
      downNote: () => '; peers stop carrying frames until the switch restarts',
    });
    this.rings = new IoRingPairs(PEER_RING_BYTES, { name: this.io.name, bell: this.io.bell, post: (m) => this.post(m) }, parts.rings);
    parts.ports.onChange(() => this.scheduleReconcile());
  }

  /** Wake-ups its doorbell has paid for, for `show threads`. */
  get wakeups(): number {
    return this.io.wakeups;
  }

  /** Offloaded frames between peers are on (not --no-peer-offload). */
  get offloadEnabled(): boolean {
    return this.offload.enabled;
  }

  get running(): boolean {
    return this.socket !== null && !this.closed;
  }

  /** Bind -h:-p and start the peer thread. Throws DivesError('ELISTEN') when the socket cannot be bound. */
  async start(bind: PeerBind): Promise<void> {
    if (this.socket !== null) throw new DivesError('EINTERNAL', 'the peer I/O thread is already running');
    const sock = bindPeerSocket(bind, this.log);
    this.socket = sock;
    this.bound = { address: sock.address, port: sock.port, sendBuffer: sock.sendBuffer, receiveBuffer: sock.receiveBuffer };
    // The thread sleeps in poll() on its socket and on its doorbell's eventfd (src/core/doorbell.ts).
    this.io.start();
    this.scheduleReconcile();
  }

  /** What an incarnation of the peer thread starts with: the bound socket, and how it seals. */
  private startOf(maxFrame: number): Omit<PeerIoStart, 'name' | 'doorbellSab' | 'cpu'> {
    const sock = this.socket as UdpSocket;
    return { maxFrame, fd: sock.fd, family: sock.family, address: sock.address, port: sock.port, traceSab: this.pool.trace.sab, seal: this.told.sealing };
  }

  /**
   * A new incarnation of the peer thread is told everything main knows: the ring pairs,
   * the known peers and their ports, the VLANs, the advertisement. On a first start that
   * is whatever came before start(); after a restart, the whole state the dead thread
   * had, so peers carry frames again at once.
   */
  private replay(): void {
    this.rings.replay();
    this.told.replay();
    for (const [peerId, portId] of this.portOf) void this.request({ type: 'peer-port', peerId, portId }).catch(() => undefined);
    for (const [vid, fw] of this.vidFw) void this.request({ type: 'vlan', vid, fw }).catch(() => undefined);
    if (this.offload.advert !== null) this.post({ type: 'offload-advert', plainVids: this.offload.advert });
  }

  /** Stop the peer thread as a crash would (the `debug crash-peers` command, for drills and tests). */
  async crash(): Promise<void> {
    if (this.closed) throw new DivesError('EBADARG', 'no peer I/O thread runs');
    await this.io.crash();
  }

  /** The thread reads its messages between batches, once its doorbell's CONTROL count moves. */
  private post(msg: PeerControl): void {
    this.io.post(msg);
  }

  private request(body: IoRequest<PeerControl>): Promise<void> {
    if (!this.running) return Promise.resolve();
    return this.io.request(body);
  }

  private onEvent(e: PeerEvent): void {
    switch (e.type) {
      case 'heard':
        this.onHeard(e.peerId);
        break;
      case 'offload':
        this.offload.heard(e.peerId, e.plainVids);
        LogLimiter.of(this.log).debug('peer-offload', `peers: peer ${e.peerId} takes offloaded frames${e.plainVids.length > 0 ? ` except on VLANs ${e.plainVids.join(',')}` : ''}`);
        this.onOffloadChange();
        break;
    }
  }

  /** Run `fn` after every change queued before it. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** A known peer: its keepalives are heard, its frames wait until up() gives it a port. `legacy`: see setLegacy. */
  addPeer(peerId: number, address: string, port: number, legacy: boolean): void {
    this.told.add(peerId, address, port, legacy);
  }

  /** A legacy peer (the original DiVES) is sent plain frames only; its advertisement, if any, is forgotten. */
  setLegacy(peerId: number, legacy: boolean): void {
    if (!this.told.setLegacy(peerId, legacy)) return;
    if (legacy) this.offload.forget(peerId);
    this.onOffloadChange();
  }

  /** Forget a peer (taking its port down first): its datagrams are strangers' again. */
  removePeer(peerId: number): Promise<void> {
    return this.serial(async () => {
      await this.downNow(peerId);
      this.told.delete(peerId);
      await this.request({ type: 'unset-peer', peerId });
    });
  }

  /** Give a peer a port named `name` in every VLAN with local ports. Resolves with the port id. */
  up(peerId: number, name: string): Promise<number> {
    return this.serial(async () => {
      const have = this.portOf.get(peerId);
      if (have !== undefined || !this.running) return have ?? -1;
      const port = this.ports.add('peer', 0, name);
      this.portOf.set(peerId, port.id);
      const fws = new Set<ForwardingThread>();
      for (const vid of this.memberVids) {
        const fw = this.pool.threadOf(vid);
        if (fw === undefined) continue;
        this.join(fw, vid, port.id);
        fws.add(fw);
      }
      await syncAll(fws);
      await this.request({ type: 'peer-port', peerId, portId: port.id });
      this.onOffloadChange();
      return port.id;
    });
  }

  /** Take a peer's port away: out of every VLAN, its MACs flushed from every fdb. */
  down(peerId: number): Promise<void> {
    return this.serial(() => this.downNow(peerId));
  }

  private async downNow(peerId: number): Promise<void> {
    const portId = this.portOf.get(peerId);
    if (portId === undefined) return;
    this.portOf.delete(peerId);
    // Take the port out of every VLAN first, before any await, so a `show macs`
    // issued once `show peers` says down never finds the peer's MACs.
    const fws = new Set<ForwardingThread>();
    for (const vid of this.memberVids) {
      const fw = this.pool.threadOf(vid);
      if (fw === undefined) continue;
      // Removing the port from a VLAN's engine deletes every MAC learned on it there.
      fw.unconfigure([memberKey(portId, vid)], { type: 'remove-port', vid, portId });
      fws.add(fw);
    }
    await this.request({ type: 'peer-port', peerId, portId: -1 });
    // The peer thread forgot its advertisement with its port; so does main.
    this.offload.forget(peerId);
    await syncAll(fws);
    this.ports.remove(portId);
    this.onOffloadChange();
  }

  /** Every live peer takes offloaded frames on `vid` (PeerOffloadPolicy.takesOffload). */
  takesOffload(vid: number): boolean {
    return this.offload.takesOffload(vid, this.portOf.keys());
  }

  /** Tell live peers we take offloaded frames except on `plainVids` (sorted), when that changes. */
  advertise(plainVids: number[]): void {
    if (this.offload.setAdvert(plainVids)) this.post({ type: 'offload-advert', plainVids: this.offload.advert });
  }

  /** Say it again to every live peer (once per interval, from peering's tick). */
  readvertise(): void {
    if (this.offload.advert !== null && this.portOf.size > 0) this.post({ type: 'offload-advert', plainVids: this.offload.advert });
  }

  /** Send one keepalive to each of these peers now. */
  keepalive(peerIds: number[]): void {
    if (peerIds.length > 0) this.post({ type: 'keepalive', peerIds });
  }

  /** The port id of a peer that is up, else undefined. */
  portIdOf(peerId: number): number | undefined {
    return this.portOf.get(peerId);
  }

  /** VLANs live peers are members of. */
  memberVlans(): number[] {
    return [...this.memberVids].sort((a, b) => a - b);
  }

  /** A peer port as one record per VLAN it is a member of (optionally only `vid`), for `show ports`. */
  memberships(port: PortRecord, vid?: number): PortRecord[] {
    return this.memberVlans()
      .filter((v) => vid === undefined || v === vid)
      .map((v) => ({ ...port, vid: v }));
  }

  /** Per-peer counters and the stranger count from the peer thread. */
  async stats(): Promise<PeerIoReport> {
    return (this.running ? await this.io.stats() : null) ?? { peers: [], socket: PEER_SOCKET_COUNTERS.zero(), lastStranger: null };
  }

  private scheduleReconcile(): void {
    if (!this.running || this.reconcileQueued) return;
    this.reconcileQueued = true;
    void this.serial(async () => {
      this.reconcileQueued = false;
      await this.reconcile();
    }).catch((err: unknown) => this.log.error(`peers: updating VLAN membership failed: ${String(err)}`));
  }

  /** Make live peers members of exactly the VLANs that have local (TAP or QEMU) ports. */
  private async reconcile(): Promise<void> {
    if (!this.running) return;
    const want = new Set(this.ports.all().filter((p) => p.kind !== 'peer').map((p) => p.vid));
    for (const vid of [...this.memberVids]) {
      if (want.has(vid)) continue;
      // Leave the peer thread first: from now on it drops frames for this VLAN as no-vlan.
      this.vidFw.delete(vid);
      await this.request({ type: 'vlan', vid, fw: -1 });
      this.memberVids.delete(vid);
      const fw = this.pool.threadOf(vid);
      for (const portId of this.portOf.values()) fw?.unconfigure([memberKey(portId, vid)], { type: 'remove-port', vid, portId });
      this.log.debug(`peers: VLAN ${vid} has no local ports any more; peers left it`);
    }
    for (const vid of want) {
      if (this.memberVids.has(vid)) continue;
      const fw = this.pool.place(vid);
      for (const portId of this.portOf.values()) this.join(fw, vid, portId);
      this.rings.txRingFor(fw);
      await fw.request({ type: 'sync' }).catch(() => undefined);
      this.vidFw.set(vid, fw.index);
      await this.request({ type: 'vlan', vid, fw: fw.index });
      this.memberVids.add(vid);
      this.log.debug(`peers: VLAN ${vid} has local ports; peers joined it`);
    }
  }

  private join(fw: ForwardingThread, vid: number, portId: number): void {
    const txRingId = this.rings.txRingFor(fw);
    // Plain frames come bare, in the original format; an offloaded one keeps its
    // virtio_net_hdr (META_VNET), and the peer thread sends it as an offloaded datagram.
    fw.configure(memberKey(portId, vid), { type: 'add-port', vid, portId, isPeer: true, txRingId, vnet: 'offloaded' });
  }

  /** Stop the peer thread and close its socket. Peer ports are left to the switch's own shutdown. */
  async close(): Promise<void> {
    if (this.socket === null || this.closed) return;
    this.closed = true;
    await this.io.close();
    this.socket.close();
  }
}

/** The forwarding-thread configuration key of one peer port's membership of one VLAN. */
function memberKey(portId: number, vid: number): string {
  return `peer-port:${portId}:${vid}`;
}

async function syncAll(fws: Iterable<ForwardingThread>): Promise<void> {
  await Promise.all([...fws].map((fw) => fw.request({ type: 'sync' }).catch(() => undefined)));
}
