// Doorbell: how a producer thread wakes a consumer thread that went to sleep
// because all of its rings were empty. One doorbell per consuming thread; every
// ring that thread consumes rings the same doorbell. Used by every thread kind.
//
// Thread safety: the SLEEPING word is the only shared state. Only the consumer
// sets it to 1 (announcing "I am about to sleep"), any producer may clear it to
// 0 with a compare-and-exchange, and only the producer that wins the exchange
// pays for the Atomics.notify. So a producer whose consumer is awake pays one
// atomic load per commit and no system call.
//
// A consumer that must also wait for a device or a socket (every I/O thread) sleeps in
// poll() instead of Atomics.wait: it attaches an eventfd (src/linux/eventfd.ts),
// and the producer that wins the exchange bumps that eventfd instead of paying
// for a notify. The protocol is otherwise the same.
//
// Layout (Int32 words of a 64-byte SharedArrayBuffer):
//
// | byte | word           | written by           | meaning                                        |
// |------|----------------|----------------------|------------------------------------------------|
// | 0    | SLEEPING       | consumer (1), any (0)| 1 while the consumer is (about to be) asleep    |
// | 4    | WAKEUPS        | producers            | notifies paid, for `show` and benchmarks        |
// | 8    | CONTROL        | the main thread      | bumped when a control message is waiting        |
// | 12   | EVENTFD        | the main thread      | 0, or the consumer's eventfd + 1                |
// | 16.. | reserved       |                      |                                                |

import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { eventfdDrain, eventfdKick } from '../linux/eventfd.js';
import { ERRNO, POLLIN, POLLNVAL } from '../linux/libc.js';
import { PollSet } from '../linux/poll-set.js';

export const DOORBELL_BYTES = 64;
const SLEEPING = 0;
const WAKEUPS = 1;
const CONTROL = 2;
const EVENTFD = 3;

export class Doorbell {
  readonly sab: SharedArrayBuffer;
  private readonly words: Int32Array;
  /** The poll set of sleepPoll(): the eventfd and one fd, made on first use. */
  private one: PollSet | undefined;

  constructor(sab?: SharedArrayBuffer) {
    this.sab = sab ?? new SharedArrayBuffer(DOORBELL_BYTES);
    this.words = new Int32Array(this.sab, 0, DOORBELL_BYTES >> 2);
  }

  /**
   * Producer side: wake the consumer if it announced it is going to sleep.
   * Returns true when this call paid for a wake-up.
   */
  ring(): boolean {
    // The consumer stores SLEEPING=1 *before* its final emptiness check, and the
    // producer publishes its ring head *before* this load (both seq-cst), so at
    // least one of them sees the other: either the consumer finds the frame, or
    // we find SLEEPING=1 here and notify.
    if (Atomics.load(this.words, SLEEPING) === 0) return false;
    if (Atomics.compareExchange(this.words, SLEEPING, 1, 0) !== 1) return false;
    Atomics.add(this.words, WAKEUPS, 1);
    this.wake();
    return true;
  }

  private wake(): void {
    const efd = Atomics.load(this.words, EVENTFD);
    if (efd !== 0) eventfdKick(efd - 1);
    else Atomics.notify(this.words, SLEEPING);
  }

  /**
   * Main thread, before the consumer first sleeps: from now on the consumer
   * sleeps in poll() on this eventfd, and wake-ups bump it. Pass -1 to detach.
   */
  attachEventfd(fd: number): void {
    Atomics.store(this.words, EVENTFD, fd + 1);
  }

  /** The attached eventfd, or -1. */
  get eventfd(): number {
    return Atomics.load(this.words, EVENTFD) - 1;
  }

  /** Main thread: a control message was posted; wake the consumer so it reads it. */
  control(): void {
    Atomics.add(this.words, CONTROL, 1);
    Atomics.store(this.words, SLEEPING, 0);
    this.wake();
  }

  /** Consumer: the control counter, compared against the last value it handled. */
  get controlSeq(): number {
    return Atomics.load(this.words, CONTROL);
  }

  /**
   * Consumer: hand every message main posted on `port` to `apply`, and return the
   * control count this covers (to compare controlSeq against). The count is read
   * before the port, so a message posted meanwhile bumps it again and is not missed.
   */
  drainControl<T>(port: MessagePort, apply: (msg: T) => void): number {
    const seq = this.controlSeq;
    for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) apply(m.message as T);
    return seq;
  }

  /**
   * Consumer side: how every thread goes to sleep, written once. Announce the sleep, look
   * once more (`pending`: a frame in a ring it consumes, a control message to read), and
   * call `sleep` (sleep(), sleepPoll() or sleepPollSet() with the thread's fds) only when
   * there is still nothing. A producer that published before the announcement is found by
   * the second look; one that publishes after it finds SLEEPING set and wakes the sleeper
   * (see ring()). Returns what `sleep` returned, or 0 when work was found instead.
   */
  doze(pending: () => boolean, sleep: () => number): number {
    this.prepareSleep();
    if (pending()) {
      this.cancelSleep();
      return 0;
    }
    return sleep();
  }

  /** Step 1 of doze(), for tests that drive the protocol by hand: announce the intent. */
  prepareSleep(): void {
    Atomics.store(this.words, SLEEPING, 1);
  }

  cancelSleep(): void {
    Atomics.store(this.words, SLEEPING, 0);
  }

  /**
   * Block this thread until a producer rings or timeoutMs passes. Not allowed on
   * the main thread (Atomics.wait throws there).
   */
  sleep(timeoutMs: number): void {
    // If a producer already cleared the flag, wait returns "not-equal" at once.
    Atomics.wait(this.words, SLEEPING, 1, timeoutMs);
    Atomics.store(this.words, SLEEPING, 0);
  }

  /**
   * Like sleep(), for a consumer with an eventfd attached that also waits for `fd`
   * to be readable: blocks in poll() on both until the doorbell rings, `fd` has
   * input, or timeoutMs passes. Returns 1 when `fd` has input (or an error or
   * hang-up to read), 0 when only the doorbell rang or the time ran out, or -errno
   * when poll() failed or `fd` is not open (-EBADF). Never throws.
   */
  sleepPoll(fd: number, timeoutMs: number): number {
    const set = (this.one ??= new PollSet(2));
    set.set(1, fd, POLLIN);
    const r = this.sleepPollSet(set, timeoutMs);
    if (r < 0) return r;
    const rev = set.revents(1);
    if ((rev & POLLNVAL) !== 0) return -ERRNO.EBADF;
    return rev !== 0 ? 1 : 0;
  }

  /**
   * Like sleepPoll(), for a consumer waiting on several fds: slot 0 of `set` becomes
   * this doorbell's eventfd, the caller's slots are 1 and up. Blocks until the doorbell
   * rings, a slot is ready or timeoutMs passes; returns poll()'s count (0 on a timeout
   * or a signal) or -errno, and the caller reads each slot's revents. Never throws.
   */
  sleepPollSet(set: PollSet, timeoutMs: number): number {
    const efd = this.eventfd;
    set.set(0, efd, POLLIN);
    const r = set.poll(timeoutMs);
    Atomics.store(this.words, SLEEPING, 0);
    if (r > 0 && set.revents(0) !== 0) eventfdDrain(efd);
    return r;
  }

  /** Wake-ups paid so far (may be slightly late when read from another thread). */
  get wakeups(): number {
    return Atomics.load(this.words, WAKEUPS);
  }
}
