// runSwitch: what `dives start` does once its flags are parsed — build the
// switch, apply the rc file (refusing to start half-configured), serve the
// stdio console, and shut everything down cleanly on SIGINT/SIGTERM.
// Runs on the main thread.

import { createCommandRegistry } from '../control/commands/create-command-registry.js';
import type { CommandRegistry } from '../control/command-registry.js';
import { ConsoleSession } from '../control/console-session.js';
import { runRcFile } from '../control/rc-file.js';
import { startStdioConsole } from '../control/stdio-console.js';
import { startControlServer, type ControlServer } from '../control/control-server.js';
import { isDivesError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { Switch } from './switch.js';
import { parseMetricsAddress } from '../metrics/metrics-address.js';
import { startMetricsServer, type MetricsServer } from '../metrics/metrics-server.js';
import { resolveVxlanSettings } from '../vxlan/vxlan-sockets.js';
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
  /** --vxlan-port, --vxlan-local, --vxlan-max-vteps, as given; defaults when left out. */
  vxlan?: { port?: number; local?: string; maxVteps?: number };
  /** Discovery and liveness flags (--no-discovery, --discovery-interval, ...); defaults when left out. */
  peering?: Partial<Pick<PeeringFlags, 'discovery' | 'interval' | 'expiry' | 'ttl' | 'multicastIf' | 'maxPeers' | 'peerRate' | 'discoveryFormat' | 'keyFile' | 'encrypt' | 'maxClockSkew'>>;
  /** Serve Prometheus metrics at http://HOST:PORT/metrics (--metrics HOST:PORT, src/metrics/); off when left out. */
  metrics?: string;
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

/**
 * Start-up, step by step: the switch, the control socket (claimed before anything else is
 * set up, so a second switch on the same -u DIR refuses before it touches a TAP or a port),
 * peering (before the rc file, so `peer HOST PORT` lines in it work), the rc file, then
 * metrics (so the first scrape sees the configured switch). A failing step logs
 * "not starting", undoes the steps before it and gives null.
 */
async function startUp(opts: StartOptions, signals: SignalLatch): Promise<{ sw: Switch; ctl: ControlServer; registry: CommandRegistry; metrics: MetricsServer | null } | null> {
  const log = opts.log;
  const undo: (() => Promise<void>)[] = [];
  try {
    const vxlan = resolveVxlanSettings(opts.vxlan);
    const metricsAt = opts.metrics === undefined ? null : parseMetricsAddress(opts.metrics);
    // The flags and the key file are checked before anything is made: a bad one leaves nothing behind.
    const peering = await resolvePeeringOptions(peeringFlags(opts));
    const sw = new Switch({ log, forwardingThreads: opts.forwardingThreads, cpuAffinity: opts.cpuAffinity, peerOffload: opts.peerOffload, ageingTimeMs: opts.ageingTimeMs, maxConnections: opts.maxConnections, memoryBudgetBytes: opts.memoryBudgetBytes, vxlan });
    undo.push(() => sw.close());
    const registry = createCommandRegistry();
    const ctl = await startControlServer({ dir: opts.socketDir, group: opts.ctlGroup, registry, sw, log });
    undo.unshift(() => ctl.close());
    await sw.startPeering(peering);
    if (opts.rcFile !== undefined) await runRcFile(opts.rcFile, new ConsoleSession(registry, sw, { log: (m) => log.error(m) }));
    const metrics = metricsAt === null ? null : await startMetricsServer({ address: metricsAt, registry, sw, log });
    return { sw, ctl, registry, metrics };
  } catch (err) {
    log.error(`not starting: ${isDivesError(err) ? err.message : String(err)}`);
    for (const step of undo) await step();
    signals.dispose();
    return null;
  }
}

/** Runs until SIGINT/SIGTERM; resolves with the process exit code. */
export async function runSwitch(opts: StartOptions): Promise<number> {
  const log = opts.log;
  // The signal handlers go in before anything else: a SIGTERM that lands while the
  // switch starts (or just after it says it is up) must shut it down cleanly, not
  // meet Node's default action and leave the control socket and TAPs behind.
  const signals = new SignalLatch();
  const up = await startUp(opts, signals);
  if (up === null) return 1;
  const { sw, ctl, registry, metrics } = up;
  const logLine = (m: string): void => log.error(m);
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
        .then(() => metrics?.close())
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
