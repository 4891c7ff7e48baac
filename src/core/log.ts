// Logger: leveled, one line per event, always to stderr so logs never mix with
// console replies on stdout; as text for people or as one JSON object per line
// for journald and log shippers. Main thread; workers send log messages to main.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/** `text`: "2025-01-01T00:00:00.000Z info  message". `json`: {"time":...,"level":"info","pid":1,"msg":"message"}. */
export type LogFormat = 'text' | 'json';

export function createLogger(level: LogLevel = 'info', out: NodeJS.WritableStream = process.stderr, format: LogFormat = 'text'): Logger {
  const min = RANK[level];
  const emit = (lvl: Exclude<LogLevel, 'silent'>, msg: string): void => {
    if (RANK[lvl] < min) return;
    const time = new Date().toISOString();
    // The field names are those of pino (time, level, pid, msg), with the level as a word, as pino gives it with a level formatter.
    out.write(format === 'json' ? `${JSON.stringify({ time, level: lvl, pid: process.pid, msg })}\n` : `${time} ${lvl.padEnd(5)} ${msg}\n`);
  };
  return {
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
  };
}

export function isLogLevel(s: string): s is LogLevel {
  return s in RANK;
}
