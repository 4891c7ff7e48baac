// QemuThread: the main thread's side of one QEMU I/O thread — the one beside forwarding
// thread `index`, serving the QEMU ports of that thread's VLANs, or a trunk listener's own. It runs the thread under a
// ThreadSupervisor, posts to it (a message, then a bump of its doorbell's CONTROL count),
// and remembers what a restarted thread must be told again: the listeners it accepts on.
// It also remembers the fds of the connections the thread accepted, which die with the
// thread: main closes them. Main thread.

import { Worker } from 'node:worker_threads';
import { Doorbell } from '../core/doorbell.js';
import { DivesError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { PendingReplies } from '../core/pending-replies.js';
import { ThreadSupervisor, workerRun, type ThreadRun } from '../core/thread-supervisor.js';
import { eventfdClose, eventfdOpen } from '../linux/eventfd.js';
import { closeFd } from '../linux/stream-socket.js';
import type { QemuConnStats, QemuControl, QemuEvent, QemuIoStart, QemuListenMsg } from './qemu-io-messages.js';

export interface QemuThreadOwner {
  readonly log: Logger;
  readonly maxFrame: number;
  readonly traceSab: SharedArrayBuffer;
  onEvent(t: QemuThread, e: QemuEvent): void;
  /** The thread died: its connections are gone (their fds are closed already). */
  onDeath(t: QemuThread, connIds: number[]): void;
  onDown(t: QemuThread, reason: string): void;
}

export class QemuThread {
  readonly name: string;
  readonly bell = new Doorbell();
  readonly supervisor: ThreadSupervisor;
  private worker: Worker | null = null;
  /** Listeners this thread accepts on, told again to a restarted thread. */
  readonly listens = new Map<number, QemuListenMsg>();
  /** connId → fd of the connections it accepted and has not closed. */
  readonly connFds = new Map<number, number>();
  private readonly statsWaits = new PendingReplies<QemuConnStats[]>();
  private closed = false;
  /** QEMU I/O threads made so far in this process: each numbers its connections apart. */
  private static made = 0;
  /** This thread's number among them; its connection ids start at (serial × 1024 + generation) × 2^32 + 1. */
  private readonly serial = QemuThread.made++;

  constructor(
    readonly index: number,
    /** The CPU it pins itself to: its forwarding thread's, or -1. */
    readonly cpu: number,
    private readonly owner: QemuThreadOwner,
    /** A trunk listener's own thread is named for its address; -1 as index. */
    name = `qemu-io:${index}`,
  ) {
    this.name = name;
    this.bell.attachEventfd(eventfdOpen());
    this.supervisor = new ThreadSupervisor({
      name: this.name,
      kind: 'qemu-io',
      log: owner.log,
      launch: (generation) => this.launch(generation),
      askStop: () => this.post({ type: 'stop' }),
      onDeath: () => this.died(),
      onDown: (reason) => owner.onDown(this, reason),
      restartNote: '; its connections are gone, it accepts again on its listeners',
      downNote: '; its listeners are down until the switch restarts',
    });
    this.supervisor.start();
  }

  /** One incarnation; a restarted one numbers its connections past the dead one's and is told its listeners again. */
  private launch(generation: number): ThreadRun {
    const start: QemuIoStart = { index: this.index, doorbellSab: this.bell.sab, maxFrame: this.owner.maxFrame, firstConnId: (this.serial * 1024 + generation) * 2 ** 32 + 1, cpu: this.cpu, traceSab: this.owner.traceSab, name: this.name };
    const w = new Worker(new URL('../../workers/qemu-io.js', import.meta.url), { workerData: start, name: this.name });
    w.on('message', (e: QemuEvent) => {
      if (e.type === 'connected') this.connFds.set(e.connId, e.fd);
      else if (e.type === 'disconnected') this.connFds.delete(e.connId);
      else if (e.type === 'stats') this.statsWaits.settle(e.reqId, e.conns);
      this.owner.onEvent(this, e);
    });
    this.worker = w;
    for (const msg of this.listens.values()) this.post(msg);
    return workerRun(w, () => null);
  }

  /** The connections died with the thread: close their fds, and tell the owner which went. */
  private died(): void {
    this.worker = null;
    const ids = [...this.connFds.keys()];
    for (const fd of this.connFds.values()) closeFd(fd);
    this.connFds.clear();
    this.statsWaits.failAll(new DivesError('EWORKER', `${this.name} died`));
    this.owner.onDeath(this, ids);
  }

  post(msg: QemuControl): void {
    if (this.worker === null || this.closed) return;
    this.worker.postMessage(msg);
    this.bell.control();
  }

  listen(msg: QemuListenMsg): void {
    this.listens.set(msg.listenerId, msg);
    this.post(msg);
  }

  /** Per-connection counters; none when the thread is not running. */
  async stats(): Promise<QemuConnStats[]> {
    if (this.worker === null) return [];
    return this.statsWaits.request(this.name, 5000, (reqId) => this.post({ type: 'stats', reqId }));
  }

  async close(): Promise<void> {
    await this.supervisor.stop();
    this.closed = true;
    this.worker = null;
    const efd = this.bell.eventfd;
    this.bell.attachEventfd(-1);
    // Forwarding threads may have read the eventfd just before it was detached: give them a moment.
    setTimeout(() => eventfdClose(efd), 200).unref();
  }
}
