// Runs `dives start` as a real child process, the way a person does: commands
// on its stdin, replies read from stdout, logs from stderr, stopped by a signal.
// Test code, main thread of the ava worker.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/run.js', import.meta.url));

export class DivesProcess {
  stdout = '';
  stderr = '';
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  private constructor(args: string[], opts: { cwd?: string }) {
    this.child = spawn(process.execPath, [BIN, 'start', '--log-level', 'debug', ...args], {
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Start a switch and wait until it says it is up (or has exited). */
  static async start(args: string[], opts: { cwd?: string; waitUp?: boolean } = {}): Promise<DivesProcess> {
    const p = new DivesProcess(args, opts);
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
    const deadline = Date.now() + timeoutMs;
    while (!re.test(get())) {
      if (Date.now() > deadline || this.child.exitCode !== null) {
        if (re.test(get())) return;
        throw new Error(`no ${re} on ${what} within ${timeoutMs} ms\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
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
