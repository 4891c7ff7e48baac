// ForwardingPool: the main thread's side of the forwarding threads. It hosts them
// in piscina (one long-running task per thread, src/forwarding/forwarding-thread.ts),
// places each VLAN on a thread (a thread of its own while the budget lasts, else the
// least-loaded one), and knows which VLANs are down and why, and each VLAN's port limits
// (`storm-control`, `mac-limit`), told to its thread when it is placed. Runs on the main thread.

import { Piscina } from 'piscina';
import type { PortDropName } from '../core/counters.js';
import { FrameTrace } from '../core/frame-trace.js';
import { allowedCpus } from '../linux/cpu-affinity.js';
import type { Logger } from '../core/log.js';
import { EventBus } from '../core/event-bus.js';
import { ForwardingThread, type ForwardingThreadContext } from './forwarding-thread.js';
import type { ForwardingTask } from './forwarding-messages.js';
import { hasLimits, noLimits, type PortLimits } from './port-limits.js';

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

export class ForwardingPool implements ForwardingThreadContext {
  readonly piscina: Piscina;
  readonly log: Logger;
  readonly threads: ForwardingThread[] = [];
  readonly budget: number;
  readonly queryTimeoutMs: number;
  readonly taskDefaults: Pick<ForwardingTask, 'ageingTimeMs' | 'fdbCapacity' | 'maxFrame' | 'traceSab'>;
  /** The CPUs forwarding threads are pinned to in turn; empty when they are not pinned. */
  readonly cpus: readonly number[];
  /** The switch's frame trace (`debug trace`), shared with every thread: forwarding and I/O. */
  readonly trace = new FrameTrace();
  /** Called when a VLAN goes down (its forwarding thread's budget was spent on it). */
  onVlanDown: (vid: number, reason: string) => void = () => {};
  /** Called when a forwarding thread removed a port from a VLAN, with the drops it had counted there. */
  onPortLeft: (vid: number, portId: number, drops: Record<PortDropName, number>) => void = () => {};
  /** Called when a forwarding thread reports MAC moves (src/forwarding/mac-moves.ts). */
  onMacMoves: (thread: string, moves: Float64Array, unreported: number) => void = () => {};
  /** The port limits of each VLAN that has any. */
  private readonly limits = new Map<number, PortLimits>();

  constructor(opts: ForwardingPoolOptions) {
    this.budget = Math.max(1, opts.threads);
    // With affinity, thread i runs on the i-th CPU this process may use (round
    // robin past the last), and each TAP's I/O thread on its VLAN's thread's
    // CPU: a VLAN's hand-offs stay on one core, VLANs spread over the cores.
    this.cpus = opts.cpuAffinity === false ? [] : allowedCpus();
    this.log = opts.log;
    this.queryTimeoutMs = opts.queryTimeoutMs ?? 5000;
    this.taskDefaults = { ageingTimeMs: opts.ageingTimeMs, fdbCapacity: opts.fdbCapacity, maxFrame: opts.maxFrame, traceSab: this.trace.sab };
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

  portLeft(vid: number, portId: number, drops: Record<PortDropName, number>): void {
    this.onPortLeft(vid, portId, drops);
  }

  macMoves(thread: string, moves: Float64Array, unreported: number): void {
    this.onMacMoves(thread, moves, unreported);
  }

  vlanDown(vid: number, reason: string): void {
    EventBus.of(this.log).emit({ kind: 'vlan-down', vid, reason });
    this.onVlanDown(vid, reason);
  }

  /** The thread that runs `vid`, placing the VLAN first if needed. */
  place(vid: number): ForwardingThread {
    const existing = this.threadOf(vid);
    if (existing !== undefined) return existing;
    let thread: ForwardingThread;
    if (this.threads.length < this.budget) {
      const cpu = this.cpus.length === 0 ? -1 : this.cpus[this.threads.length % this.cpus.length];
      thread = new ForwardingThread(this.threads.length, cpu, this);
      this.threads.push(thread);
      thread.start();
    } else {
      thread = this.threads.reduce((a, b) => (b.vids.size < a.vids.size ? b : a));
    }
    thread.vids.add(vid);
    thread.configure(`vlan:${vid}`, { type: 'add-vlan', vid });
    const l = this.limits.get(vid);
    if (l !== undefined) thread.configure(`limits:${vid}`, { type: 'set-limits', vid, limits: l });
    return thread;
  }

  /** VLAN `vid`'s port limits (all off when it has none set). */
  limitsOf(vid: number): PortLimits {
    const l = this.limits.get(vid);
    return l === undefined ? noLimits() : { storm: [...l.storm], macLimit: l.macLimit };
  }

  /** Set VLAN `vid`'s port limits; its thread, if it has one, applies them from the next frame. */
  setLimits(vid: number, l: PortLimits): void {
    if (hasLimits(l)) this.limits.set(vid, l);
    else this.limits.delete(vid);
    this.threadOf(vid)?.configure(`limits:${vid}`, { type: 'set-limits', vid, limits: l });
  }

  threadOf(vid: number): ForwardingThread | undefined {
    return this.threads.find((t) => t.vids.has(vid));
  }

  /** Why `vid` is down, or null when it is up (or has no thread yet). */
  downReason(vid: number): string | null {
    return this.threadOf(vid)?.down.get(vid) ?? null;
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.stop()));
    await this.piscina.close({ force: false }).catch(() => undefined);
    await this.piscina.destroy();
  }
}
