// SwitchProcess: one `dives start` child of the robustness suite, in the runner's own network
// namespace or in another (`ip netns exec`, which execs, so the child's pid is the switch's).
// Its stderr is written to a log file and counted line by line, so a scenario can ask how many
// log lines it caused and wait for one; only the last lines are kept in memory, since a log
// flood is one of the things under test. Runs on the hostile runner's main thread
// (test/hostile/run-inside.ts).

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../../bin/run.js', import.meta.url));
const TAIL_LINES = 4000;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** When it exited (Date.now()). */
  at: number;
}

interface Watcher {
  re: RegExp;
  from: number;
  resolve: (line: string) => void;
}

export class SwitchProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Lines written to stderr so far. */
  lines = 0;
  exit: Exit | null = null;
  readonly exited: Promise<Exit>;
  /** The last TAIL_LINES lines with their numbers. */
  private readonly tail: { n: number; text: string }[] = [];
  private partial = '';
  private readonly watchers = new Set<Watcher>();
  private readonly log: WriteStream;

  private constructor(
    readonly name: string,
    args: string[],
    opts: { netns?: string; cwd: string; logFile: string },
  ) {
    const argv = [process.execPath, BIN, 'start', ...args];
    const [file, ...rest] = opts.netns === undefined ? argv : ['ip', 'netns', 'exec', opts.netns, ...argv];
    this.log = createWriteStream(opts.logFile, { flags: 'a' });
    this.child = spawn(file, rest, { cwd: opts.cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    if (this.child.pid === undefined) throw new Error(`${name}: cannot spawn ${file}`);
    this.pid = this.child.pid;
    this.child.stderr?.on('data', (d: Buffer) => this.onData(d));
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal, at: Date.now() };
        this.log.end();
        resolve(this.exit);
      }),
    );
  }

  /** Start a switch and wait until it says it is up; throws with its last lines if it does not. */
  static async start(name: string, args: string[], opts: { netns?: string; cwd: string; logFile: string }): Promise<SwitchProcess> {
    const p = new SwitchProcess(name, args, opts);
    try {
      await p.waitLine(/DiVES switch up/, 30_000, 0);
    } catch (err) {
      p.child.kill('SIGKILL');
      throw err;
    }
    return p;
  }

  alive(): boolean {
    return this.exit === null;
  }

  /** Resolves with the first line numbered `from` or later that matches; rejects after timeoutMs or at exit. */
  waitLine(re: RegExp, timeoutMs: number, from = this.lines): Promise<string> {
    const seen = this.tail.find((l) => l.n >= from && re.test(l.text));
    if (seen !== undefined) return Promise.resolve(seen.text);
    return new Promise((resolve, reject) => {
      const w: Watcher = { re, from, resolve: () => undefined };
      const timer = setTimeout(() => {
        this.watchers.delete(w);
        reject(new Error(`${this.name}: no log line ${re} within ${timeoutMs} ms; last lines:\n${this.tailText(20)}`));
      }, timeoutMs);
      const onExit = (): void => {
        this.watchers.delete(w);
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${JSON.stringify(this.exit)}) before logging ${re}; last lines:\n${this.tailText(20)}`));
      };
      void this.exited.then(onExit);
      w.resolve = (line) => {
        clearTimeout(timer);
        this.watchers.delete(w);
        resolve(line);
      };
      this.watchers.add(w);
    });
  }

  /** The last `n` lines, for error messages. */
  tailText(n: number): string {
    return this.tail
      .slice(-n)
      .map((l) => `  ${l.text}`)
      .join('\n');
  }

  /** Lines numbered `from` or later still in the tail that match `re`. */
  linesMatching(re: RegExp, from: number): string[] {
    return this.tail.filter((l) => l.n >= from && re.test(l.text)).map((l) => l.text);
  }

  signal(sig: NodeJS.Signals): void {
    if (this.exit === null) this.child.kill(sig);
  }

  /** SIGTERM, then SIGKILL after graceMs; resolves with how it exited. */
  async stop(graceMs = 10_000): Promise<Exit> {
    if (this.exit !== null) return this.exit;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const e = await this.exited;
    clearTimeout(timer);
    return e;
  }

  private onData(d: Buffer): void {
    this.log.write(d);
    const parts = (this.partial + d.toString('utf8')).split('\n');
    this.partial = parts.pop() ?? '';
    for (const text of parts) {
      const n = this.lines++;
      this.tail.push({ n, text });
      // Trimmed in blocks, so a log flood costs one splice per TAIL_LINES lines, not one per line.
      if (this.tail.length > 2 * TAIL_LINES) this.tail.splice(0, this.tail.length - TAIL_LINES);
      for (const w of [...this.watchers]) if (n >= w.from && w.re.test(text)) w.resolve(text);
    }
  }
}
