// claimSocketPath: make a UNIX socket path free for a new listener, the way a
// restarted daemon must: nothing there is fine; a socket nobody accepts on is a
// leftover of a switch that was killed, and is removed; a socket someone answers on,
// or a file that is not a socket, is left alone and reported. Used by the control
// socket and by QEMU listeners. Main thread.

import { lstatSync, unlinkSync } from 'node:fs';
import { createConnection } from 'node:net';

/** How long a connect() may take before the owner counts as alive (too busy to accept is still alive). */
const PROBE_TIMEOUT_MS = 2000;

export type SocketPathClaim =
  /** Nothing was there. */
  | { kind: 'free' }
  /** A socket nobody accepted on was there; it is removed. */
  | { kind: 'replaced' }
  /** Something accepts connections on it. */
  | { kind: 'busy' }
  /** A file that is not a socket is there. */
  | { kind: 'not-socket' }
  /** It could not be told or removed (permissions, a connect error other than "refused"). */
  | { kind: 'error'; message: string };

/** Probe `path` and, when it is a stale socket, remove it. Never throws. */
export async function claimSocketPath(path: string): Promise<SocketPathClaim> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'free' };
    return { kind: 'error', message: (err as Error).message };
  }
  if (!isSocket) return { kind: 'not-socket' };
  const alive = await probe(path);
  if (typeof alive === 'string') return { kind: 'error', message: alive };
  if (alive) return { kind: 'busy' };
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return { kind: 'error', message: (err as Error).message };
  }
  return { kind: 'replaced' };
}

/** True when something accepts on `path`, false when nothing listens (refused, or gone), else the error's message. */
function probe(path: string): Promise<boolean | string> {
  return new Promise((resolve) => {
    const sock = createConnection(path);
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(true);
    }, PROBE_TIMEOUT_MS);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.destroy();
      resolve(true);
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? false : err.message);
    });
  });
}
