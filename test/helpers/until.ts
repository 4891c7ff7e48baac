// The one way tests wait for something: poll a condition (sync or async) every few ms
// until it holds or the time is up, and say what was waited for when it never came.
// Test code, any thread with an event loop (the ava worker's main thread, in practice).
//
// until() rejects on timeout; untilValue() hands back the value that satisfied the
// check; within() answers whether the condition held in time, for a caller that asserts
// on that answer itself (or, like the robustness suite, measures how long it took).

export interface UntilOptions {
  /** Time between polls; 20 ms unless told. */
  everyMs?: number;
  /** Called on timeout and appended to the message: what the caller saw, for the report. */
  detail?: () => string;
  /**
   * Checked after each failed poll: a reason to stop waiting at once (the process that
   * would have made the condition true exited, say), or undefined to go on. The condition
   * gets one last look first, since what made it true may have come with the exit.
   */
  giveUp?: () => string | undefined;
}

/** What until() and untilValue() reject with when the time is up. */
export class UntilTimeout extends Error {
  constructor(what: string, timeoutMs: number, detail: string) {
    super(`waited ${timeoutMs} ms for ${what}${detail === '' ? '' : `\n${detail}`}`);
    this.name = 'UntilTimeout';
  }
}

/** A fixed wait: only for waits that are the behaviour under test (ageing, a rate window, a quiet spell). */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll `cond` until it holds; rejects naming `what` after timeoutMs (or when `giveUp` says so). */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string, opts: UntilOptions = {}): Promise<void> {
  await untilValue(cond, (ok) => ok, timeoutMs, what, opts);
}

/**
 * Poll `get` until `ok` holds for its value, and return that value; rejects naming `what`
 * after timeoutMs, with the last value seen (as JSON, cut to 2000 characters) unless
 * `detail` says something better.
 */
export async function untilValue<T, S extends T>(get: () => T | Promise<T>, ok: (v: T) => v is S, timeoutMs: number, what: string, opts?: UntilOptions): Promise<S>;
export async function untilValue<T>(get: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs: number, what: string, opts?: UntilOptions): Promise<T>;
export async function untilValue<T>(get: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs: number, what: string, opts: UntilOptions = {}): Promise<T> {
  const everyMs = opts.everyMs ?? 20;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    const reason = opts.giveUp?.();
    if (reason !== undefined) {
      const last = await get();
      if (ok(last)) return last;
      throw new Error(`gave up waiting for ${what}: ${reason}${detailOf(opts, last, '\n')}`);
    }
    if (Date.now() > deadline) throw new UntilTimeout(what, timeoutMs, detailOf(opts, v, ''));
    await sleep(everyMs);
  }
}

/** Poll `cond` until it holds or timeoutMs pass: whether it held. Never rejects on timeout. */
export async function within(cond: () => boolean | Promise<boolean>, timeoutMs: number, opts: Pick<UntilOptions, 'everyMs'> = {}): Promise<boolean> {
  try {
    await until(cond, timeoutMs, 'condition', opts);
    return true;
  } catch (err) {
    if (err instanceof UntilTimeout) return false;
    throw err;
  }
}

function detailOf<T>(opts: UntilOptions, v: T, sep: string): string {
  if (opts.detail !== undefined) return `${sep}${opts.detail()}`;
  if (typeof v === 'boolean') return '';
  return `${sep}last: ${String(JSON.stringify(v)).slice(0, 2000)}`;
}
