// The port-limit commands of a VLAN — `storm-control CLASS RATE`, `mac-limit N` and
// their `no` forms — as CommandRegistry records: each port of the VLAN is metered on its
// own (src/forwarding/port-limits.ts). Each handler only calls SwitchControl; main thread.

import type { CommandArea, CommandContext, CommandResult, CommandSpec } from '../command-registry.js';
import { DivesError } from '../../core/errors.js';
import { STORM_CLASSES, limitLines, type StormClass } from '../../forwarding/port-limits.js';
import { quote } from '../format.js';
import { command, countParser, vlanOf } from './args.js';

/** The most frames/s a storm-control rate may be: past it, the limit would never bite. */
export const MAX_STORM_RATE = 10_000_000;
/** The most MACs a mac-limit may be: the fdb's own capacity bounds a VLAN anyway. */
export const MAX_MAC_LIMIT = 1_000_000;

function parseStormClass(word: string): string {
  if (!(STORM_CLASSES as readonly string[]).includes(word)) {
    throw new DivesError('EBADARG', `CLASS must be ${STORM_CLASSES.join(', ')}, got ${quote(word)}`);
  }
  return word;
}

const CLASS = { name: 'CLASS', parse: parseStormClass };
const RATE = { name: 'RATE', parse: countParser('RATE', MAX_STORM_RATE) };
const N = { name: 'N', parse: countParser('N', MAX_MAC_LIMIT) };

async function stormControl(ctx: Ctx): Promise<CommandResult> {
  const vid = vlanOf(ctx);
  const cls = ctx.args.string('CLASS') as StormClass;
  const rate = ctx.args.has('RATE') ? ctx.args.number('RATE') : null;
  ctx.sw.setStormControl(vid, cls, rate);
  const what = rate === null ? `storm control of ${cls} off` : `${cls} floods at most ${rate} frames/s per port`;
  return { lines: [`VLAN ${vid}: ${what}`], json: { vid, class: cls, rate } };
}

async function macLimit(ctx: Ctx): Promise<CommandResult> {
  const vid = vlanOf(ctx);
  const n = ctx.args.has('N') ? ctx.args.number('N') : null;
  ctx.sw.setMacLimit(vid, n);
  return { lines: [`VLAN ${vid}: ${n === null ? 'no MAC limit' : `at most ${n} MACs learned per port`}`], json: { vid, macLimit: n } };
}

/** What the limit commands ask of the switch. */
export interface LimitControl {
  /** Limit the frames/s of `cls` each port of `vid` may flood; null turns it off. */
  setStormControl(vid: number, cls: StormClass, rate: number | null): void;
  /** Limit the MACs each port of `vid` may have learned; null turns it off. */
  setMacLimit(vid: number, n: number | null): void;
}

type Ctl = LimitControl;
type Ctx = CommandContext<Ctl>;

export const LIMIT_COMMANDS: readonly CommandSpec<Ctl>[] = [
  command({
    mode: 'vlan',
    syntax: 'storm-control CLASS RATE',
    example: 'storm-control broadcast 1000',
    args: [CLASS, RATE],
    handler: stormControl,
    help: 'Let each port flood at most RATE frames/s of CLASS (broadcast, multicast, or unknown unicast); more are dropped and counted on that port.',
  }),
  command({ mode: 'vlan', syntax: 'no storm-control CLASS', example: 'no storm-control broadcast', args: [CLASS], handler: stormControl, help: 'Stop limiting CLASS floods.' }),
  command({
    mode: 'vlan',
    syntax: 'mac-limit N',
    example: 'mac-limit 8',
    args: [N],
    handler: macLimit,
    help: 'Let each port have at most N MACs learned; frames from more source MACs are dropped and counted on that port.',
  }),
  command({ mode: 'vlan', syntax: 'no mac-limit', example: 'no mac-limit', handler: macLimit, help: 'Stop limiting the MACs of a port.' }),
];

/** The limit commands, and each VLAN's limits in the running-config. */
export const LIMIT_AREA: CommandArea<Ctl> = {
  commands: LIMIT_COMMANDS,
  config: (_sw, vlans) => ({
    vlan: (vid) => {
      const v = vlans.find((x) => x.vid === vid);
      return { lines: v === undefined ? [] : limitLines(v.limits) };
    },
  }),
};
