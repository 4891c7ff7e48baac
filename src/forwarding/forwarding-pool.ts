// ForwardingPool: the main thread's side of the forwarding workers. It hosts
// them in piscina (one long-running task per thread), places each VLAN on a
// thread (a thread of its own while the budget lasts, else the least-loaded
// one), keeps the configuration each thread should have, and when a thread
// dies reports it, starts a new one and replays that configuration to it.
// Runs on the main thread.

import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { Doorbell } from '../core/doorbell.js';
import { DivesError } from '../core/errors.js';
import { allowedCpus } from '../linux/cpu-affinity.js';
import { PendingReplies } from '../core/pending-replies.js';
import type { ForwardingControl, ForwardingReply, ForwardingTask } from './forwarding-messages.js';
import type { Logger } from '../core/log.js';

export interface ForwardingPoolOptions {
  threads: number;
  ageingTimeMs: number;
  fdbCapacity: number;
  maxFrame: number;
  log: Logger;
  /** How long a query may take before it fails with ETIMEOUT. */
  queryTimeoutMs?: number;
  /** Pin forwarding threads (and TAP I/O threads) to CPUs; default true. */
  cpuAffinity?: boolean;
}

type Reply = Extract<ForwardingReply, { type: 'reply' }>;

/** One forwarding thread as main sees it: its doorbell, control port and desired configuration. */
export class ForwardingThread {
  readonly index: number;
  readonly bell = new Doorbell();
  threadId = -1;
  /** VLANs placed here. */
  readonly vids = new Set<number>();
  restarts = 0;
  private port: MessagePort | null = null;
  // The configuration to replay after a restart, keyed so updates replace.
  private readonly config = new Map<string, ForwardingControl>();
  private readonly pending = new PendingReplies<Reply>();
  private stopping = false;
  private started: Promise<void> = Promise.resolve();

  /**
   * The CPU this thread, and the I/O thread of every TAP in its VLANs, pin
   * themselves to; -1 when the pool does not pin.
   */
  readonly cpu: number;

  constructor(
    index: number,
    private readonly pool: ForwardingPool,
  ) {
    this.index = index;
    const cpus = pool.cpus;
    this.cpu = cpus.length === 0 ? -1 : cpus[index % cpus.length];
  }

  /** Start (or restart) the thread's task and replay the configuration. */
  start(): void {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    let markStarted: () => void = () => {};
    this.started = new Promise((r) => (markStarted = r));
    port1.on('message', (m: ForwardingReply) => {
      if (m.type === 'started') {
        this.threadId = m.threadId;
        markStarted();
      } else if (m.type === 'reply') {
        this.pending.settle(m.reqId, m);
      } else if (m.type === 'log') {
        this.pool.log[m.level](`forwarding thread ${this.index}: ${m.message}`);
      }
    });
    const task: ForwardingTask = { doorbellSab: this.bell.sab, control: port2, index: this.index, cpu: this.cpu, ...this.pool.taskDefaults };
    for (const msg of this.config.values()) port1.postMessage(msg);
    this.bell.control();
    this.pool.piscina.run(task, { transferList: [port2] }).then(
      () => port1.close(),
      (err: Error) => {
        port1.close();
        if (this.stopping) return;
        this.pending.failAll(new DivesError('EWORKER', `forwarding thread ${this.index} died: ${err.message}`));
        this.restarts++;
        this.pool.log.error(`forwarding thread ${this.index} (VLANs ${[...this.vids].join(',') || 'none'}) died: ${err.message}; restarting it`);
        this.start();
      },
    );
  }

  /** Apply a configuration change now and remember it for restarts under `key` (undefined: forget `forget`). */
  configure(key: string, msg: ForwardingControl, forget?: string[]): void {
    this.config.set(key, msg);
    for (const k of forget ?? []) this.config.delete(k);
    this.post(msg);
  }

  /** Drop remembered configuration and send a one-off message (e.g. a removal). */
  unconfigure(keys: string[], msg: ForwardingControl): void {
    for (const k of keys) this.config.delete(k);
    this.post(msg);
  }

  /** Remembered keys that start with `prefix`. */
  configKeys(prefix: string): string[] {
    return [...this.config.keys()].filter((k) => k.startsWith(prefix));
  }

  post(msg: ForwardingControl): void {
    this.port?.postMessage(msg);
    this.bell.control();
  }

  /** Send a query and wait for its reply. */
  async request(msg: { type: 'query'; what: 'vlans' | 'macs' | 'ports'; vid?: number } | { type: 'sync' }): Promise<Reply> {
    await this.started;
    return this.pending.request(`forwarding thread ${this.index}`, this.pool.queryTimeoutMs, (reqId) => this.post({ ...msg, reqId }));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.pending.failAll(new DivesError('EWORKER', 'switch stopping'));
    this.post({ type: 'stop' });
  }
}

export class ForwardingPool {
  readonly piscina: Piscina;
  readonly log: Logger;
  readonly threads: ForwardingThread[] = [];
  readonly budget: number;
  readonly queryTimeoutMs: number;
  readonly taskDefaults: Pick<ForwardingTask, 'ageingTimeMs' | 'fdbCapacity' | 'maxFrame'>;
  /** The CPUs forwarding threads are pinned to in turn; empty when they are not pinned. */
  readonly cpus: readonly number[];

  constructor(opts: ForwardingPoolOptions) {
    this.budget = Math.max(1, opts.threads);
    // With affinity, thread i runs on the i-th CPU this process may use (round
    // robin past the last), and each TAP's I/O thread on its VLAN's thread's
    // CPU: a VLAN's hand-offs stay on one core, VLANs spread over the cores.
    this.cpus = opts.cpuAffinity === false ? [] : allowedCpus();
    this.log = opts.log;
    this.queryTimeoutMs = opts.queryTimeoutMs ?? 5000;
    this.taskDefaults = { ageingTimeMs: opts.ageingTimeMs, fdbCapacity: opts.fdbCapacity, maxFrame: opts.maxFrame };
    // A forwarding task never returns while the switch runs, so each task holds
    // its own thread: one task per worker, no idle timeout, threads made on demand.
    this.piscina = new Piscina({
      filename: new URL('../../workers/forwarding.js', import.meta.url).href,
      minThreads: 0,
      maxThreads: this.budget,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: 1,
    });
  }

  /** The thread that runs `vid`, placing the VLAN first if needed. */
  place(vid: number): ForwardingThread {
    const existing = this.threads.find((t) => t.vids.has(vid));
    if (existing !== undefined) return existing;
    let thread: ForwardingThread;
    if (this.threads.length < this.budget) {
      thread = new ForwardingThread(this.threads.length, this);
      this.threads.push(thread);
      thread.start();
    } else {
      thread = this.threads.reduce((a, b) => (b.vids.size < a.vids.size ? b : a));
    }
    thread.vids.add(vid);
    thread.configure(`vlan:${vid}`, { type: 'add-vlan', vid });
    return thread;
  }

  threadOf(vid: number): ForwardingThread | undefined {
    return this.threads.find((t) => t.vids.has(vid));
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.stop()));
    await this.piscina.close({ force: false }).catch(() => undefined);
    await this.piscina.destroy();
  }
}
