// IoLoop: the loop every I/O thread runs, written once — pin to its CPU, read main's
// messages when its doorbell's CONTROL count moves, do a turn of the kind's work, and when
// a turn found nothing to do, go to sleep the one way every thread does (Doorbell.doze:
// announce, look once more, sleep). A kind fills in its turn, what may be pending, how it
// sleeps (in poll() on its fds and its doorbell's eventfd) and its own messages
// (src/tap/tap-io-loop.ts, src/qemu/qemu-io.ts, src/peer/peer-io.ts, src/vxlan/vxlan-io.ts).
// runIoLoop is what workers/io-thread.ts calls. Runs on an I/O thread, with no event loop.
//
// Thread safety: the loop owns everything here; it shares only the rings its kind
// attaches and its doorbell. `stop`, `stats` and `gc` are answered here for every kind.

import type { MessagePort } from 'node:worker_threads';
import { collectGarbage } from './collect-garbage.js';
import { Doorbell } from './doorbell.js';
import { FrameTrace } from './frame-trace.js';
import type { IoCommonEvent, IoControl, IoStart } from './io-messages.js';
import { describeErrno } from '../linux/libc.js';
import { pinThisThread } from '../linux/cpu-affinity.js';

/** The longest sleep: the doorbell wakes the thread for frames and for control. */
export const IO_SLEEP_MS = 1000;

/** Which loop a thread runs: the module of src/ that exports it (as a URL) and the class's name there. */
export interface IoLoopRef {
  url: string;
  name: string;
}

/** What main hands workers/io-thread.ts. */
export interface IoWorkerData<S extends IoStart = IoStart> {
  loop: IoLoopRef;
  start: S;
}

/** A loop class as workers/io-thread.ts finds it in its module. */
export type IoLoopClass = new (start: IoStart, control: MessagePort, emit: (e: unknown) => void) => { run(): void };

/** The reference to `name`, exported by the module at `url` (`new URL('./tap-io-loop.js', import.meta.url)`). */
export function ioLoop(url: URL, name: string): IoLoopRef {
  return { url: url.href, name };
}

export abstract class IoLoop<S extends IoStart, C extends { type: string }, E, R> {
  protected readonly bell: Doorbell;
  protected readonly trace: FrameTrace;
  /** What a poll() failure is said to be of, in the failure: "peer socket", "VXLAN sockets". */
  protected abstract readonly polled: string;
  /** Set by `stop`, or by fail(): the loop ends after the current turn. */
  protected stopped = false;
  private controlSeen = 0;
  private readonly apply = (msg: IoControl<C>): void => this.dispatch(msg);
  /** Doorbell.doze's second look, made once: anything to send, or a message to read. */
  private readonly pendingWork = (): boolean => this.pending() || this.bell.controlSeq !== this.controlSeen || this.stopped;
  private readonly sleepOnce = (): number => this.sleep(IO_SLEEP_MS);

  constructor(
    protected readonly start: S,
    private readonly control: MessagePort,
    protected readonly emit: (e: E | IoCommonEvent<R>) => void,
  ) {
    this.bell = new Doorbell(start.doorbellSab);
    this.trace = new FrameTrace(start.traceSab);
  }

  /** Run until `stop` (or a failure); then finish() and say `stopped`. */
  run(): void {
    // Beside its forwarding thread: a hand-off between threads on one core needs no
    // cross-CPU wake-up (docs/performance.md, "CPU affinity").
    if (this.start.cpu >= 0) pinThisThread(this.start.cpu);
    const bell = this.bell;
    while (!this.stopped) {
      if (bell.controlSeq !== this.controlSeen) this.controlSeen = bell.drainControl(this.control, this.apply);
      if (this.stopped) break;
      if (this.turn() || this.stopped) continue;
      const r = bell.doze(this.pendingWork, this.sleepOnce);
      if (r < 0) this.fail(`${this.polled}: poll: ${describeErrno(-r)}`);
    }
    this.finish();
    this.emit({ type: 'stopped' });
  }

  /** Stop on an error the thread cannot carry on after: main marks it down with `message`, and does not restart it. */
  protected fail(message: string): void {
    this.emit({ type: 'failed', message });
    this.stopped = true;
  }

  /** A line for main's log, rate-limited there under `kind`. */
  protected log(level: 'info' | 'warn' | 'error', kind: string, message: string): void {
    this.emit({ type: 'log', level, kind, message });
  }

  private dispatch(msg: IoControl<C>): void {
    const m = msg as IoControl<never>;
    switch (m.type) {
      case 'stop':
        this.stopped = true;
        return;
      case 'stats':
        this.emit({ type: 'stats', reqId: m.reqId, report: this.report() });
        return;
      case 'gc':
        collectGarbage();
        return;
      default:
        this.handle(msg as C);
    }
  }

  /** One turn of the kind's work, both ways; true when it did some (the loop goes round again at once). */
  protected abstract turn(): boolean;
  /** Whether a ring toward this thread holds frames: the look once more before sleeping. */
  protected abstract pending(): boolean;
  /** Sleep up to `ms` until the doorbell rings or an fd is ready (noting which); 0, or -errno when poll() failed. */
  protected abstract sleep(ms: number): number;
  /** One message of the kind's own. */
  protected abstract handle(msg: C): void;
  /** The counters `stats` answers with. */
  protected abstract report(): R;
  /** After the loop: close what the thread opened. */
  protected finish(): void {}
}

/** workers/io-thread.ts: find the loop main named and run it on this thread. */
export async function runIoLoop(data: IoWorkerData, control: MessagePort): Promise<void> {
  const mod = (await import(data.loop.url)) as Record<string, IoLoopClass | undefined>;
  const Loop = mod[data.loop.name];
  if (Loop === undefined) throw new Error(`${data.loop.url} exports no loop ${data.loop.name}`);
  new Loop(data.start, control, (e) => control.postMessage(e)).run();
}
