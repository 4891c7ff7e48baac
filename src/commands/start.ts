// `dives start`: parses the original DiVES options and runs a switch until
// SIGINT/SIGTERM. Only flags and printing here; the work is src/switch/run-switch.ts.
// Runs on the main thread.

import { Command, Flags } from '@oclif/core';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { createLogger, isLogLevel } from '../log.js';
import { runSwitch } from '../switch/run-switch.js';

export default class Start extends Command {
  static override summary = 'Run a DiVES switch on this host, with a control console on stdio.';

  static override description = `Starts one switch. Ports are attached with console commands (see "help" at the
dives> prompt, or docs/console.md), typed at the console or put in a run-control file given with -c.
Logs go to stderr; console replies go to stdout. Stop it with Ctrl-C or SIGTERM.`;

  static override examples = [
    '<%= config.bin %> start',
    '<%= config.bin %> start -c /etc/dives/dives.rc -u /run/dives',
    'printf "vlan 10\\ntap tap0\\nlisten 127.0.0.1 4000\\n" > dives.rc && sudo <%= config.bin %> start -c dives.rc',
  ];

  static override flags = {
    config: Flags.string({ char: 'c', helpValue: 'FILE', description: 'run-control file: console commands run at start; any error stops the start' }),
    host: Flags.string({ char: 'h', helpValue: 'ADDRESS', default: '127.0.0.1', description: 'unicast address this switch peers on' }),
    port: Flags.integer({ char: 'p', helpValue: 'PORT', default: 3333, min: 1, max: 65535, description: 'unicast UDP port this switch peers on' }),
    'discovery-port': Flags.integer({ char: 'd', helpValue: 'PORT', default: 3535, min: 1, max: 65535, description: 'discovery port' }),
    'discovery-group': Flags.string({ char: 'm', helpValue: 'ADDRESS', default: '239.13.13.13', description: 'discovery multicast address' }),
    'socket-dir': Flags.string({ char: 'u', helpValue: 'DIR', default: './', description: 'directory to store UNIX sockets in' }),
    'forwarding-threads': Flags.integer({ min: 1, max: 256, default: availableParallelism(), description: 'forwarding threads at most (default: available cores); past it, VLANs share the least-loaded thread' }),
    'ageing-time': Flags.integer({ min: 1, default: 300, helpValue: 'SECONDS', description: 'seconds a learned MAC lives without being seen' }),
    'log-level': Flags.string({ default: 'info', options: ['debug', 'info', 'warn', 'error', 'silent'], description: 'what to log on stderr' }),
    'no-console': Flags.boolean({ default: false, description: 'do not read commands from stdin (for daemons; use -c)' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Start);
    const level = flags['log-level'];
    const code = await runSwitch({
      rcFile: flags.config === undefined ? undefined : resolve(flags.config),
      host: flags.host,
      port: flags.port,
      discoveryGroup: flags['discovery-group'],
      discoveryPort: flags['discovery-port'],
      socketDir: resolve(flags['socket-dir']),
      forwardingThreads: flags['forwarding-threads'],
      ageingTimeMs: flags['ageing-time'] * 1000,
      console: !flags['no-console'],
      log: createLogger(isLogLevel(level) ? level : 'info'),
    });
    this.exit(code);
  }
}
