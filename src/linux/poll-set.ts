// PollSet: the struct pollfd array an I/O thread sleeps on in poll(): one slot per fd it
// waits for, grown as fds come, its events and what poll() returned for each. Slot 0 is
// the thread's doorbell eventfd (Doorbell.sleepPollSet fills it in). Used by the I/O
// threads that wait for several fds (the QEMU I/O thread: listeners and connections)
// and, with one fd, by the TAP and peer I/O threads. Never throws, never allocates per
// poll.
//
// struct pollfd is {int fd; short events; short revents}: 8 bytes, here 2 Int32 words
// with the two shorts overlaid on the second.

import { ERRNO, loadLibc, type Libc } from './libc.js';

export class PollSet {
  private words: Int32Array;
  private shorts: Int16Array;
  /** Slots in use, slot 0 included. */
  count = 1;
  private lc: Libc | undefined;

  constructor(capacity = 4) {
    this.words = new Int32Array(2 * capacity);
    this.shorts = new Int16Array(this.words.buffer);
    this.words[0] = -1;
  }

  /** Watch `fd` for `events` in slot `i` (growing the set as needed). A negative fd is ignored by poll(). */
  set(i: number, fd: number, events: number): void {
    if (2 * i + 1 >= this.words.length) {
      const bigger = new Int32Array(Math.max(2 * (i + 1), 2 * this.words.length));
      bigger.set(this.words);
      this.words = bigger;
      this.shorts = new Int16Array(bigger.buffer);
    }
    this.words[2 * i] = fd;
    this.shorts[4 * i + 2] = events;
    this.shorts[4 * i + 3] = 0;
    if (i >= this.count) this.count = i + 1;
  }

  /** What poll() said of slot `i` (POLLIN, POLLOUT, POLLERR, POLLHUP, POLLNVAL bits). */
  revents(i: number): number {
    return this.shorts[4 * i + 3] & 0xffff;
  }

  /** poll() the first `count` slots for up to timeoutMs. Returns how many slots are ready, 0 on timeout or a signal, or -errno. */
  poll(timeoutMs: number): number {
    try {
      const c = (this.lc ??= loadLibc());
      for (let i = 0; i < this.count; i++) this.shorts[4 * i + 3] = 0;
      const r = c.poll(this.words, this.count, timeoutMs);
      if (r >= 0) return r;
      const e = c.errno();
      return e === ERRNO.EINTR ? 0 : -e;
    } catch {
      return -ERRNO.EINVAL;
    }
  }
}
