// ByteSink: where a capture's pcap bytes go — a file (fileSink, here) or the control
// socket's stream to `dives ctl` (src/control/control-server.ts) — with the backpressure
// a capture needs: write() says when the reader is behind, drained() waits for it, and a
// reader that went away closes the sink, which ends the capture. Main thread.

import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { DivesError } from '../core/errors.js';

export interface ByteSink {
  /** Queue bytes; false when the reader is behind: wait for drained() before more. */
  write(chunk: Buffer): boolean;
  /** Settles when the sink takes writes again, or once it is closed. */
  drained(): Promise<void>;
  /** True once the reader went away (or the file failed); a capture into it ends. */
  readonly closed: boolean;
  /** Why it closed, when it failed. */
  readonly error: string | null;
  /** Finish: flush what is queued and close. */
  end(): Promise<void>;
}

/**
 * A new file at `path` (replacing one there), readable by its owner only (0600): a
 * capture holds other people's traffic. Throws DivesError EWRITE when it cannot be made.
 */
export async function fileSink(path: string): Promise<ByteSink> {
  const out = createWriteStream(path, { mode: 0o600, flags: 'w' });
  try {
    await once(out, 'open');
  } catch (err) {
    throw new DivesError('EWRITE', `cannot write the capture to ${path}: ${(err as Error).message}`, { cause: err });
  }
  let error: string | null = null;
  let closed = false;
  out.on('error', (err) => {
    error = err.message;
    closed = true;
  });
  out.on('close', () => (closed = true));
  return {
    write: (chunk) => out.write(chunk),
    drained: () =>
      closed || !out.writableNeedDrain
        ? Promise.resolve()
        : new Promise((resolve) => {
            const done = (): void => {
              out.off('drain', done);
              out.off('close', done);
              resolve();
            };
            out.on('drain', done);
            out.on('close', done);
          }),
    get closed() {
      return closed;
    },
    get error() {
      return error;
    },
    end: () => (closed ? Promise.resolve() : new Promise((resolve) => out.end(() => resolve()))),
  };
}
