// QemuPorts: the main thread's side of QEMU ports. It runs the one QEMU I/O thread
// under a ThreadSupervisor, asks it to listen, gives each accepted connection a port
// id in its listener's VLAN (and the ring pair to that VLAN's forwarding thread), and
// removes the port and its MACs when the connection ends. Main thread.

import { Worker } from 'node:worker_threads';
import { claimSocketPath } from '../linux/socket-path.js';
import { Doorbell } from '../core/doorbell.js';
import { DivesError } from '../core/errors.js';
import { PendingReplies } from '../core/pending-replies.js';
import { ThreadSupervisor, workerRun, type ThreadRun } from '../core/thread-supervisor.js';
import { IoRingPairs, type RingPairAnnouncement } from '../forwarding/io-ring-pairs.js';
import { formatListenSpec, type ListenSpec } from './listen-spec.js';
import type { QemuConnStats, QemuControl, QemuEvent, QemuIoStart } from './qemu-io-messages.js';
import type { Logger } from '../core/log.js';
import type { ForwardingPool } from '../forwarding/forwarding-pool.js';
import type { PortTable } from '../forwarding/port-table.js';
import type { RingTable } from '../forwarding/ring-table.js';

// One ring pair carries every QEMU port of a forwarding thread, and a flood
// writes one copy per port, so it is sized for bursts from many VMs at once.
export const QEMU_RING_BYTES = 4 << 20;
export const QEMU_QUEUE_LIMIT = 512 * 1024;
const THREAD = 'qemu-io';

/** A QEMU listener, as `show listeners` prints it. */
export interface ListenerInfo {
  vid: number;
  spec: ListenSpec;
  address: string; // "127.0.0.1:4000" or "unix:/run/dives/vm.sock"
  connections: number;
  /** up: listening; down: not, for `reason` (the QEMU I/O thread is down, or it could not listen again). */
  state: 'up' | 'down';
  reason: string | null;
}

/** The refusal of `listen` on an address a listener of VLAN `vid` holds already. */
export function listenerClash(address: string, vid: number): DivesError {
  return new DivesError('EATTACHED', `listen ${address}: already listening for VLAN ${vid}`);
}

/** The refusal of `no listen` for an address VLAN `vid` does not listen on. */
export function notListening(spec: ListenSpec, vid: number): DivesError {
  return new DivesError('ENOTATTACHED', `no listen ${formatListenSpec(spec)}: not listening on it in VLAN ${vid}; "show listeners" lists them`);
}

interface ListenerRec {
  id: number;
  vid: number;
  spec: ListenSpec;
  address: string;
  conns: Set<number>;
  /** Why it does not listen, or null while it does. */
  down: string | null;
}

interface Pending<T> {
  resolve: (v: T) => void;
  reject: (e: Error) => void;
}

export class QemuPorts {
  private worker: Worker | null = null;
  private readonly bell = new Doorbell();
  private readonly listeners = new Map<number, ListenerRec>();
  /** connId → port id, once placed. */
  private readonly connPort = new Map<number, { portId: number; vid: number; listenerId: number; live: boolean }>();
  /** Frames the QEMU thread had no connection for, as of the last stats(). */
  noPortDrops = 0;
  private readonly rings: IoRingPairs;
  private readonly listenWaits = new Map<number, Pending<string>>();
  private readonly unlistenWaits = new Map<number, () => void>();
  private readonly statsWaits = new PendingReplies<QemuConnStats[]>();
  private nextListener = 1;
  /** Ring pairs announced so far, told again to a restarted thread. */
  private readonly pairs: RingPairAnnouncement[] = [];
  readonly io: ThreadSupervisor;

  /** Wake-ups its doorbell has paid for, for `show threads`. */
  get wakeups(): number {
    return this.bell.wakeups;
  }
  private closed = false;

  constructor(
    private readonly pool: ForwardingPool,
    private readonly ports: PortTable,
    rings: RingTable,
    private readonly maxFrame: number,
    private readonly log: Logger,
  ) {
    this.rings = new IoRingPairs(QEMU_RING_BYTES, { name: THREAD, bell: this.bell }, rings, (pair) => {
      this.pairs.push(pair);
      this.post({ type: 'rings', ...pair });
    });
    this.io = new ThreadSupervisor({
      name: THREAD,
      kind: 'qemu-io',
      log,
      launch: (generation) => this.launch(generation),
      askStop: () => this.worker?.postMessage({ type: 'stop' } satisfies QemuControl),
      onDeath: () => this.died(),
      onDown: (reason) => this.goneDown(reason),
      restartNote: '; its connections are gone, it listens again on every listener',
      downNote: '; QEMU ports stop working until the switch restarts',
    });
  }

