// The running-config commands — `show running-config` and `write FILE` — as
// CommandRegistry records; the rendering is src/control/running-config.ts. Main thread.

import { resolve } from 'node:path';
import { DivesError } from '../../core/errors.js';
import type { CommandArea, CommandContext, CommandResult, CommandSpec } from '../command-registry.js';
import { quote } from '../format.js';
import { renderRunningConfig, writeFileAtomic } from '../running-config.js';
import { command } from './args.js';

/** FILE for `write`: a path, absolute or relative to the switch's working directory. */
export function parseFile(word: string): string {
  if (word === '' || word.includes('\0')) throw new DivesError('EBADARG', `FILE must be a non-empty path, got ${quote(word)}`);
  return word;
}

async function showRunningConfig(ctx: CommandContext): Promise<CommandResult> {
  const config = await renderRunningConfig(ctx.sw, ctx.registry.areas);
  return { lines: config.lines, json: config };
}

async function write(ctx: CommandContext): Promise<CommandResult> {
  const path = resolve(ctx.args.string('FILE'));
  const { lines } = await renderRunningConfig(ctx.sw, ctx.registry.areas);
  await writeFileAtomic(path, `${lines.join('\n')}\n`);
  return { lines: [`wrote the running-config to ${path} (${lines.length} lines)`], json: { written: { path, lines: lines.length } } };
}

export const RUNNING_CONFIG_COMMANDS: readonly CommandSpec[] = [
  command({
    mode: 'any',
    syntax: 'show running-config',
    example: 'show running-config',
    handler: showRunningConfig,
    help: 'Print the VLANs, TAPs, listeners, VXLAN settings and static peers as an rc file that recreates them.',
  }),
  command({
    mode: 'any',
    syntax: 'write FILE',
    example: 'write /tmp/dives-example.rc',
    args: [{ name: 'FILE', parse: parseFile }],
    handler: write,
    help: 'Save the running-config to FILE atomically (temporary file, then rename), for `dives start -c FILE`.',
  }),
];

/** `show running-config` and `write`: they print the other areas' configuration. */
export const RUNNING_CONFIG_AREA: CommandArea = { commands: RUNNING_CONFIG_COMMANDS };
