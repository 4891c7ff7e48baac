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
  let failures = 0;
  let quitting = false;
  let lost = false;
  /** A command's stream is running: the next line only stops it. */
  let streaming = false;

  const rl = consoleReadline(client, opts, terminal, historyFile);
  const write = (lines: string[]): void => {
    if (lines.length > 0) output.write(`${lines.join('\n')}\n`);
  };

  const prompt = async (): Promise<void> => {
    if (!terminal || quitting) return;
    const reply = await client.request('prompt');
    rl.setPrompt(reply.ok && reply.lines.length > 0 ? reply.lines[0] : 'dives> ');
    rl.prompt();
  };

  // The switch closing the connection ends the console: after `quit`, or because it stopped.
  void client.closed.then(() => {
    if (!quitting && !client.ended) lost = true;
    rl.close();
  });

  let queue: Promise<void> = Promise.resolve();
  const stopStream = async (): Promise<void> => {
    streaming = false;
    await client.stopStream();
    await prompt();
  };
  rl.on('line', (line) => {
    queue = queue.then(async () => {
      if (quitting || lost) return;
      if (streaming) return void (await stopStream().catch(() => undefined));
      if (line.trim() === '') return void (await prompt());
      try {
        const reply = await client.stream(line, (l) => write([l]));
        write(replyLines(reply));
        if (!reply.ok) failures++;
        if (reply.ok && reply.stream === true) {
          streaming = true;
          if (terminal) write(['(Enter or Ctrl-C stops it)']);
          return;
        }
        // `quit`, and `exit` at switch level, end the session; the switch closes the connection next.
        if (reply.ok && reply.close) {
          quitting = true;
          rl.close();
          return;
        }
        await prompt();
      } catch (err) {
        if (!quitting) {
          lost = true;
          output.write(`${isDivesError(err) ? err.message : String(err)}\n`);
        }
        rl.close();
      }
    });
  });
  rl.on('SIGINT', () => {
    output.write('\n');
    if (streaming) {
      queue = queue.then(() => stopStream().catch(() => undefined));
      return;
    }
    rl.close();
  });

  const closed = new Promise<void>((resolve) => rl.once('close', resolve));
  if (terminal) {
    write([`Connected to the DiVES switch on ${client.path}. "help" lists the commands, Tab completes them, "quit" leaves.`]);
    await prompt().catch(() => undefined);
  }
  await closed;
  await queue;
  saveHistory(historyFile, (rl as readline.Interface & { history: string[] }).history ?? []);
  client.end();
  if (lost) {
    output.write(`the switch on ${client.path} closed the connection\n`);
    return CtlExit.UNREACHABLE;
  }
  return failures > 0 && !terminal ? CtlExit.FAILED : CtlExit.OK;
}
