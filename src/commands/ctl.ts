// `dives ctl`: runs one console command on a running switch through its control
// socket and prints the reply (or, with no command, opens an interactive console).
// Only flags and printing here; the work is src/control/ctl-client.ts. Main thread.

import { Args, Command, Flags } from '@oclif/core';
import { resolve } from 'node:path';
import { isDivesError } from '../core/errors.js';
import { CtlClient, CtlExit, ctlSocketPath, runCtlCommand } from '../control/ctl-client.js';
import { runCtlConsole } from '../control/ctl-console.js';

export default class Ctl extends Command {
  static override summary = 'Run a console command on a running switch, or open a console on it.';

  // Paragraphs are single lines: oclif wraps them to the terminal's width.
  static override description = [
    'Talks to the switch that "dives start -u DIR" started, through its control socket DIR/dives.ctl.',
    'With a COMMAND it runs that one console command (see "dives ctl help", or docs/console.md), prints the reply and exits: 0 when the command ran, 1 when the switch refused it (an "error CODE: message" line on stderr, or {"error":{"code","message"}} with --json), 2 for bad flags, 3 when no switch answers on the socket. Give the command as separate words or as one quoted line.',
    '"dives ctl monitor" prints one line per event (one JSON object per line with --json) until Ctrl-C, SIGTERM or the end of the pipe it writes to, then exits 0; 3 if the switch goes away meanwhile.',
    'Without a COMMAND it opens an interactive console with the switch\'s prompt, history (~/.dives_history, or the file $DIVES_HISTORY names) and Tab completion of command words. Fed from a pipe, it runs each line and exits 1 if any of them failed.',
  ].join('\n\n');

  static override examples = [
    '<%= config.bin %> ctl show vlans',
    '<%= config.bin %> ctl -u /run/dives show peers',
    '<%= config.bin %> ctl --json show peers',
    '<%= config.bin %> ctl vlan 10 show macs',
    '<%= config.bin %> ctl vlan 10 tap tap3',
    '<%= config.bin %> ctl "vlan 20 listen unix /run/dives/vm20.sock"',
    '<%= config.bin %> ctl write /etc/dives/dives.rc',
    '<%= config.bin %> ctl monitor --json',
    '<%= config.bin %> ctl monitor peer-up peer-down',
    '<%= config.bin %> ctl -u /run/dives',
  ];

  static override strict = false;
  static override enableJsonFlag = true;

  static override args = {
    // ignoreStdin: without a COMMAND, stdin is the console's input, not an argument.
    command: Args.string({ required: false, ignoreStdin: true, description: 'console command to run (several words, or one quoted line); none opens a console' }),
  };

  static override flags = {
    'socket-dir': Flags.string({ char: 'u', helpValue: 'DIR', default: './', description: 'directory the switch keeps its sockets in (dives start -u DIR)' }),
    timeout: Flags.integer({ min: 0, default: 60, helpValue: 'SECONDS', description: 'give up on a command the switch has not answered after this long; 0 waits forever' }),
  };

  async run(): Promise<unknown> {
    const { argv, flags } = await this.parse(Ctl);
    const words = argv as string[];
    const dir = resolve(flags['socket-dir']);

    if (words.length === 0) {
      if (this.jsonEnabled()) return this.fail('EBADARG', '--json needs a command, e.g. "dives ctl --json show vlans"', CtlExit.USAGE);
      let client: CtlClient;
      try {
        client = await CtlClient.connect(ctlSocketPath(dir));
      } catch (err) {
        return this.fail('ECTLSOCK', isDivesError(err) ? err.message : String(err), CtlExit.UNREACHABLE);
      }
      process.exitCode = await runCtlConsole(client, { input: process.stdin, output: process.stdout });
      return undefined;
    }

    let result;
    const stop = stopSignal();
    try {
      result = await runCtlCommand(dir, words, {
        json: this.jsonEnabled(),
        timeoutMs: flags.timeout * 1000,
        signal: stop.signal,
        // stdout carries exactly one line per event; what the reply says is for people, on stderr.
        onStreamStart: (r) => {
          if (!this.jsonEnabled() && r.lines.length > 0) process.stderr.write(`${r.lines.join('\n')}\n`);
        },
        onStreamLine: (l) => void process.stdout.write(`${l}\n`),
        // `capture` without a FILE: the pcap goes to stdout (`dives ctl capture vlan 10 | tcpdump -nr -`).
        bytesOut: process.stdout,
      });
    } catch (err) {
      if (!isDivesError(err)) throw err;
      return this.fail(err.code, err.message, CtlExit.UNREACHABLE);
    } finally {
      stop.dispose();
    }
    const { reply, json } = result;
    if (!reply.ok) return this.fail(reply.code, reply.message, CtlExit.FAILED);
    if (result.streamEnded === 'switch-closed') return this.fail('ECTLSOCK', `the switch on ${ctlSocketPath(dir)} closed the connection`, CtlExit.UNREACHABLE);
    if (result.streamEnded !== undefined) return undefined;
    if (result.bytes === true) {
      // stdout held the pcap; what the reply says is for people.
      if (reply.lines.length > 0) process.stderr.write(`${reply.lines.join('\n')}\n`);
      return undefined;
    }
    if (this.jsonEnabled()) {
      // oclif prints what run() returns as JSON; a null document is printed here instead.
      if (json === null || json === undefined) this.logJson(null);
      return json ?? undefined;
    }
    if (reply.lines.length > 0) this.log(reply.lines.join('\n'));
    return undefined;
  }

  /** Report an error as oclif's --json convention or as the console's `error CODE: message` line, and set the exit code. */
  private fail(code: string, message: string, exit: number): undefined {
    if (this.jsonEnabled()) this.logJson({ error: { code, message } });
    else process.stderr.write(`error ${code}: ${message}\n`);
    process.exitCode = exit;
    return undefined;
  }
}

/**
 * What stops a streaming command (`monitor`): Ctrl-C, SIGTERM, or the reader of stdout
 * going away (`dives ctl monitor | head`). Listening from the start, so a signal that
 * lands while the command is sent stops it too.
 */
function stopSignal(): { signal: AbortSignal; dispose(): void } {
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  const onError = (err: NodeJS.ErrnoException): void => {
    if (err.code === 'EPIPE') stop();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.stdout.on('error', onError);
  return {
    signal: abort.signal,
    dispose: () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.stdout.off('error', onError);
    },
  };
}
