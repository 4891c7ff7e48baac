// runSwitch: what `dives start` does once its flags are parsed — build the
// switch, apply the rc file (refusing to start half-configured), serve the
// stdio console, and shut everything down cleanly on SIGINT/SIGTERM.
// Runs on the main thread.

import { createCommandRegistry } from '../control/commands.js';
import { ConsoleSession } from '../control/console-session.js';
import { runRcFile } from '../control/rc-file.js';
import { startStdioConsole } from '../control/stdio-console.js';
import { isDivesError } from '../errors.js';
import type { Logger } from '../log.js';
import { Switch } from './switch.js';

export interface StartOptions {
  rcFile?: string;
  /** Unicast address and port this switch peers on (-h, -p). */
  host: string;
  port: number;
  /** Discovery group and port (-m, -d). */
  discoveryGroup: string;
  discoveryPort: number;
  /** Directory for UNIX sockets (-u). */
  socketDir: string;
  forwardingThreads?: number;
  ageingTimeMs?: number;
  /** Serve the console on stdio (default true). */
  console?: boolean;
  log: Logger;
  input?: NodeJS.ReadableStream & { isTTY?: boolean };
  output?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** Runs until SIGINT/SIGTERM; resolves with the process exit code. */
export async function runSwitch(opts: StartOptions): Promise<number> {
  const log = opts.log;
  const sw = new Switch({ log, forwardingThreads: opts.forwardingThreads, ageingTimeMs: opts.ageingTimeMs });
  const registry = createCommandRegistry();
  const logLine = (m: string): void => log.error(m);

  if (opts.rcFile !== undefined) {
    try {
      await runRcFile(opts.rcFile, new ConsoleSession(registry, sw, { log: logLine }));
    } catch (err) {
      log.error(`not starting: ${isDivesError(err) ? err.message : String(err)}`);
      await sw.close();
      return 1;
    }
  }
  log.info(`DiVES switch up: unicast ${opts.host}:${opts.port}, discovery ${opts.discoveryGroup}:${opts.discoveryPort}, sockets in ${opts.socketDir}`);

  let stopping: Promise<void> | null = null;
  let stopConsole: (() => void) | null = null;
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      if (stopping !== null) return;
      log.info(`${signal}: shutting down`);
      stopConsole?.();
      stopping = sw.close().then(resolve, (err: unknown) => {
        log.error(`shutdown: ${String(err)}`);
        resolve();
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });

  if (opts.console !== false) {
    const con = startStdioConsole(new ConsoleSession(registry, sw, { log: logLine }), {
      input: opts.input ?? process.stdin,
      output: opts.output ?? process.stdout,
      log: (m) => log.info(m),
    });
    stopConsole = () => con.close();
    void con.done.then(() => {
      if (stopping === null) log.info('console input ended; the switch keeps running until SIGINT/SIGTERM');
    });
  }
  await stopped;
  log.info('stopped');
  return 0;
}