  /**
   * One incarnation of the thread. A restarted one numbers its connections past the
   * dead one's (so a late message for an old connection never reaches a new one), is
   * told the ring pairs again and listens again on every listener's address.
   */
  private launch(generation: number): ThreadRun {
    const start: QemuIoStart = { doorbellSab: this.bell.sab, maxFrame: this.maxFrame, queueLimit: QEMU_QUEUE_LIMIT, firstConnId: generation * 2 ** 32 + 1 };
    const w = new Worker(new URL('../../workers/qemu-io.js', import.meta.url), { workerData: start, name: THREAD });
    w.on('message', (e: QemuEvent) => this.onEvent(e));
    this.worker = w;
    if (generation > 0) {
      for (const pair of this.pairs) this.post({ type: 'rings', ...pair });
      for (const l of this.listeners.values()) void this.relisten(l);
    }
    return workerRun(w, () => null);
  }

  /** The thread's connections died with it: their ports go, with their MACs; whatever waited for it fails. */
  private died(): void {
    this.worker = null;
    for (const connId of [...this.connPort.keys()]) void this.unplace(connId, 'the QEMU I/O thread died');
    const died = new DivesError('EWORKER', 'the QEMU I/O thread died');
    for (const p of this.listenWaits.values()) p.reject(died);
    this.listenWaits.clear();
    for (const done of this.unlistenWaits.values()) done();
    this.unlistenWaits.clear();
    this.statsWaits.failAll(died);
  }

  private goneDown(reason: string): void {
    for (const l of this.listeners.values()) l.down = `the QEMU I/O thread is down: ${reason}`;
  }

  /** Post to the thread, starting it on first use. */
  private post(msg: QemuControl): void {
    if (this.closed) return;
    if (this.io.state === 'stopped' && this.worker === null) this.io.start();
    this.worker?.postMessage(msg);
  }

  /** Open a listener again in a restarted thread; the dead thread's UNIX socket file is still there. */
  private async relisten(l: ListenerRec): Promise<void> {
    try {
      if (l.spec.kind === 'unix') await this.claimPath(l.spec.path);
      this.post({ type: 'listen', listenerId: l.id, vid: l.vid, spec: l.spec });
    } catch (err) {
      l.down = `cannot listen again after the QEMU I/O thread restarted: ${err instanceof Error ? err.message : String(err)}`;
      this.log.error(`listen ${l.address}: ${l.down}`);
    }
  }

  /** Stop the QEMU thread as a crash would (the `debug crash-qemu` command, for drills and tests). */
  async crash(): Promise<void> {
    if (this.worker === null) throw new DivesError('EBADARG', 'no QEMU I/O thread runs (nothing listens)');
    await this.io.crash();
  }

  /** QEMU ports of a VLAN that are fully attached (reading and writing). */
  livePorts(vid?: number): number {
    return [...this.connPort.values()].filter((c) => c.live && (vid === undefined || c.vid === vid)).length;
  }

  list(vid?: number): ListenerInfo[] {
    return [...this.listeners.values()]
      .filter((l) => vid === undefined || l.vid === vid)
      .map((l) => ({ vid: l.vid, spec: l.spec, address: l.address, connections: l.conns.size, state: l.down === null ? 'up' : 'down', reason: l.down }));
  }

  private find(vid: number, spec: ListenSpec): ListenerRec | undefined {
    const want = formatListenSpec(spec);
    return [...this.listeners.values()].find((l) => l.vid === vid && l.address === want);
  }

  async listen(vid: number, spec: ListenSpec): Promise<ListenerInfo> {
    const address = formatListenSpec(spec);
    const clash = [...this.listeners.values()].find((l) => l.address === address);
    if (clash !== undefined) throw listenerClash(address, clash.vid);
    if (this.io.state === 'down') throw new DivesError('EWORKER', `listen ${address}: the QEMU I/O thread is down (${this.io.status().reason}); restart the switch`);
    if (spec.kind === 'unix') await this.claimPath(spec.path);
    const id = this.nextListener++;
    const bound = new Promise<string>((resolve, reject) => this.listenWaits.set(id, { resolve, reject }));
    this.post({ type: 'listen', listenerId: id, vid, spec });
    await bound;
    const rec: ListenerRec = { id, vid, spec, address, conns: new Set(), down: null };
    this.listeners.set(id, rec);
    this.log.info(`listening for QEMU on ${address} (VLAN ${vid})`);
    return { vid, spec, address, connections: 0, state: 'up', reason: null };
  }

  /**
   * Make a UNIX listener's path free: a socket left by a switch that was killed (or by
   * this switch's QEMU thread, which died) is removed, as a restarted daemon must;
   * one something still accepts on, or a file that is not a socket, is refused.
   */
  private async claimPath(path: string): Promise<void> {
    const c = await claimSocketPath(path);
    switch (c.kind) {
      case 'free':
        return;
      case 'replaced':
        this.log.info(`listen unix:${path}: replaced a stale socket (nothing accepted on it)`);
        return;
      case 'busy':
        throw new DivesError('ELISTEN', `listen unix:${path}: another program accepts connections on it; stop it or choose another path`);
      case 'not-socket':
        throw new DivesError('ELISTEN', `listen unix:${path}: the path exists and is not a socket; move it away or choose another path`);
      case 'error':
        throw new DivesError('ELISTEN', `listen unix:${path}: ${c.message}`);
    }
  }

