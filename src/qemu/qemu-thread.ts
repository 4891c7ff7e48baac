// QemuThread: the main thread's side of one QEMU I/O thread — the one beside forwarding
// thread `index`, serving the QEMU ports of that thread's VLANs, or a trunk listener's
// own. It runs the thread as an IoThread (src/core/io-thread.ts) and remembers what a
// restarted thread must be told again: the listeners it accepts on. It also remembers
// the fds of the connections the thread accepted, which die with the thread: main closes
// them. Main thread.

import type { Logger } from '../core/log.js';
import { IoThread } from '../core/io-thread.js';
import { ioLoop } from '../core/io-loop.js';
import type { IoRequest } from '../core/io-messages.js';
import { closeFd } from '../linux/stream-socket.js';
import type { QemuConnStats, QemuControl, QemuEvent, QemuIoStart, QemuListenMsg } from './qemu-io-messages.js';

const QEMU_LOOP = ioLoop(new URL('./qemu-io.js', import.meta.url), 'QemuIo');

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
  readonly io: IoThread<QemuIoStart, QemuControl, QemuEvent, QemuConnStats[]>;
  /** Listeners this thread accepts on, told again to a restarted thread. */
  readonly listens = new Map<number, QemuListenMsg>();
  /** connId → fd of the connections it accepted and has not closed. */
  readonly connFds = new Map<number, number>();
  /** QEMU I/O threads made so far in this process: each numbers its connections apart. */
  private static made = 0;
  /** This thread's number among them; its connection ids start at (serial × 1024 + generation) × 2^32 + 1. */
  private readonly serial = QemuThread.made++;

  constructor(
    readonly index: number,
    /** The CPU it pins itself to: its forwarding thread's, or -1. */
    cpu: number,
    private readonly owner: QemuThreadOwner,
    /** A trunk listener's own thread is named for its address; -1 as index. */
    name = `qemu-io:${index}`,
  ) {
    this.io = new IoThread({
      name,
      kind: 'qemu-io',
      log: owner.log,
      loop: QEMU_LOOP,
      cpu,
      // A restarted thread numbers its connections past the dead one's.
      start: (generation) => ({ maxFrame: owner.maxFrame, traceSab: owner.traceSab, firstConnId: (this.serial * 1024 + generation) * 2 ** 32 + 1 }),
      replay: () => {
        for (const msg of this.listens.values()) this.io.post(msg);
      },
      onEvent: (e) => {
        if (e.type === 'connected') this.connFds.set(e.connId, e.fd);
        else if (e.type === 'disconnected') this.connFds.delete(e.connId);
        owner.onEvent(this, e);
      },
      onDeath: () => this.died(),
      onDown: (reason) => owner.onDown(this, reason),
      restartNote: '; its connections are gone, it accepts again on its listeners',
      downNote: () => '; its listeners are down until the switch restarts',
    });
    this.io.start();
  }

  get name(): string {
    return this.io.name;
  }

  /** The connections died with the thread: close their fds, and tell the owner which went. */
  private died(): void {
    const ids = [...this.connFds.keys()];
    for (const fd of this.connFds.values()) closeFd(fd);
    this.connFds.clear();
    this.owner.onDeath(this, ids);
  }

  post(msg: QemuControl): void {
    this.io.post(msg);
  }

  request(body: IoRequest<QemuControl>): Promise<void> {
    return this.io.request(body);
  }

  listen(msg: QemuListenMsg): void {
    this.listens.set(msg.listenerId, msg);
    this.post(msg);
  }

  /** Per-connection counters; none when the thread is not running. */
  async stats(): Promise<QemuConnStats[]> {
    return (await this.io.stats()) ?? [];
  }

  close(): Promise<void> {
    return this.io.close();
  }
}
