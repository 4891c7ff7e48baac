// collectGarbage: a full collection of the calling thread's JavaScript heap, so the
// shared ring memory (SharedArrayBuffers) and buffers of ports, connections and peers
// that went are freed now rather than whenever the heap next grows — a thread that
// allocates nothing per frame may not collect for hours. It works once
// src/switch/memory-reclaim.ts has exposed V8's gc() (before any thread started) and
// does nothing otherwise. Any thread: main asks each thread by a 'gc' control message.

import { runInNewContext } from 'node:vm';

let gc: (() => void) | null | undefined;

/** Collect garbage on this thread now. Returns false when gc() is not exposed. */
export function collectGarbage(): boolean {
  if (gc === undefined) gc = find();
  if (gc === null) return false;
  gc();
  return true;
}

function find(): (() => void) | null {
  const own = (globalThis as { gc?: unknown }).gc;
  if (typeof own === 'function') return own as () => void;
  // The main thread's context was made before the flag was set; a new context sees it, and its gc() collects the whole isolate.
  try {
    const fresh: unknown = runInNewContext('typeof gc === "function" ? gc : null');
    return typeof fresh === 'function' ? (fresh as () => void) : null;
  } catch {
    return null;
  }
}
