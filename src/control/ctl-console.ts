// The interactive console of `dives ctl` with no command: a readline prompt over
// a CtlClient, with the switch's own prompt, history kept across runs, and Tab
// completion of command words answered by the switch (`complete LINE`). Without
// a TTY it reads lines and prints replies. A streaming command (`monitor`) prints its
// lines until the next line typed (Enter) or Ctrl-C stops it. Main thread of the
// `dives ctl` process.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import * as readline from 'node:readline';
import { isDivesError } from '../core/errors.js';
import type { ClientReply } from './control-protocol.js';
import { CtlExit, type CtlClient } from './ctl-client.js';
import { quoteWord } from './format.js';

/** Lines of history kept in the history file. */
export const HISTORY_SIZE = 1000;

export interface CtlConsoleOptions {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream & { isTTY?: boolean };
  /** Force terminal mode on or off; default: both streams are TTYs. */
  terminal?: boolean;
  /** Where history is kept between runs; null keeps none. Default: defaultHistoryFile(). */
  historyFile?: string | null;
}

/** $DIVES_HISTORY, or ~/.dives_history; DIVES_HISTORY= (empty) keeps no history. */
export function defaultHistoryFile(): string | null {
  const env = process.env.DIVES_HISTORY;
  if (env !== undefined) return env === '' ? null : env;
  return join(homedir(), '.dives_history');
}

function loadHistory(file: string | null): string[] {
  if (file === null) return [];
  try {
    // readline wants the newest entry first; the file has it last, as shells do.
    return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').slice(-HISTORY_SIZE).reverse();
  } catch {
    return [];
  }
}

function saveHistory(file: string | null, history: readonly string[]): void {
  if (file === null || history.length === 0) return;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${[...history].slice(0, HISTORY_SIZE).reverse().join('\n')}\n`, { mode: 0o600 });
  } catch {
    // History is a convenience; a read-only home directory must not fail the session.
  }
}

/** A reply as the console prints it: its lines, or one `error CODE: message` line. */
export function replyLines(reply: ClientReply): string[] {
  return reply.ok ? reply.lines : [...reply.lines, `error ${reply.code}: ${reply.message}`];
}

/** Tab completion asked of the switch (`complete LINE`), which knows the session's level. */
function switchCompleter(client: CtlClient): (line: string, callback: (err: Error | null, result: [string[], string]) => void) => void {
  return (line, callback) => {
    client
      .request(`json complete ${quoteWord(line)}`)
      .then((reply) => {
        if (!reply.ok) return callback(null, [[], line]);
        const { words, partial } = JSON.parse(reply.lines[0]) as { words: string[]; partial: string };
        // A single match is a whole word: add the space a shell would, so the next Tab goes on.
        callback(null, [words.length === 1 ? [`${words[0]} `] : words, partial]);
      })
      .catch(() => callback(null, [[], line]));
  };
}

/** The console's line reader: history and completion from the switch on a terminal. */
function consoleReadline(client: CtlClient, opts: CtlConsoleOptions, terminal: boolean, historyFile: string | null): readline.Interface {
  return readline.createInterface({
    input: opts.input,
    output: opts.output,
    terminal,
    crlfDelay: Infinity,
    history: loadHistory(historyFile),
    historySize: HISTORY_SIZE,
    removeHistoryDuplicates: true,
    ...(terminal ? { completer: switchCompleter(client) } : {}),
  });
}

/**
 * Run the console until input ends, the user says `quit`, or the switch goes
 * away. Resolves with the exit code: UNREACHABLE if the switch went away, FAILED
 * without a TTY when any command failed (so a piped script can tell), else OK.
 */
export async function runCtlConsole(client: CtlClient, opts: CtlConsoleOptions): Promise<number> {
  const { input, output } = opts;
  const terminal = opts.terminal ?? (input.isTTY === true && output.isTTY === true);
  const historyFile = terminal ? (opts.historyFile === undefined ? defaultHistoryFile() : opts.historyFile) : null;
  const rl = consoleReadline(client, opts, terminal, historyFile);
  const run = new ConsoleRun(client, rl, output, terminal);
  // The switch closing the connection ends the console: after `quit`, or because it stopped.
  void client.closed.then(() => {
    if (!run.quitting && !client.ended) run.lost = true;
    rl.close();
  });
  rl.on('line', (line) => run.line(line));
  rl.on('SIGINT', () => run.interrupt());

  const closed = new Promise<void>((resolve) => rl.once('close', resolve));
  if (terminal) {
    run.write([`Connected to the DiVES switch on ${client.path}. "help" lists the commands, Tab completes them, "quit" leaves.`]);
    await run.prompt().catch(() => undefined);
  }
  await closed;
  await run.done();
  saveHistory(historyFile, (rl as readline.Interface & { history: string[] }).history ?? []);
  client.end();
  if (run.lost) {
    output.write(`the switch on ${client.path} closed the connection\n`);
    return CtlExit.UNREACHABLE;
  }
  return run.failures > 0 && !terminal ? CtlExit.FAILED : CtlExit.OK;
}

/** One console's lines, sent one at a time in order, and what came of them (runCtlConsole). */
class ConsoleRun {
  failures = 0;
  quitting = false;
  lost = false;
  /** A command's stream is running: the next line only stops it. */
  private streaming = false;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: CtlClient,
    private readonly rl: readline.Interface,
    private readonly output: NodeJS.WritableStream,
    private readonly terminal: boolean,
  ) {}

  write(lines: string[]): void {
    if (lines.length > 0) this.output.write(`${lines.join('\n')}\n`);
  }

  async prompt(): Promise<void> {
    if (!this.terminal || this.quitting) return;
    const reply = await this.client.request('prompt');
    this.rl.setPrompt(reply.ok && reply.lines.length > 0 ? reply.lines[0] : 'dives> ');
    this.rl.prompt();
  }

  /** Every line sent so far has been answered. */
  done(): Promise<void> {
    return this.queue;
  }

  private async stopStream(): Promise<void> {
    this.streaming = false;
    await this.client.stopStream();
    await this.prompt();
  }

  line(line: string): void {
    this.queue = this.queue.then(() => this.send(line));
  }

  /** Ctrl-C stops a stream, or leaves. */
  interrupt(): void {
    this.output.write('\n');
    if (this.streaming) {
      this.queue = this.queue.then(() => this.stopStream().catch(() => undefined));
      return;
    }
    this.rl.close();
  }

  private async send(line: string): Promise<void> {
    if (this.quitting || this.lost) return;
    if (this.streaming) return void (await this.stopStream().catch(() => undefined));
    if (line.trim() === '') return void (await this.prompt());
    try {
      const reply = await this.client.stream(line, (l) => this.write([l]));
      this.write(replyLines(reply));
      if (!reply.ok) this.failures++;
      if (reply.ok && reply.stream === true) {
        this.streaming = true;
        if (this.terminal) this.write(['(Enter or Ctrl-C stops it)']);
        return;
      }
      // `quit`, and `exit` at switch level, end the session; the switch closes the connection next.
      if (reply.ok && reply.close) {
        this.quitting = true;
        this.rl.close();
        return;
      }
      await this.prompt();
    } catch (err) {
      if (!this.quitting) {
        this.lost = true;
        this.output.write(`${isDivesError(err) ? err.message : String(err)}\n`);
      }
      this.rl.close();
    }
  }
}