  async unlisten(vid: number, spec: ListenSpec): Promise<void> {
    const l = this.find(vid, spec);
    if (l === undefined) throw notListening(spec, vid);
    this.listeners.delete(l.id);
    if (this.worker !== null && l.down === null) {
      const done = new Promise<void>((r) => this.unlistenWaits.set(l.id, r));
      this.post({ type: 'unlisten', listenerId: l.id });
      await done;
    }
    this.log.info(`stopped listening on ${l.address}`);
  }

  /** Per-connection counters from the QEMU thread, by port id. */
  async stats(): Promise<Map<number, QemuConnStats>> {
    if (this.worker === null) return new Map();
    const conns = await this.statsWaits.request('the QEMU I/O thread', 5000, (reqId) => this.post({ type: 'stats', reqId }));
    return new Map(conns.filter((c) => c.portId >= 0).map((c) => [c.portId, c]));
  }

  private onEvent(e: QemuEvent): void {
    switch (e.type) {
      case 'listening': {
        const wait = this.listenWaits.get(e.listenerId);
        this.listenWaits.delete(e.listenerId);
        if (wait !== undefined) wait.resolve(e.address);
        else this.log.info(`listening for QEMU on ${e.address} again`);
        break;
      }
      case 'listen-error': {
        const wait = this.listenWaits.get(e.listenerId);
        this.listenWaits.delete(e.listenerId);
        if (wait !== undefined) {
          wait.reject(new DivesError('ELISTEN', `listen: ${e.message}`));
          break;
        }
        // A listener opened again after a restart that could not be: it is down.
        const l = this.listeners.get(e.listenerId);
        if (l !== undefined) l.down = `cannot listen again after the QEMU I/O thread restarted: ${e.message}`;
        this.log.error(`listen ${l?.address ?? e.listenerId}: cannot listen again after the QEMU I/O thread restarted: ${e.message}; "no listen" removes it`);
        break;
      }
      case 'unlistened':
        this.unlistenWaits.get(e.listenerId)?.();
        this.unlistenWaits.delete(e.listenerId);
        break;
      case 'attached': {
        const c = this.connPort.get(e.connId);
        if (c !== undefined) c.live = true;
        break;
      }
      case 'connected':
        void this.place(e.connId, e.listenerId, e.remote);
        break;
      case 'disconnected':
        void this.unplace(e.connId, e.reason);
        break;
      case 'stats':
        this.noPortDrops = e.noPort;
        this.statsWaits.settle(e.reqId, e.conns);
        break;
      case 'log':
        this.log[e.level](e.message);
        break;
      case 'stopped':
        break;
    }
  }

  /** A QEMU connected: give it a port in its listener's VLAN, then let it send. */
  private async place(connId: number, listenerId: number, remote: string): Promise<void> {
    const l = this.listeners.get(listenerId);
    if (l === undefined) {
      this.post({ type: 'close', connId });
      return;
    }
    const port = this.ports.add('qemu', l.vid, `qemu:${l.address}#${connId}`);
    const fw = this.pool.place(l.vid);
    const txRingId = this.rings.txRingFor(fw);
    fw.configure(`port:${port.id}`, { type: 'add-port', vid: l.vid, portId: port.id, isPeer: false, txRingId });
    this.connPort.set(connId, { portId: port.id, vid: l.vid, listenerId, live: false });
    l.conns.add(connId);
    // The forwarding thread must know the port before its first frame arrives.
    await fw.request({ type: 'sync' }).catch(() => undefined);
    this.post({ type: 'port', connId, portId: port.id, vid: l.vid, fw: fw.index });
    this.log.info(`qemu ${remote} connected to ${l.address}: port ${port.id} in VLAN ${l.vid}`);
  }

  private async unplace(connId: number, reason: string): Promise<void> {
    const c = this.connPort.get(connId);
    if (c === undefined) return;
    this.connPort.delete(connId);
    this.listeners.get(c.listenerId)?.conns.delete(connId);
    const fw = this.pool.threadOf(c.vid);
    fw?.unconfigure([`port:${c.portId}`], { type: 'remove-port', vid: c.vid, portId: c.portId });
    await fw?.request({ type: 'sync' }).catch(() => undefined);
    this.ports.remove(c.portId);
    this.log.info(`qemu port ${c.portId} (VLAN ${c.vid}) disconnected: ${reason}`);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.io.stop();
    this.worker = null;
  }
}
