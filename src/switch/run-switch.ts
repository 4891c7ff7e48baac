// runSwitch: what `dives start` does once its flags are parsed — build the
// switch, apply the rc file (refusing to start half-configured), serve the
// stdio console, and shut everything down cleanly on SIGINT/SIGTERM.
// Runs on the main thread.

import { createCommandRegistry } from '../control/commands/create-command-registry.js';
import { ConsoleSession } from '../control/console-session.js';
import { runRcFile } from '../control/rc-file.js';
import { startStdioConsole } from '../control/stdio-console.js';
import { startControlServer, type ControlServer } from '../control/control-server.js';
import { isDivesError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { Switch } from './switch.js';
import { DEFAULT_DISCOVERY_INTERVAL_S, DEFAULT_MULTICAST_TTL, DEFAULT_PEER_EXPIRY, resolvePeeringOptions, type PeeringFlags } from '../peer/peering-options.js';

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
  /** Group allowed to use the control socket (--ctl-group): mode 0660 instead of 0600. */
  ctlGroup?: string;
  forwardingThreads?: number;
  cpuAffinity?: boolean;
  /** Offloaded frames between peers (--no-peer-offload turns them off). */
  peerOffload?: boolean;
  ageingTimeMs?: number;
  /** QEMU connections at most (--max-connections), and the memory budget (--memory-budget), in bytes. */
  maxConnections?: number;
  memoryBudgetBytes?: number;
  /** Discovery and liveness flags (--no-discovery, --discovery-interval, ...); defaults when left out. */
  peering?: Partial<Pick<PeeringFlags, 'discovery' | 'interval' | 'expiry' | 'ttl' | 'multicastIf' | 'maxPeers' | 'peerRate'>>;
  /** Serve the console on stdio (default true). */
  console?: boolean;
  log: Logger;
  input?: NodeJS.ReadableStream & { isTTY?: boolean };
  output?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** The peering flags `dives start` was given, with the defaults for those left out. */
function peeringFlags(opts: StartOptions): PeeringFlags {
  return {
    host: opts.host,
    port: opts.port,
    group: opts.discoveryGroup,
    discoveryPort: opts.discoveryPort,
    discovery: true,
    interval: DEFAULT_DISCOVERY_INTERVAL_S,
    expiry: DEFAULT_PEER_EXPIRY,
    ttl: DEFAULT_MULTICAST_TTL,
    ...opts.peering,
  };
}

/** Runs until SIGINT/SIGTERM; resolves with the process exit code. */
export async function runSwitch(opts: StartOptions): Promise<number> {
  const log = opts.log;
  // The signal handlers go in before anything else: a SIGTERM that lands while the
  // switch starts (or just after it says it is up) must shut it down cleanly, not
  // meet Node's default action and leave the control socket and TAPs behind.
  const signals = new SignalLatch();
  const sw = new Switch({ log, forwardingThreads: opts.forwardingThreads, cpuAffinity: opts.cpuAffinity, peerOffload: opts.peerOffload, ageingTimeMs: opts.ageingTimeMs, maxConnections: opts.maxConnections, memoryBudgetBytes: opts.memoryBudgetBytes });
  const registry = createCommandRegistry();
  const logLine = (m: string): void => log.error(m);

  // The control socket is claimed before anything else is set up, so a second
  // switch on the same -u DIR refuses before it touches a TAP or a port.
  let ctl: ControlServer;
  try {
    ctl = await startControlServer({ dir: opts.socketDir, group: opts.ctlGroup, registry, sw, log });
  } catch (err) {
    log.error(`not starting: ${isDivesError(err) ? err.message : String(err)}`);
    await sw.close();
    signals.dispose();
    return 1;
  }

  // Peering starts before the rc file, so `peer HOST PORT` lines in it work.
  try {
    await sw.startPeering(await resolvePeeringOptions(peeringFlags(opts)));
  } catch (err) {
    log.error(`not starting: ${isDivesError(err) ? err.message : String(err)}`);
    await ctl.close();
    await sw.close();
    signals.dispose();
    return 1;
  }

  if (opts.rcFile !== undefined) {
    try {
      await runRcFile(opts.rcFile, new ConsoleSession(registry, sw, { log: logLine }));
    } catch (err) {
      log.error(`not starting: ${isDivesError(err) ? err.message : String(err)}`);
      await ctl.close();
      await sw.close();
      return 1;
    }
  }
  ctl.ready();
  const discovery = opts.peering?.discovery === false ? 'no discovery (static peers only)' : `discovery ${opts.discoveryGroup}:${opts.discoveryPort}`;
  log.info(`DiVES switch up: unicast ${opts.host}:${opts.port}, ${discovery}, sockets in ${opts.socketDir}`);

  let stopping: Promise<void> | null = null;
  let stopConsole: (() => void) | null = null;
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

  // Listening last: a signal caught during start-up is handed over here, after the console exists to be closed.
  const stopped = new Promise<void>((resolve) => {
    signals.onSignal((signal) => {
      if (stopping !== null) {
        // A second Ctrl-C is the user saying "now": leave without waiting for the clean shutdown.
        log.warn(`${signal} again: exiting without finishing the shutdown`);
        process.exit(1);
      }
      log.info(`${signal}: shutting down`);
      stopConsole?.();
      // The control socket goes first, so no new command arrives while the switch closes.
      stopping = ctl
        .close()
        .then(() => sw.close())
        .then(resolve, (err: unknown) => {
          log.error(`shutdown: ${String(err)}`);
          resolve();
        });
    });
  });
  await stopped;
  signals.dispose();
  log.info('stopped');
  return 0;
}

/**
 * SIGINT/SIGTERM caught from the moment it is made; a signal that lands before
 * anyone listens is kept and handed over when onSignal is called; every later
 * signal goes to the listener too.
 */
class SignalLatch {
  private caught: string | null = null;
  private listener: ((signal: string) => void) | null = null;
  private readonly handlers = new Map<NodeJS.Signals, () => void>();

  constructor(names: NodeJS.Signals[] = ['SIGINT', 'SIGTERM']) {
    for (const name of names) {
      const handler = (): void => this.fire(name);
      this.handlers.set(name, handler);
      process.on(name, handler);
    }
  }

  onSignal(listener: (signal: string) => void): void {
    this.listener = listener;
    if (this.caught !== null) listener(this.caught);
  }

  dispose(): void {
    for (const [name, handler] of this.handlers) process.off(name, handler);
    this.handlers.clear();
  }

  private fire(name: string): void {
    if (this.listener !== null) this.listener(name);
    else this.caught ??= name;
  }
}
