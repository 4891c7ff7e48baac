// IoThread: one I/O thread as the main thread runs it, the same for every kind — its
// doorbell with an eventfd (the thread sleeps in poll() on it and on its fds), its Worker
// (the one entry of every I/O thread, workers/io-thread.ts, told which loop to run), its
// ThreadSupervisor, posting a message (then a bump of the doorbell's CONTROL count),
// requests answered with `done`, `stats`, the log lines it sends, and closing. Its owner
// (a kind's main side: src/tap/tap-ports.ts, src/qemu/qemu-thread.ts, ...) says what an
// incarnation starts with, what a new one must be told again (`replay`), and hears the
// rest of its events. Main thread.

import { Worker } from 'node:worker_threads';
import { Doorbell } from './doorbell.js';
import { DivesError } from './errors.js';
import type { IoLoopRef, IoWorkerData } from './io-loop.js';
import type { IoCommonControl, IoControl, IoEvent, IoRequest, IoStart } from './io-messages.js';
import type { Logger } from './log.js';
import { LogLimiter } from './log-limiter.js';
import { PendingReplies } from './pending-replies.js';
import type { ThreadKind } from './port-kind.js';
import { ThreadSupervisor, workerRun, type ThreadRun, type ThreadSupervisorOptions } from './thread-supervisor.js';
import { workerUrl } from './worker-url.js';
import { eventfdClose, eventfdOpen } from '../linux/eventfd.js';

/** How long a request or `stats` may take before it fails with ETIMEOUT. */
const REQUEST_TIMEOUT_MS = 5000;
/** How long a closed thread's eventfd stays open: a forwarding thread that read it just before it was detached may still bump it. */
const EVENTFD_GRACE_MS = 200;

export interface IoThreadOptions<S extends IoStart, E> {
  name: string;
  kind: ThreadKind;
  log: Logger;
  /** The loop the thread runs (src/core/io-loop.ts). */
  loop: IoLoopRef;
  /** The CPU it pins itself to, or -1. */
  cpu: number;
  /** What an incarnation starts with, but its name, doorbell and CPU, which the handle adds. `generation` counts launches from 0. */
  start(generation: number): Omit<S, 'name' | 'doorbellSab' | 'cpu'>;
  /** A new incarnation runs: tell it everything the last one was told after its start (rings, ports, peers). */
  replay?(): void;
  /** An event of the kind's own (anything but done, stats, log, failed and stopped). */
  onEvent?(e: E): void;
  /** The thread died: what died with it (its connections) is cleaned up here; requests waiting for it are settled already. */
  onDeath?(why: string): void;
  /** The thread is down (it failed, or its budget is spent). */
  onDown?(reason: string, failure: string | null): void;
  restartNote?: ThreadSupervisorOptions['restartNote'];
  downNote?: (failure: string | null) => string;
}

export class IoThread<S extends IoStart, C extends { type: string }, E extends { type: string }, R> {
  readonly name: string;
  readonly bell = new Doorbell();
  readonly supervisor: ThreadSupervisor;
  readonly cpu: number;
  private worker: Worker | null = null;
  /** The error the running incarnation stopped itself on, or null. */
  private failure: string | null = null;
  private readonly waits = new PendingReplies<void>();
  private readonly statsWaits = new PendingReplies<R>();
  private closed = false;

  constructor(private readonly o: IoThreadOptions<S, E>) {
    this.name = o.name;
    this.cpu = o.cpu;
    this.supervisor = new ThreadSupervisor({
      name: o.name,
      kind: o.kind,
      log: o.log,
      launch: (generation) => this.launch(generation),
      askStop: () => this.post({ type: 'stop' }),
      onDeath: (why) => this.died(why),
      onDown: (reason) => o.onDown?.(reason, this.failure),
      restartNote: o.restartNote,
      downNote: () => o.downNote?.(this.failure) ?? '',
    });
  }

  /** Wake-ups its doorbell has paid for, for `show threads`. */
  get wakeups(): number {
    return this.bell.wakeups;
  }

  /** It was started and has not been closed (it may be down). */
  get running(): boolean {
    return this.bell.eventfd >= 0 && !this.closed;
  }

  /** Start the thread, once: its eventfd first, which the forwarding threads' rings toward it bump from then on. */
  start(): void {
    if (this.closed) throw new DivesError('EINTERNAL', `${this.name}: closed`);
    if (this.bell.eventfd < 0) this.bell.attachEventfd(eventfdOpen());
    this.supervisor.start();
  }

  private launch(generation: number): ThreadRun {
    this.failure = null;
    const start = { ...this.o.start(generation), name: this.name, doorbellSab: this.bell.sab, cpu: this.cpu } as S;
    const workerData: IoWorkerData<S> = { loop: this.o.loop, start };
    const w = new Worker(workerUrl('io-thread'), { workerData, name: this.name });
    w.on('message', (e: IoEvent<E, R>) => this.heard(e));
    this.worker = w;
    this.o.replay?.();
    return workerRun(w, () => this.failure);
  }

  private heard(e: IoEvent<E, R>): void {
    const c = e as IoEvent<never, R>;
    switch (c.type) {
      case 'done':
        this.waits.settle(c.reqId, undefined);
        return;
      case 'stats':
        this.statsWaits.settle(c.reqId, c.report);
        return;
      case 'log':
        LogLimiter.of(this.o.log)[c.level](c.kind, c.message);
        return;
      case 'failed':
        this.failure = c.message;
        return;
      case 'stopped':
        return;
      default:
        this.o.onEvent?.(e as E);
    }
  }

  /** Whatever waited for the dead thread is answered now; what it knew is told to the next one. */
  private died(why: string): void {
    this.worker = null;
    this.waits.settleAll(undefined);
    this.statsWaits.failAll(new DivesError('EWORKER', `${this.name} died: ${why}`));
    this.o.onDeath?.(why);
  }

  /** Post a message; the thread reads it once its doorbell's CONTROL count moves. Nothing while no incarnation runs. */
  post(msg: IoControl<C> | IoCommonControl): void {
    if (this.worker === null || this.closed) return;
    this.worker.postMessage(msg);
    this.bell.control();
  }

  /** Send a request and wait until the thread applied it (at once when it does not run). */
  request(body: IoRequest<C>): Promise<void> {
    if (this.worker === null || this.closed) return Promise.resolve();
    return this.waits.request(this.name, REQUEST_TIMEOUT_MS, (reqId) => this.post({ ...body, reqId } as unknown as C));
  }

  /** The thread's counters; null while no incarnation runs. */
  async stats(): Promise<R | null> {
    if (this.worker === null || this.closed || this.supervisor.state !== 'up') return null;
    return this.statsWaits.request(this.name, REQUEST_TIMEOUT_MS, (reqId) => this.post({ type: 'stats', reqId }));
  }

  /** End the thread as a crash would (`debug crash-...`); it is restarted like any death. */
  crash(): Promise<void> {
    return this.supervisor.crash();
  }

  /** Stop the thread and close its eventfd (after a grace period). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.waits.settleAll(undefined);
    await this.supervisor.stop();
    this.closed = true;
    this.worker = null;
    const efd = this.bell.eventfd;
    if (efd < 0) return;
    this.bell.attachEventfd(-1);
    setTimeout(() => eventfdClose(efd), EVENTFD_GRACE_MS).unref();
  }
}
