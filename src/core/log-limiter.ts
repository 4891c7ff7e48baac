// LogLimiter: the bound on log lines that someone outside the switch can trigger — a
// datagram on the discovery group, a connection to a QEMU listener or the control socket.
// Each kind of line (a fixed name such as 'discovery-malformed', never a sender's
// address) may be logged `burst` times per window; past that its lines are counted, not
// written, and the first line written after the window says how many were suppressed.
// Wraps a Logger (src/core/log.ts); main thread, no timers, nothing allocated per
// suppressed line.
//
// One limiter serves every component that logs through the same Logger (LogLimiter.of),
// so a kind has one budget however many objects log it.

import type { Logger } from './log.js';

export type LimitedLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogLimiterOptions {
  /** Lines of one kind written per window; default 5. */
  burst?: number;
  /** The window, ms; default 60 s. */
  windowMs?: number;
  /** Kinds tracked at most; further kinds share one budget. Default 64. */
  maxKinds?: number;
  /** The clock, ms; default Date.now. Tests pass their own. */
  now?: () => number;
}

export const DEFAULT_LOG_BURST = 5;
export const DEFAULT_LOG_WINDOW_MS = 60_000;
const DEFAULT_MAX_KINDS = 64;
/** The kind that kinds past maxKinds share. */
const OTHER = '(other)';

/** One kind's window: when it began, lines written in it, lines suppressed, and the last suppressed one. */
interface KindWindow {
  start: number;
  written: number;
  suppressed: number;
  level: LimitedLevel;
  last: string;
}

const limiters = new WeakMap<Logger, LogLimiter>();

export class LogLimiter {
  private readonly kinds = new Map<string, KindWindow>();
  /** The earliest end of a window that has suppressed lines (Infinity: none), so the sweep costs nothing until then. */
  private dueAt = Infinity;
  private readonly burst: number;
  private readonly windowMs: number;
  private readonly maxKinds: number;
  private readonly now: () => number;

  constructor(
    private readonly log: Logger,
    opts: LogLimiterOptions = {},
  ) {
    this.burst = opts.burst ?? DEFAULT_LOG_BURST;
    this.windowMs = opts.windowMs ?? DEFAULT_LOG_WINDOW_MS;
    this.maxKinds = opts.maxKinds ?? DEFAULT_MAX_KINDS;
    this.now = opts.now ?? Date.now;
  }

  /** The limiter every component logging through `log` shares, made with the defaults on first use. */
  static of(log: Logger): LogLimiter {
    let l = limiters.get(log);
    if (l === undefined) {
      l = new LogLimiter(log);
      limiters.set(log, l);
    }
    return l;
  }

  /** Make `log`'s shared limiter one with these options (before anything logs through it): for tests and embedders. */
  static attach(log: Logger, opts: LogLimiterOptions): LogLimiter {
    const l = new LogLimiter(log, opts);
    limiters.set(log, l);
    return l;
  }

  debug(kind: string, msg: string): void {
    this.line('debug', kind, msg);
  }

  info(kind: string, msg: string): void {
    this.line('info', kind, msg);
  }

  warn(kind: string, msg: string): void {
    this.line('warn', kind, msg);
  }

  error(kind: string, msg: string): void {
    this.line('error', kind, msg);
  }

  /** Lines of `kind` suppressed in its current window and not yet reported. */
  suppressed(kind: string): number {
    return this.kinds.get(kind)?.suppressed ?? 0;
  }

  private line(level: LimitedLevel, kind: string, msg: string): void {
    const now = this.now();
    if (now >= this.dueAt) this.sweep(now, kind);
    const w = this.window(kind, now, level);
    let note = '';
    if (now - w.start >= this.windowMs) {
      if (w.suppressed > 0) note = ` (${w.suppressed} similar lines suppressed in the last ${seconds(now - w.start)} s)`;
      w.start = now;
      w.written = 0;
      w.suppressed = 0;
    }
    if (w.written >= this.burst) {
      if (w.suppressed === 0) this.dueAt = Math.min(this.dueAt, w.start + this.windowMs);
      w.suppressed++;
      w.level = level;
      w.last = msg;
      return;
    }
    w.written++;
    if (note === '' && w.written === this.burst) note = ` (further similar lines are suppressed for up to ${seconds(this.windowMs)} s, and counted)`;
    this.log[level](note === '' ? msg : msg + note);
  }

  private window(kind: string, now: number, level: LimitedLevel): KindWindow {
    let w = this.kinds.get(kind);
    if (w !== undefined) return w;
    const key = this.kinds.size < this.maxKinds ? kind : OTHER;
    w = this.kinds.get(key);
    if (w === undefined) {
      w = { start: now, written: 0, suppressed: 0, level, last: '' };
      this.kinds.set(key, w);
    }
    return w;
  }

  /**
   * Report the kinds whose window ended with lines suppressed, other than `except` (the
   * line being written reports its own): each as its last suppressed line with the count,
   * so a flood that stopped is still accounted for at the next line of any kind.
   */
  private sweep(now: number, except: string): void {
    let due = Infinity;
    for (const [kind, w] of this.kinds) {
      if (w.suppressed === 0 || kind === except) continue;
      const end = w.start + this.windowMs;
      if (now < end) {
        due = Math.min(due, end);
        continue;
      }
      this.log[w.level](`${w.last} (the last of ${w.suppressed} similar lines suppressed in the last ${seconds(now - w.start)} s)`);
      // The next line of this kind begins a new window.
      w.start = -Infinity;
      w.written = 0;
      w.suppressed = 0;
      w.last = '';
    }
    const own = this.kinds.get(except);
    if (own !== undefined && own.suppressed > 0) due = Math.min(due, own.start + this.windowMs);
    this.dueAt = due;
  }
}

function seconds(ms: number): string {
  return String(Math.round(ms / 1000));
}
