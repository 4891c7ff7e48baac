// PendingReplies: requests the main thread sent to another thread (a
// forwarding thread, the QEMU or peer I/O thread) and is waiting to hear back
// about, by request id, each with a deadline. Main thread.

import { DivesError } from './errors.js';

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class PendingReplies<T> {
  private readonly waiting = new Map<number, Waiter<T>>();
  private nextId = 1;

  /**
   * Allocate a request id, call `send(id)` and wait for settle(id, value).
   * Rejects with ETIMEOUT naming `who` after `timeoutMs`.
   */
  request(who: string, timeoutMs: number, send: (reqId: number) => void): Promise<T> {
    const reqId = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(reqId);
        reject(new DivesError('ETIMEOUT', `${who} did not answer within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.waiting.set(reqId, { resolve, reject, timer });
      send(reqId);
    });
  }

  /** The reply to `reqId` arrived (a late or unknown one is ignored). */
  settle(reqId: number, value: T): void {
    const w = this.waiting.get(reqId);
    if (w === undefined) return;
    clearTimeout(w.timer);
    this.waiting.delete(reqId);
    w.resolve(value);
  }

  /** Answer every request still waiting with `value` (e.g. nothing more to wait for: shutting down). */
  settleAll(value: T): void {
    for (const id of [...this.waiting.keys()]) this.settle(id, value);
  }

  /** Fail every request still waiting (the other thread died or is stopping). */
  failAll(err: Error): void {
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.waiting.clear();
  }
}
