// Eventfd: a kernel counter that one thread waits for in poll() and any thread can bump.
// It lets a thread that sleeps in poll() on a socket (the peer I/O thread) be woken by its
// doorbell as well (src/core/doorbell.ts). Opened and closed on the main thread; eventfdKick runs
// on producer threads (forwarding threads, main), eventfdDrain on the sleeping thread.
//
// Thread safety: the fd is process-wide; the kernel serialises the counter. Each thread has
// its own 8-byte scratch in module state.

import { DivesError } from '../core/errors.js';
import { EFD_CLOEXEC, EFD_NONBLOCK, describeErrno, errno, loadLibc, type Libc } from './libc.js';

const one = new BigUint64Array([1n]);
const oneBytes = new Uint8Array(one.buffer);
const drainBytes = new Uint8Array(8);
let lc: Libc | undefined;

function libc(): Libc {
  return lc ?? (lc = loadLibc());
}

/** A new non-blocking, close-on-exec eventfd. Throws DivesError EINTERNAL when the kernel refuses. */
export function eventfdOpen(): number {
  const fd = libc().eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) throw new DivesError('EINTERNAL', `eventfd: ${describeErrno(errno())}`);
  return fd;
}

/** Bump the counter, making the fd readable. Never throws (a full counter is still readable). */
export function eventfdKick(fd: number): void {
  try {
    libc().write(fd, oneBytes, 8);
  } catch {
    // Only a failed libc load gets here; the sleeper's poll timeout still wakes it.
  }
}

/** Reset the counter to zero, so the next poll() sleeps until the next kick. Never throws. */
export function eventfdDrain(fd: number): void {
  try {
    libc().read(fd, drainBytes, 8);
  } catch {
    // As above.
  }
}

export function eventfdClose(fd: number): void {
  libc().close(fd);
}
