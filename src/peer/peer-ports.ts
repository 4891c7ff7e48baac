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

import { Worker } from 'node:worker_threads';
import { Doorbell } from '../core/doorbell.js';
import { DivesError } from '../core/errors.js';
import { eventfdClose, eventfdOpen } from '../linux/eventfd.js';
import { PendingReplies } from '../core/pending-replies.js';
import { IoRingPairs, type RingPairAnnouncement } from '../forwarding/io-ring-pairs.js';
import { PeerOffloadPolicy } from './peer-offload-policy.js';
import { PEER_SOCKET_COUNTERS } from '../core/counters.js';
import { ThreadSupervisor, workerRun, type ThreadRun } from '../core/thread-supervisor.js';
import type { PeerControl, PeerEvent, PeerIoReport, PeerIoStart } from './peer-io-messages.js';
import { ToldPeerThread } from './told-peer-thread.js';
import type { UdpSocket } from '../linux/udp-socket.js';
import { bindPeerSocket, type PeerBind } from './peer-socket.js';
import type { Logger } from '../core/log.js';
import { LogLimiter } from '../core/log-limiter.js';
import type { ForwardingPool } from '../forwarding/forwarding-pool.js';
import type { ForwardingThread } from '../forwarding/forwarding-thread.js';
import type { PortRecord, PortTable } from '../forwarding/port-table.js';
import type { RingTable } from '../forwarding/ring-table.js';

// One ring pair carries every peer of a forwarding thread, and a flood writes one
// copy per peer, so it is sized like the QEMU rings.
export const PEER_RING_BYTES = 4 << 20;
const REQUEST_TIMEOUT_MS = 5000;
const THREAD = 'peer-io';

type Request = Extract<PeerControl, { reqId: number }>;
type RequestBody = Request extends infer R ? (R extends Request ? Omit<R, 'reqId'> : never) : never;

export class PeerPorts {
  private worker: Worker | null = null;
  /** The socket on -h:-p, bound here and served by whichever peer thread runs. */
  private socket: UdpSocket | null = null;
  /** What a restarted thread is told again: ring pairs, known peers, the forwarding thread of each member VLAN. */
  private readonly pairs: RingPairAnnouncement[] = [];
  /** What the thread was told of each known peer, and how it seals (Peering sets both through it). */
  readonly told = new ToldPeerThread((msg) => this.post(msg));
  private readonly vidFw = new Map<number, number>();
  readonly io: ThreadSupervisor;

  private readonly bell = new Doorbell();
  private readonly rings: IoRingPairs;
  /** VLANs peers are members of: those with local ports, as of the last reconcile. */
  private readonly memberVids = new Set<number>();
  /** Peer id → its port id, while the peer is up. */
  private readonly portOf = new Map<number, number>();
  private chain: Promise<unknown> = Promise.resolve();
  private reconcileQueued = false;
  private readonly waits = new PendingReplies<void>();
  private readonly statsWaits = new PendingReplies<PeerIoReport>();
  private closed = false;
  /** The address and port the socket is bound to, once started. */
  bound: { address: string; port: number; sendBuffer: number; receiveBuffer: number } | null = null;
  /** Called when a keepalive arrives from a known peer. */
  onHeard: (peerId: number) => void = () => {};
  /** Called when what live peers take (offloaded frames, on which VLANs) may have changed. */
  onOffloadChange: () => void = () => {};
  private readonly offload: PeerOffloadPolicy;

  constructor(
    private readonly pool: ForwardingPool,
    private readonly ports: PortTable,
    rings: RingTable,
    private readonly maxFrame: number,
    private readonly log: Logger,
    /** Offloaded frames between peers (--no-peer-offload turns them off): advertised, and sent to peers that advertise. */
    offload = true,
  ) {
    this.offload = new PeerOffloadPolicy(offload);
    this.rings = new IoRingPairs(PEER_RING_BYTES, { name: THREAD, bell: this.bell }, rings, (pair) => {
      this.pairs.push(pair);
      this.post({ type: 'rings', ...pair });
    });
    this.io = new ThreadSupervisor({
      name: THREAD,
      kind: 'peer-io',
      log,
      launch: () => this.launch(),
      askStop: () => this.post({ type: 'stop' }),
      onDeath: () => this.died(),
      restartNote: ' on the same socket (its counters start again from zero)',
      downNote: '; peers stop carrying frames until the switch restarts',
    });
    ports.onChange(() => this.scheduleReconcile());
  }

  /** Wake-ups its doorbell has paid for, for `show threads`. */
  get wakeups(): number {
    return this.bell.wakeups;
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
    // The thread sleeps in poll() on its socket and on this eventfd, which its
    // doorbell bumps (src/core/doorbell.ts).
    this.bell.attachEventfd(eventfdOpen());
    this.io.start();
    this.scheduleReconcile();
  }

