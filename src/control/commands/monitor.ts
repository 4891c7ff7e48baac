// The `monitor` command: the switch's events (src/core/event-kinds.ts), one line each
// as they happen — all of them, or only the KINDs named — until the client sends a line
// or closes its side. Its reply says what it watches; the events follow as the reply's
// stream (src/control/command-stream.ts), which only the control socket carries
// (`dives ctl monitor`); the stdio console refuses it, its log has the same events.
// The handler only calls SwitchControl; main thread.

import { DivesError } from '../../core/errors.js';
import { EVENT_KIND_NAMES, type EventKind } from '../../core/event-kinds.js';
import { eventStreamOf } from '../event-stream.js';
import type { CommandArea, CommandContext, CommandResult, CommandSpec } from '../command-registry.js';
import { quote } from '../format.js';
import { command } from './args.js';

/** The kinds a monitor may ask for: every kind the bus carries (events-dropped is each monitor's own). */
export const MONITOR_KINDS: readonly EventKind[] = EVENT_KIND_NAMES.filter((k) => k !== 'events-dropped');

function parseKinds(words: readonly string[]): EventKind[] {
  for (const w of words) {
    if (!(MONITOR_KINDS as readonly string[]).includes(w)) throw new DivesError('EBADARG', `KIND must be one of ${MONITOR_KINDS.join(', ')}; got ${quote(w)}`);
  }
  return [...new Set(words as EventKind[])];
}

function monitor(ctx: CommandContext): CommandResult {
  const kinds = parseKinds(ctx.args.words('KIND'));
  const what = kinds.length === 0 ? 'every event' : kinds.join(', ');
  return {
    lines: [`monitoring ${what}; a line sent, or closing the connection, stops it`],
    json: { kinds: kinds.length === 0 ? MONITOR_KINDS : kinds },
    stream: eventStreamOf(ctx.sw.events, kinds.length === 0 ? null : new Set(kinds)),
  };
}

export const MONITOR_COMMANDS: readonly CommandSpec[] = [
  command({
    mode: 'any',
    syntax: 'monitor [KIND...]',
    example: 'monitor',
    args: [{ name: 'KIND', rest: true }],
    handler: monitor,
    help: 'Print each event as it happens (peers up and down, ports, VMs, MAC moves and flaps, thread restarts, captures, rising drops), or only those of KIND, until stopped; control socket only (dives ctl monitor [--json]).',
  }),
];

/** `monitor`: a stream, no configuration. */
export const MONITOR_AREA: CommandArea = { commands: MONITOR_COMMANDS };
