// ThreadSupervisor: the one way DiVES runs a thread — start it, know when it is up,
// ask it to stop (and end it if it will not), start it again when it dies without
// being asked to, as often as its RestartBudget allows, drill a crash on request, and
// say what happened when the budget is spent: the thread is down, and its owner marks
// what it served (a port, a VLAN, the listeners, the peers) down with the reason.
// Every thread kind uses it: the forwarding threads (hosted by piscina), the TAP, QEMU,
// peer and VXLAN I/O threads (node Workers, through workerRun below). Main thread.
//
// An owner supplies launch() — start one incarnation and tell it everything it must
// know, so a restarted thread carries on where the dead one was — and askStop(). The
// supervisor classifies how each incarnation ended:
// - stopped: it ended after askStop() (or after stop() ended it when it overran);
// - failed: it ended itself on an error it reported (a TAP deleted underneath, a socket
//   error). Restarting would meet the same error, so it is down with that reason;
// - died: anything else (an uncaught error, an exit code, a crash drill): a bug, never
//   bad input, which the per-frame paths count instead. Restarted within the budget.

import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { DivesError } from './errors.js';
import type { Logger } from './log.js';
import { EventBus } from './event-bus.js';
import type { ThreadKind } from './port-kind.js';
import { RestartBudget } from './restart-budget.js';

/** How one incarnation of a thread ended, as its host saw it. */
export interface ThreadExit {
  /** Exit code, or null when the host does not give one. */
  code: number | null;
  /** Why it died, when the host knows (an uncaught error's message). */
  error: string | null;
  /** Set when the thread reported an error it stopped itself on. */
  failure: string | null;
}

/** One incarnation of a thread. */
export interface ThreadRun {
  /** Settles once the thread is gone. Never rejects. */
  readonly ended: Promise<ThreadExit>;
  /** End it now, as a crash would: the drill, and the end of a stop() that overran. */
  kill(): Promise<void>;
}

export type ThreadState = 'up' | 'down' | 'stopped';

export interface ThreadStatus {
  /** "forwarding thread 0", "tap-io:tap0", "qemu-io:0", "peer-io". */
  name: string;
  kind: ThreadKind;
  state: ThreadState;
  /** Restarts after deaths, since the switch started. */
  restarts: number;
  /** Why the last incarnation that died did, or null. */
  lastDeath: string | null;
  /** Why it is down, or null while it is up. */
  reason: string | null;
}

export interface ThreadSupervisorOptions {
  name: string;
  kind: ThreadKind;
  log: Logger;
  /** Start one incarnation. `generation` counts launches from 0. */
  launch(generation: number): ThreadRun;
  /** Ask the running incarnation to stop (a message, a doorbell bump). */
  askStop(): void;
  /** How long stop() waits for the thread before it ends it; default 3000 ms. */
  stopTimeoutMs?: number;
  budget?: RestartBudget;
  /** After a death, before any restart: clean up what died with the thread. */
  onDeath?(why: string): void;
  /** The thread is down (failed, or its budget is spent): mark what it served down. */
  onDown?(reason: string): void;
  /** Appended to the log line of a restart, e.g. "; its listeners come back". */
  restartNote?: string;
  /** Appended to the log line when the thread goes down, e.g. "; the port stops carrying frames"; a function is asked then. */
  downNote?: string | (() => string);
}

export class ThreadSupervisor {
  readonly name: string;
  readonly kind: ThreadKind;
  private readonly opts: ThreadSupervisorOptions;
  private budget: RestartBudget;
  private run: ThreadRun | null = null;
  private generation = 0;
  private stopping = false;
  private _state: ThreadState = 'stopped';
  private _reason: string | null = null;
  private _lastDeath: string | null = null;
  private _restarts = 0;
  /** Settles when no incarnation runs any more. */
  private gone: Promise<void> = Promise.resolve();

  constructor(opts: ThreadSupervisorOptions) {
    this.opts = opts;
    this.name = opts.name;
    this.kind = opts.kind;
    this.budget = opts.budget ?? new RestartBudget();
  }

  get state(): ThreadState {
    return this._state;
  }

  get running(): boolean {
    return this.run !== null;
  }

