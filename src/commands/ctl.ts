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
    try {
      result = await runCtlCommand(dir, words, { json: this.jsonEnabled(), timeoutMs: flags.timeout * 1000 });
    } catch (err) {
      if (!isDivesError(err)) throw err;
      return this.fail(err.code, err.message, CtlExit.UNREACHABLE);
    }
    const { reply, json } = result;
    if (!reply.ok) return this.fail(reply.code, reply.message, CtlExit.FAILED);
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
