// The stdio console: reads commands line by line from stdin with node:readline,
// runs each through a ConsoleSession and writes the reply to stdout (logs go to
// stderr elsewhere). Prompts and tab completion only at a TTY; pipes, CI and
// systemd get plain line-in, reply-out. Runs on the main thread.

import * as readline from 'node:readline';
import type { ConsoleSession, Reply } from './console-session.js';

export interface StdioConsoleOptions {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream & { isTTY?: boolean };
  /** Diagnostics about the console itself (stdin closed, stdout failed); default: stderr. */
  log?: (message: string) => void;
  /**
   * Ctrl-C at a TTY prompt. readline puts the terminal in raw mode, so Ctrl-C
   * arrives as a keystroke, not a signal; the default re-raises SIGINT on this
   * process so the switch's own shutdown handler runs as it would without a console.
   */
  onInterrupt?: () => void;
}

export interface StdioConsole {
  /** Stop reading; a command already running still gets its reply. */
  close(): void;
  /** Resolves once input has ended (EOF or close()) and every reply is written. The switch keeps running. */
  done: Promise<void>;
}

/** What the stdio console prints instead of closing for `exit`, `end` or `quit` at switch level. */
export const EXIT_HINT = 'the console stays open while the switch runs; use Ctrl-C/SIGTERM to stop the switch';

/** The text a reply prints as: its lines, or one `error CODE: message` line. */
export function replyText(reply: Reply): string[] {
  return reply.ok ? reply.lines : [`error ${reply.code}: ${reply.message}`];
}

export function startStdioConsole(session: ConsoleSession, opts: StdioConsoleOptions): StdioConsole {
  const { input, output } = opts;
  const log = opts.log ?? ((m: string) => void process.stderr.write(`${m}\n`));
  const interactive = input.isTTY === true;
  const rl = readline.createInterface({
    input,
    output,
    terminal: interactive && output.isTTY === true,
    crlfDelay: Infinity,
    completer: (line: string): [string[], string] => {
      // A single match is a whole word: add the space a shell would, so the next Tab goes on.
      const [hits, partial] = session.complete(line);
      return [hits.length === 1 ? [`${hits[0]} `] : hits, partial];
    },
  });

  let closed = false;
  // Lines are run one after another in arrival order, so piped input sees the
  // same mode changes a person at the prompt would.
  let queue: Promise<void> = Promise.resolve();
  const { promise: done, resolve } = Promise.withResolvers<void>();

  const prompt = (): void => {
    if (!interactive || closed) return;
    rl.setPrompt(session.prompt);
    rl.prompt();
  };

  const write = (lines: string[]): void => {
    if (lines.length > 0) output.write(`${lines.join('\n')}\n`);
  };

  const onOutputError = (err: Error): void => {
    log(`console: cannot write replies (${err.message}); console stopped, the switch keeps running`);
    close();
  };

  const close = (): void => {
    if (closed) return;
    closed = true;
    rl.close();
  };

  rl.on('line', (line) => {
    queue = queue
      .then(async () => {
        const reply = await session.execute(line);
        write(replyText(reply));
        // The stdio console lives as long as the switch, so a request to close the
        // session becomes a hint instead; a socket transport closes the connection.
        if (reply.ok && reply.close) write([EXIT_HINT]);
        prompt();
      })
      .catch((err: unknown) => log(`console: ${err instanceof Error ? err.message : String(err)}`));
  });

  rl.on('SIGINT', opts.onInterrupt ?? (() => void process.kill(process.pid, 'SIGINT')));

  rl.on('close', () => {
    const eof = !closed;
    closed = true;
    void queue.then(() => {
      output.off('error', onOutputError);
      if (eof) log('console: input closed; the switch keeps running');
      resolve();
    });
  });

  output.on('error', onOutputError);
  prompt();
  return { close, done };
}
