// VxlanThread: the VXLAN I/O thread as the main thread runs it — the sockets it serves
// (bound here, src/vxlan/vxlan-sockets.ts), its doorbell with an eventfd, its ring pair
// with each forwarding thread, its ThreadSupervisor, and the requests main sends it. Its
// owner (src/vxlan/vxlan-ports.ts) says what a new incarnation must be told (`replay`) and
// hears its events. Main thread.

import { Worker } from 'node:worker_threads';
import { Doorbell } from '../core/doorbell.js';
import { DivesError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { PendingReplies } from '../core/pending-replies.js';
import { ThreadSupervisor, workerRun, type ThreadRun } from '../core/thread-supervisor.js';
import type { ForwardingPool } from '../forwarding/forwarding-pool.js';
import type { ForwardingThread } from '../forwarding/forwarding-thread.js';
import { IoRingPairs, type RingPairAnnouncement } from '../forwarding/io-ring-pairs.js';
import type { RingTable } from '../forwarding/ring-table.js';
import { eventfdClose, eventfdOpen } from '../linux/eventfd.js';
import type { VxlanControl, VxlanEvent, VxlanIoReport, VxlanIoStart } from './vxlan-io-messages.js';
import { VxlanSockets, type VxlanSettings } from './vxlan-sockets.js';

/** One ring pair carries every VTEP of a forwarding thread, and head-end replication writes a copy per VTEP: sized like the peer rings. */
export const VXLAN_RING_BYTES = 4 << 20;
const REQUEST_TIMEOUT_MS = 5000;
const THREAD = 'vxlan-io';

type Request = Extract<VxlanControl, { reqId: number }>;
export type VxlanRequest = Request extends infer R ? (R extends Request ? Omit<R, 'reqId'> : never) : never;

export interface VxlanThreadOptions {
  pool: ForwardingPool;
  rings: RingTable;
  maxFrame: number;
  ageingMs: number;
  settings: VxlanSettings;
  log: Logger;
  /** Tell a new incarnation (after the rings) every VLAN and VTEP. */
  replay: () => void;
  /** An event other than a reply: a VTEP heard or silent, a log line. */
  onEvent: (e: VxlanEvent) => void;
}

export class VxlanThread {
  readonly io: ThreadSupervisor;
  private sockets: VxlanSockets | null = null;
  private worker: Worker | null = null;
  private readonly bell = new Doorbell();
  private readonly pairs: RingPairAnnouncement[] = [];
  private readonly ringPairs: IoRingPairs;
  private readonly waits = new PendingReplies<void>();
  private readonly statsWaits = new PendingReplies<VxlanIoReport>();
  private closed = false;

  constructor(private readonly o: VxlanThreadOptions) {
    this.ringPairs = new IoRingPairs(VXLAN_RING_BYTES, { name: THREAD, bell: this.bell }, o.rings, (pair) => {
      this.pairs.push(pair);
      this.post({ type: 'rings', ...pair });
    });
    this.io = new ThreadSupervisor({
      name: THREAD,
      kind: 'vxlan-io',
      log: o.log,
      launch: () => this.launch(),
      askStop: () => this.post({ type: 'stop' }),
      onDeath: () => {
        this.worker = null;
        this.waits.settleAll(undefined);
        this.statsWaits.failAll(new DivesError('EWORKER', 'the VXLAN I/O thread died'));
      },
      restartNote: ' on the same sockets (its counters start again from zero)',
      downNote: '; VTEPs stop carrying frames until the switch restarts',
    });
  }

  /** The sockets are bound and the thread was started (from the first remote or group on). */
  get started(): boolean {
    return this.sockets !== null;
  }

  get running(): boolean {
    return this.sockets !== null && !this.closed;
  }

  get wakeups(): number {
    return this.bell.wakeups;
  }

  /** The ports datagrams leave from; empty before the start. */
  get sourcePorts(): number[] {
    return this.sockets?.sourcePorts ?? [];
  }

  /** The sockets, once started. */
  get socketsOrNull(): VxlanSockets | null {
    return this.sockets;
  }

  /** Bind the sockets and start the thread, once. Throws DivesError ELISTEN when they cannot be bound. */
  ensureStarted(): VxlanSockets {
    if (this.closed) throw new DivesError('EINTERNAL', 'the switch is shutting down');
    if (this.sockets !== null) return this.sockets;
    const s = this.o.settings;
    const sockets = VxlanSockets.open(s, this.o.log);
    this.sockets = sockets;
    this.bell.attachEventfd(eventfdOpen());
    this.io.start();
    this.o.log.info(`vxlan: listening on UDP port ${s.port}; sending ${s.local === null ? 'by route' : `from ${s.local}`} from ports ${sockets.sourcePorts.join(',')} by a hash of each frame`);
    return sockets;
  }

  /** The tx ring toward this thread from `fw`, making the pair first. Throws EBUDGET past the memory budget. */
  txRingFor(fw: ForwardingThread): number {
    return this.ringPairs.txRingFor(fw);
  }

  /** One incarnation, told everything main knows: the rings, then (replay) the VLANs and VTEPs. */
  private launch(): ThreadRun {
    const o = this.o;
    const s = this.sockets as VxlanSockets;
    const start: VxlanIoStart = {
      doorbellSab: this.bell.sab, maxFrame: o.maxFrame, family: o.settings.family, fds: s.fds, port: o.settings.port,
      ageingSeconds: Math.max(1, Math.round(o.ageingMs / 1000)), maxVteps: o.settings.maxVteps, traceSab: o.pool.trace.sab,
    };
    const w = new Worker(new URL('../../workers/vxlan-io.js', import.meta.url), { workerData: start, name: THREAD });
    this.worker = w;
    let failure: string | null = null;
    w.on('message', (e: VxlanEvent) => {
      if (e.type === 'failed') failure = e.message;
      if (e.type === 'done') this.waits.settle(e.reqId, undefined);
      else if (e.type === 'stats') this.statsWaits.settle(e.reqId, { vteps: e.vteps, counters: e.counters, drops: e.drops, lastStranger: e.lastStranger });
      else o.onEvent(e);
    });
    for (const pair of this.pairs) this.post({ type: 'rings', ...pair });
    o.replay();
    return workerRun(w, () => failure);
  }

  /** Stop the thread as a crash would (`debug crash-vxlan`). */
  async crash(): Promise<void> {
    if (!this.running) throw new DivesError('EBADARG', 'no VXLAN I/O thread runs (it starts with the first "vxlan remote" or "vxlan group")');
    await this.io.crash();
  }

  /** Post a message; the thread reads it once its doorbell's CONTROL count moves. */
  post(msg: VxlanControl): void {
    if (this.worker === null) return;
    this.worker.postMessage(msg);
    this.bell.control();
  }

  /** Send a request and wait until the thread applied it (at once when it does not run). */
  request(body: VxlanRequest): Promise<void> {
    if (!this.running) return Promise.resolve();
    return this.waits.request('the VXLAN I/O thread', REQUEST_TIMEOUT_MS, (reqId) => this.post({ ...body, reqId } as Request));
  }

  /** The thread's counters, or null when it does not run. */
  async stats(): Promise<VxlanIoReport | null> {
    if (!this.running || this.io.state !== 'up') return null;
    return this.statsWaits.request('the VXLAN I/O thread', REQUEST_TIMEOUT_MS, (reqId) => this.post({ type: 'stats', reqId }));
  }

  /** Stop the thread and close the sockets. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sockets === null) return;
    this.waits.settleAll(undefined);
    await this.io.stop();
    this.worker = null;
    this.sockets.close();
    const fd = this.bell.eventfd;
    this.bell.attachEventfd(-1);
    // A forwarding thread that read the fd just before gets a grace period before the number can be reused.
    if (fd >= 0) setTimeout(() => eventfdClose(fd), 200).unref();
  }
}
