// ForwardingThread: one forwarding thread as the main thread sees it — its doorbell,
// its control port, the configuration it should have (VLANs, rings, ports), which it
// is told again after a restart, and the VLANs that are down on it. Its thread runs
// under a ThreadSupervisor as a long piscina task (workers/forwarding.ts). Main thread.
//
// A frame that kills the thread is read again by every restarted thread, since the
// dead one never released its batch. So the thread keeps the meta of the frame it is
// forwarding in a shared word (`inflight`), and when the restart budget is spent the
// VLAN that frame belongs to is taken down: its configuration is no longer given to
// the thread, which then drops that VLAN's frames (counted as no-vlan) and is started
// again for its other VLANs. A death with no frame in flight takes every VLAN of the
// thread down.

import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import type { PortDropName } from '../core/counters.js';
import { Doorbell } from '../core/doorbell.js';
import { DivesError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { PendingReplies } from '../core/pending-replies.js';
import { metaPort, metaVid } from '../core/ring-record.js';
import { ThreadSupervisor, type ThreadExit, type ThreadRun } from '../core/thread-supervisor.js';
import type { ForwardingControl, ForwardingReply, ForwardingTask } from './forwarding-messages.js';

type Reply = Extract<ForwardingReply, { type: 'reply' }>;

/** What every thread of a pool shares. */
export interface ForwardingThreadContext {
  readonly piscina: Piscina;
  readonly log: Logger;
  readonly queryTimeoutMs: number;
  readonly taskDefaults: Pick<ForwardingTask, 'ageingTimeMs' | 'fdbCapacity' | 'maxFrame' | 'traceSab'>;
  /** A VLAN of this thread went down (the thread is being started again without it, if it has others). */
  vlanDown(vid: number, reason: string): void;
  /** A port left a VLAN of this thread; `drops` are what the thread counted on it. */
  portLeft(vid: number, portId: number, drops: Record<PortDropName, number>): void;
  /** The thread reported MAC moves (src/forwarding/mac-moves.ts). */
  macMoves(thread: string, moves: Float64Array, unreported: number): void;
}

export class ForwardingThread {
  readonly index: number;
  readonly name: string;
  readonly bell = new Doorbell();
  /** The worker_threads threadId of the running incarnation, -1 before it started. */
  threadId = -1;
  /** VLANs placed here, down ones included. */
  readonly vids = new Set<number>();
  /** VLANs taken down, with why. Their configuration is kept but never sent. */
  readonly down = new Map<number, string>();
  readonly supervisor: ThreadSupervisor;
  /** Frames the thread dropped for a VLAN it does not run, as of its last reply. */
  noVlan = 0;
  private port: MessagePort | null = null;
  // The configuration to replay after a restart, keyed so updates replace.
  private readonly config = new Map<string, ForwardingControl>();
  private readonly pending = new PendingReplies<Reply>();
  private started: Promise<void> = Promise.resolve();
  private readonly inflight = new Int32Array(new SharedArrayBuffer(4));
  /** The ring meta of the frame in flight when the thread last died, 0 if none. */
  private blamed = 0;

  constructor(
    index: number,
    /** The CPU this thread, and the I/O thread of every TAP in its VLANs, pin themselves to; -1: none. */
    readonly cpu: number,
    private readonly ctx: ForwardingThreadContext,
  ) {
    this.index = index;
    this.name = `forwarding thread ${index}`;
    this.supervisor = new ThreadSupervisor({
      name: this.name,
      kind: 'forwarding',
      log: ctx.log,
      launch: () => this.launch(),
      askStop: () => this.post({ type: 'stop' }),
      onDeath: (why) => this.died(why),
      onDown: (reason) => this.goneDown(reason),
      restartNote: '; its configuration is told to the new thread, and the VLANs relearn their MACs',
    });
  }

  /** Start the thread; call once, after the first configuration is in place. */
  start(): void {
    this.supervisor.start();
  }

  /** One incarnation: a piscina task that holds its thread until told to stop. */
  private launch(): ThreadRun {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    let markStarted: () => void = () => {};
    this.started = new Promise((r) => (markStarted = r));
    port1.on('message', (m: ForwardingReply) => {
      if (m.type === 'started') {
        this.threadId = m.threadId;
        markStarted();
      } else if (m.type === 'reply') {
        this.noVlan = m.noVlan;
        this.pending.settle(m.reqId, m);
      } else if (m.type === 'log') {
        this.ctx.log[m.level](`${this.name}: ${m.message}`);
      } else if (m.type === 'port-left') {
        this.ctx.portLeft(m.vid, m.portId, m.stats.drops);
      } else if (m.type === 'mac-moves') {
        this.ctx.macMoves(this.name, m.moves, m.unreported);
      }
    });
    this.inflight[0] = 0;
    const task: ForwardingTask = { doorbellSab: this.bell.sab, control: port2, index: this.index, cpu: this.cpu, inflightSab: this.inflight.buffer as SharedArrayBuffer, ...this.ctx.taskDefaults };
    for (const msg of this.config.values()) if (!this.isDown(msg)) port1.postMessage(msg);
    this.bell.control();
    const abort = new AbortController();
    const ended = this.ctx.piscina.run(task, { transferList: [port2], signal: abort.signal }).then(
      (): ThreadExit => ({ code: 0, error: null, failure: null }),
      (err: Error): ThreadExit => ({ code: null, error: err.message, failure: null }),
    );
    void ended.then(() => port1.close());
    return { ended, kill: async () => abort.abort() };
  }

  private died(why: string): void {
    this.blamed = this.inflight[0];
    this.pending.failAll(new DivesError('EWORKER', `${this.name} died: ${why}`));
    if (this.blamed !== 0) this.ctx.log.error(`${this.name} died forwarding a frame from port ${metaPort(this.blamed)} in VLAN ${metaVid(this.blamed)}`);
  }

  /**
   * The budget is spent: take down the VLAN of the frame in flight at the last death
   * (every VLAN of the thread when there was none), then start the thread again for
   * the VLANs it has left.
   */
  private goneDown(reason: string): void {
    const vid = this.blamed === 0 ? -1 : metaVid(this.blamed);
    const victims = this.vids.has(vid) ? [vid] : [...this.vids].filter((v) => !this.down.has(v));
    const why = vid > 0 ? `${reason}, on a frame from port ${metaPort(this.blamed)}` : reason;
    for (const v of victims) {
      this.down.set(v, why);
      this.ctx.vlanDown(v, why);
    }
    if ([...this.vids].some((v) => !this.down.has(v))) {
      this.ctx.log.error(`${this.name}: starting it again without VLAN ${victims.join(',')}`);
      this.supervisor.revive();
    }
  }

  private isDown(msg: ForwardingControl): boolean {
    return 'vid' in msg && msg.vid !== undefined && this.down.has(msg.vid);
  }

  /** Apply a configuration change now and remember it for restarts under `key`. */
  configure(key: string, msg: ForwardingControl): void {
    this.config.set(key, msg);
    if (!this.isDown(msg)) this.post(msg);
  }

  /** Drop remembered configuration and send a one-off message (e.g. a removal). */
  unconfigure(keys: string[], msg: ForwardingControl): void {
    for (const k of keys) this.config.delete(k);
    if (!this.isDown(msg)) this.post(msg);
  }

  post(msg: ForwardingControl): void {
    this.port?.postMessage(msg);
    this.bell.control();
  }

  /** Send a query and wait for its reply. */
  async request(msg: { type: 'query'; what: 'vlans' | 'macs' | 'ports'; vid?: number } | { type: 'sync' }): Promise<Reply> {
    if (this.supervisor.state !== 'up') throw new DivesError('EWORKER', `${this.name} is down: ${this.supervisor.status().reason ?? 'stopped'}`);
    await this.started;
    return this.pending.request(this.name, this.ctx.queryTimeoutMs, (reqId) => this.post({ ...msg, reqId }));
  }

  async stop(): Promise<void> {
    this.pending.failAll(new DivesError('EWORKER', 'switch stopping'));
    await this.supervisor.stop();
  }
}