  status(): ThreadStatus {
    return { name: this.name, kind: this.kind, state: this._state, restarts: this._restarts, lastDeath: this._lastDeath, reason: this._reason };
  }

  /** Start the thread. */
  start(): void {
    if (this.run !== null) throw new DivesError('EINTERNAL', `${this.name} is already running`);
    this.stopping = false;
    this._state = 'up';
    this._reason = null;
    let settle: () => void = () => {};
    this.gone = new Promise((r) => (settle = r));
    this.launch(settle);
  }

  /** Start a thread that is down again, with a fresh budget (its owner took away what killed it). */
  revive(): void {
    if (this._state !== 'down') return;
    this.budget = new RestartBudget(this.budget.max, this.budget.windowMs);
    this.start();
  }

  private launch(settle: () => void): void {
    const run = this.opts.launch(this.generation++);
    this.run = run;
    void run.ended.then((exit) => {
      if (this.run !== run) return;
      this.run = null;
      this.ended(exit, settle);
    });
  }

  private ended(exit: ThreadExit, settle: () => void): void {
    const o = this.opts;
    if (this.stopping) {
      this._state = 'stopped';
      settle();
      return;
    }
    if (exit.failure !== null) {
      this.down(exit.failure, null, settle);
      return;
    }
    const why = exit.error ?? `exited unexpectedly (code ${exit.code ?? 'none'})`;
    this._lastDeath = why;
    o.onDeath?.(why);
    if (this.stopping) {
      // The owner stopped it while cleaning up after the death.
      this._state = 'stopped';
      settle();
      return;
    }
    if (!this.budget.take()) {
      this.down(`${this.budget.exhausted}, last: ${why}`, why, settle);
      return;
    }
    this._restarts++;
    EventBus.of(o.log).emit({ kind: 'thread-restarted', thread: this.name, threadKind: this.kind, why, restarts: this._restarts, note: o.restartNote ?? '' });
    this.launch(settle);
  }

  /** It is down for `reason`: a failure it reported (lastDeath null), or its budget spent on deaths, the last for `lastDeath`. */
  private down(reason: string, lastDeath: string | null, settle: () => void): void {
    this._state = 'down';
    this._reason = reason;
    const n = this.opts.downNote;
    const note = typeof n === 'function' ? n() : (n ?? '');
    const exhausted = lastDeath === null ? null : this.budget.exhausted;
    EventBus.of(this.opts.log).emit({ kind: 'thread-down', thread: this.name, threadKind: this.kind, reason, exhausted, lastDeath, note });
    settle();
    this.opts.onDown?.(reason);
  }

  /** Ask the thread to stop and wait until it has; end it after stopTimeoutMs if it has not. */
  async stop(): Promise<void> {
    this.stopping = true;
    const run = this.run;
    if (run === null) {
      if (this._state !== 'down') this._state = 'stopped';
      return;
    }
    this.opts.askStop();
    const ms = this.opts.stopTimeoutMs ?? 3000;
    const timer = setTimeout(() => {
      this.opts.log.warn(`${this.name} did not stop within ${ms} ms; ending it`);
      void run.kill();
    }, ms);
    await this.gone;
    clearTimeout(timer);
  }

  /** The crash drill (`debug crash-...`): end the thread as a crash would; it is restarted like any death. */
  async crash(): Promise<void> {
    const run = this.run;
    if (run === null || this.stopping) throw new DivesError('EBADARG', `${this.name} is not running (${this._state}${this._reason === null ? '' : `: ${this._reason}`})`);
    this.opts.log.warn(`debug: ending ${this.name} as a crash would`);
    await run.kill();
  }
}

/**
 * A node Worker as a ThreadRun. `failure()` says whether the thread reported an error
 * it stopped itself on (its owner records that from the thread's messages).
 */
export function workerRun(worker: Worker, failure: () => string | null): ThreadRun {
  let error: string | null = null;
  worker.on('error', (err) => {
    error = `uncaught ${err.name}: ${err.message}`;
  });
  const ended = once(worker, 'exit').then(
    ([code]: unknown[]) => ({ code: typeof code === 'number' ? code : null, error, failure: failure() }),
    () => ({ code: null, error, failure: failure() }),
  );
  return {
    ended,
    kill: async () => {
      await worker.terminate();
    },
  };
}
