// Session helpers shared by every transport: the prompt of a level, tab completion
// of command words, and the hidden `complete LINE` and `prompt` commands through
// which `dives ctl` asks the switch for both over the control socket. Main thread.

import type { CommandContext, CommandRegistry, CommandResult, CommandSpec, Level } from './command-registry.js';
import { VID_MAX, VID_MIN } from '../peer/wire/peer-datagram.js';

/** The prompt of a session at switch level (vid null) or in VLAN mode. */
export function promptFor(vid: number | null): string {
  return vid === null ? 'dives> ' : `dives(vlan ${vid})> `;
}

/** True for a word `vlan ID` accepts; the same rule as parseVid, without its error. */
function isVid(word: string): boolean {
  const n = /^[0-9]{1,4}$/.test(word) ? Number(word) : NaN;
  return n >= VID_MIN && n <= VID_MAX;
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

/**
 * Hidden helpers for interactive clients. LINE is one word, so a client quotes
 * the partly typed line (`complete "show m"`) and a trailing space survives.
 */
export const SESSION_COMMANDS: readonly CommandSpec[] = [
  {
    path: ['complete'],
    syntax: 'complete LINE',
    mode: 'any',
    args: [{ name: 'LINE' }],
    hidden: true,
    handler: complete,
    help: 'List the command words that may complete LINE (quote it) at this level, one per line; used by `dives ctl`.',
  },
  {
    path: ['prompt'],
    syntax: 'prompt',
    mode: 'any',
    args: [],
    hidden: true,
    handler: prompt,
    help: 'Print the prompt of this session ("dives> " or "dives(vlan 10)> "); used by `dives ctl`.',
  },
];
