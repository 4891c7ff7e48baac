// The session commands — `help`, `exit`, `end`, `quit` — and the session helpers every
// transport shares: the prompt of a level, tab completion of command words, and the
// hidden `complete LINE` and `prompt` commands through which `dives ctl` asks the
// switch for both over the control socket. Main thread.

import { DivesError } from '../../core/errors.js';
import type { CommandArea, CommandContext, CommandMode, CommandRegistry, CommandResult, CommandSpec, Level } from '../command-registry.js';
import { formatColumns, quote } from '../format.js';
import { command, isVid } from './args.js';

/** The prompt of a session at switch level (vid null) or in VLAN mode. */
export function promptFor(vid: number | null): string {
  return vid === null ? 'dives> ' : `dives(vlan ${vid})> `;
}

/**
 * Tab completion for a partly typed line at `level`: the command words that
 * may come next, and the partial word they replace. Follows a leading "json"
 * and a one-shot "vlan ID" prefix, which switch completion to VLAN-level words.
 */
export function completeLine(registry: CommandRegistry, level: Level, line: string): [string[], string] {
  const words = line.split(/\s+/).filter((w) => w !== '');
  const partial = /\s$/.test(line) || line === '' ? '' : (words.pop() ?? '');
  const extra: string[] = [];
  if (words[0] === 'json') words.shift();
  else if (words.length === 0) extra.push('json');
  if (words[0] === 'vlan') {
    if (words.length < 2 || !isVid(words[1])) return [[], partial];
    words.splice(0, 2);
    level = 'vlan';
  }
  if (words[0] === 'help') {
    // `help WORD...` takes words of commands at both levels, hidden ones included.
    const rest = words.slice(1);
    const both = new Set([...registry.complete(rest, partial, 'switch', true), ...registry.complete(rest, partial, 'vlan', true)]);
    return [[...both].sort(), partial];
  }
  const hits = registry.complete(words, partial, level);
  return [[...hits, ...extra.filter((w) => w.startsWith(partial))].sort(), partial];
}

function complete(ctx: CommandContext): CommandResult {
  const line = ctx.args.string('LINE');
  const [words, partial] = completeLine(ctx.registry, ctx.vid === null ? 'switch' : 'vlan', line);
  return { lines: words, json: { line, partial, words } };
}

function prompt(ctx: CommandContext): CommandResult {
  const text = promptFor(ctx.vid);
  return { lines: [text], json: { vid: ctx.vid, prompt: text } };
}

const LEVEL_TITLES: Record<CommandMode, string> = {
  switch: 'Switch level:',
  vlan: 'VLAN level (enter with "vlan ID", leave with "exit"):',
  any: 'Either level:',
};

function help(ctx: CommandContext): CommandResult {
  const words = ctx.args.words('WORD');
  const all = ctx.registry.list();
  const chosen = words.length === 0 ? all.filter((c) => !c.hidden) : all.filter((c) => words.every((w, i) => c.path[i] === w));
  if (chosen.length === 0) throw new DivesError('EBADCMD', `no command starts with ${quote(words.join(' '))}; try "help"`);

  // Columns are aligned across every group so the help reads as one table.
  const order: CommandMode[] = ['switch', 'vlan', 'any'];
  const sorted = order.flatMap((mode) => chosen.filter((c) => c.mode === mode));
  const rows = formatColumns(
    sorted.map((c) => [c.syntax, c.help]),
    '  ',
  );
  const lines: string[] = [];
  sorted.forEach((c, i) => {
    if (i === 0 || sorted[i - 1].mode !== c.mode) lines.push(LEVEL_TITLES[c.mode]);
    lines.push(rows[i]);
  });
  if (words.length === 0) {
    lines.push('Put "json" before a command for JSON output, e.g. "json show macs". "help debug" lists the debug commands.');
  }
  const json = { commands: sorted.map((c) => ({ syntax: c.syntax, help: c.help, mode: c.mode, hidden: c.hidden === true })) };
  return { lines, json };
}

const closeSession = (): CommandResult => ({ lines: [], json: { close: true }, close: true });

/**
 * The session commands, and hidden helpers for interactive clients. LINE is one word,
 * so a client quotes the partly typed line (`complete "show m"`) and a trailing space survives.
 */
export const SESSION_COMMANDS: readonly CommandSpec[] = [
  command({ mode: 'switch', syntax: 'exit', example: 'exit', handler: closeSession, help: 'End this control session (the stdio console cannot be ended).' }),
  command({ mode: 'switch', syntax: 'end', example: 'end', handler: closeSession, help: 'Same as "exit".' }),
  command({
    mode: 'any',
    syntax: 'help [WORD...]',
    example: 'help no',
    args: [{ name: 'WORD', rest: true }],
    handler: help,
    help: 'List the commands, or those that start with WORD... (hidden ones included).',
  }),
  command({ mode: 'any', syntax: 'quit', example: 'quit', handler: closeSession, help: 'End this control session from either level.' }),
  command({
    mode: 'any',
    syntax: 'complete LINE',
    example: 'complete "show r"',
    args: [{ name: 'LINE' }],
    hidden: true,
    handler: complete,
    help: 'List the command words that may complete LINE (quote it) at this level, one per line; used by `dives ctl`.',
  }),
  command({
    mode: 'any',
    syntax: 'prompt',
    example: 'prompt', exampleVid: 10,
    hidden: true,
    handler: prompt,
    help: 'Print the prompt of this session ("dives> " or "dives(vlan 10)> "); used by `dives ctl`.',
  }),
];

/** The session commands (help, exit, end, quit, complete): nothing to configure. */
export const SESSION_AREA: CommandArea = { commands: SESSION_COMMANDS };
