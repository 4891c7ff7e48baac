// Runs `dives start` as a real child process, the way a person does: commands
// on its stdin, replies read from stdout, logs from stderr, stopped by a signal.
// Test code, main thread of the ava worker.

import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { until } from './until.js';

const BIN = fileURLToPath(new URL('../../../bin/run.js', import.meta.url));

export class DivesProcess {
  stdout = '';
  stderr = '';
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  private constructor(args: string[], opts: { cwd?: string; netns?: string }) {
    const argv = [process.execPath, BIN, 'start', '--log-level', 'debug', ...args];
    // `ip netns exec` execs the command, so the child is still the switch itself.
    const [file, ...rest] = opts.netns === undefined ? argv : ['ip', 'netns', 'exec', opts.netns, ...argv];
    this.child = spawn(file, rest, {
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /**
   * Start a switch and wait until it says it is up (or has exited). `netns` runs it
   * inside that network namespace. Unless `args` give -p or -d, each gets a free UDP
   * port, so switches of concurrent tests neither collide on the peer port nor find
   * each other by discovery.
   */
  static async start(args: string[], opts: { cwd?: string; waitUp?: boolean; netns?: string } = {}): Promise<DivesProcess> {
    const given = (short: string, long: string): boolean => args.some((a) => a === short || a === long || a.startsWith(`${long}=`));
    const isolation: string[] = [];
    if (opts.netns === undefined && !given('-p', '--port')) isolation.push('-p', String(await freeUdpPort()));
    if (opts.netns === undefined && !given('-d', '--discovery-port')) isolation.push('-d', String(await freeUdpPort()));
    const p = new DivesProcess([...isolation, ...args], opts);
    if (opts.waitUp !== false) await p.waitStderr(/DiVES switch up|not starting/, 20_000);
    return p;
  }

  async waitStderr(re: RegExp, timeoutMs = 10_000): Promise<void> {
    await this.waitText(() => this.stderr, re, timeoutMs, 'stderr');
  }

  async waitStdout(re: RegExp, timeoutMs = 10_000): Promise<void> {
    await this.waitText(() => this.stdout, re, timeoutMs, 'stdout');
  }

  private async waitText(get: () => string, re: RegExp, timeoutMs: number, what: string): Promise<void> {
    const output = (): string => `stdout:\n${this.stdout}\nstderr:\n${this.stderr}`;
    await until(() => re.test(get()), timeoutMs, `${re} on ${what}`, {
      everyMs: 25,
      detail: output,
      giveUp: () => (this.child.exitCode !== null ? `dives exited (${this.child.exitCode})\n${output()}` : undefined),
    });
  }

  /** Type a command at the console; resolves with the reply text once `until` appears after it. */
  async command(line: string, until: RegExp, timeoutMs = 10_000): Promise<string> {
    const mark = this.stdout.length;
    this.child.stdin?.write(`${line}\n`);
    await this.waitText(() => this.stdout.slice(mark), until, timeoutMs, 'stdout');
    return this.stdout.slice(mark);
  }

  /** SIGTERM (or another signal) and wait for the exit code; SIGKILL after a grace period. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/** A UDP port nothing on 127.0.0.1 is bound to right now. */
async function freeUdpPort(): Promise<number> {
  const sock = createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const { port } = sock.address();
  await new Promise<void>((resolve) => sock.close(resolve));
  return port;
}