  /**
   * One incarnation of the peer thread, on the bound socket, told everything main
   * knows: the ring pairs, the known peers and their ports, the VLANs, the
   * advertisement. On a first start that is whatever came before start(); after a
   * restart, the whole state the dead thread had, so peers carry frames again at once.
   */
  private launch(): ThreadRun {
    const sock = this.socket as UdpSocket;
    const start: PeerIoStart = { doorbellSab: this.bell.sab, maxFrame: this.maxFrame, fd: sock.fd, family: sock.family, address: sock.address, port: sock.port, traceSab: this.pool.trace.sab, seal: this.told.sealing };
    const w = new Worker(new URL('../../workers/peer-io.js', import.meta.url), { workerData: start, name: THREAD });
    this.worker = w;
    let failure: string | null = null;
    w.on('message', (e: PeerEvent) => {
      if (e.type === 'failed') failure = e.message;
      this.onEvent(e);
    });
    for (const pair of this.pairs) this.post({ type: 'rings', ...pair });
    this.told.replay();
    for (const [peerId, portId] of this.portOf) void this.request({ type: 'peer-port', peerId, portId }).catch(() => undefined);
    for (const [vid, fw] of this.vidFw) void this.request({ type: 'vlan', vid, fw }).catch(() => undefined);
    if (this.offload.advert !== null) this.post({ type: 'offload-advert', plainVids: this.offload.advert });
    return workerRun(w, () => failure);
  }

  /** Whatever waited for the dead thread is answered: the state is replayed to the next one. */
  private died(): void {
    this.worker = null;
    this.waits.settleAll(undefined);
    this.statsWaits.failAll(new DivesError('EWORKER', 'the peer I/O thread died'));
  }

  /** Stop the peer thread as a crash would (the `debug crash-peers` command, for drills and tests). */
  async crash(): Promise<void> {
    if (this.closed) throw new DivesError('EBADARG', 'no peer I/O thread runs');
    await this.io.crash();
  }

  /** The thread reads its messages between batches, once its doorbell's CONTROL count moves. */
  private post(msg: PeerControl): void {
    if (this.worker === null) return;
    this.worker.postMessage(msg);
    this.bell.control();
  }

  private closeEventfd(): void {
    const fd = this.bell.eventfd;
    if (fd < 0) return;
    // Forwarding threads stop bumping it once detached; one that read the fd just
    // before gets a grace period before the number can be reused.
    this.bell.attachEventfd(-1);
    setTimeout(() => eventfdClose(fd), 200).unref();
  }

  private request(body: RequestBody): Promise<void> {
    if (!this.running) return Promise.resolve();
    return this.waits.request('the peer I/O thread', REQUEST_TIMEOUT_MS, (reqId) => this.post({ ...body, reqId } as Request));
  }

  private onEvent(e: PeerEvent): void {
    switch (e.type) {
      case 'done':
        this.waits.settle(e.reqId, undefined);
        break;
      case 'heard':
        this.onHeard(e.peerId);
        break;
      case 'offload':
        this.offload.heard(e.peerId, e.plainVids);
        LogLimiter.of(this.log).debug('peer-offload', `peers: peer ${e.peerId} takes offloaded frames${e.plainVids.length > 0 ? ` except on VLANs ${e.plainVids.join(',')}` : ''}`);
        this.onOffloadChange();
        break;
      case 'stats': {
        const report: PeerIoReport = { peers: e.peers, socket: e.socket, lastStranger: e.lastStranger };
        this.statsWaits.settle(e.reqId, report);
        break;
      }
      case 'log':
        LogLimiter.of(this.log)[e.level]('peer-io', e.message);
        break;
      case 'stopped':
      case 'failed':
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
    if (!this.running) return { peers: [], socket: PEER_SOCKET_COUNTERS.zero(), lastStranger: null };
    return this.statsWaits.request('the peer I/O thread', REQUEST_TIMEOUT_MS, (reqId) => this.post({ type: 'stats', reqId }));
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
    // A vnet port: its records keep the virtio_net_hdr, and the peer thread decides per
    // frame between the original format and an offloaded datagram.
    fw.configure(memberKey(portId, vid), { type: 'add-port', vid, portId, isPeer: true, txRingId, vnet: true });
  }

  /** Stop the peer thread and close its socket. Peer ports are left to the switch's own shutdown. */
  async close(): Promise<void> {
    if (this.socket === null || this.closed) return;
    this.closed = true;
    this.waits.settleAll(undefined);
    await this.io.stop();
    this.worker = null;
    this.socket.close();
    this.closeEventfd();
  }
}

/** The forwarding-thread configuration key of one peer port's membership of one VLAN. */
function memberKey(portId: number, vid: number): string {
  return `peer-port:${portId}:${vid}`;
}

async function syncAll(fws: Iterable<ForwardingThread>): Promise<void> {
  await Promise.all([...fws].map((fw) => fw.request({ type: 'sync' }).catch(() => undefined)));
}
