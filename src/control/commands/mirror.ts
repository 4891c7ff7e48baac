// The mirror commands — `mirror vlan ID to PORT`, `mirror port SOURCE to PORT`, their
// `no` forms and `show mirrors` — as CommandRegistry records. Each handler only calls
// SwitchControl and formats; it runs on the main thread.

import type { CommandArea, CommandContext, CommandResult, CommandSpec } from '../command-registry.js';
import type { MirrorInfo, MirrorSource, MirrorsInfo } from '../switch-api.js';
import { formatCounters, formatNotedTable, quoteWord } from '../format.js';
import { ID, command, keyword } from './args.js';
import { MIRROR_COUNTERS } from '../../core/counters.js';
import { docOf, oneRow } from '../metric-sources.js';

const TO = { ...keyword('to'), optional: false };
const PORT = { name: 'PORT', optional: true };
const SOURCE = { name: 'SOURCE' };

function source(ctx: Ctx): MirrorSource {
  return ctx.args.has('ID') ? { vid: ctx.args.number('ID') } : { port: ctx.args.string('SOURCE') };
}

async function mirror(ctx: Ctx): Promise<CommandResult> {
  const info = await ctx.sw.addMirror(source(ctx), ctx.args.string('PORT'));
  return { lines: [`mirroring ${info.source} to ${info.to} (mirror ${info.id})`], json: { mirror: info } };
}

async function noMirror(ctx: Ctx): Promise<CommandResult> {
  const src = source(ctx);
  const to = ctx.args.has('PORT') ? ctx.args.string('PORT') : null;
  const n = await ctx.sw.removeMirror(src, to);
  const what = 'vid' in src ? `vlan ${src.vid}` : `port ${src.port}`;
  return { lines: [`removed ${n} mirror${n === 1 ? '' : 's'} of ${what}`], json: { removed: n } };
}

function showMirrors(ctx: Ctx): CommandResult {
  const { mirrors, totals } = ctx.sw.showMirrors();
  const rows = mirrors.map((m) => [String(m.id), m.source, m.to, String(m.counters.mirrored)]);
  const notes = mirrors.map((m) => [formatCounters('drops', m.counters, ['mirrored'])]);
  return { lines: [...formatNotedTable(['ID', 'SOURCE', 'TO', 'MIRRORED'], rows, notes, '(no mirrors)'), formatCounters('all mirrors', totals)], json: { mirrors, totals } };
}

/** What the mirror commands ask of the switch (src/capture/mirrors.ts). */
export interface MirrorControl {
  /** Copy `source`'s frames to the access TAP port `to` (an id, or a name as `show ports` prints it). */
  addMirror(source: MirrorSource, to: string): Promise<MirrorInfo>;
  /** Remove the mirrors of `source` (to `to` only, when given); how many. DivesError ENOTATTACHED if none. */
  removeMirror(source: MirrorSource, to: string | null): Promise<number>;
  showMirrors(): MirrorsInfo;
}

type Ctl = MirrorControl;
type Ctx = CommandContext<Ctl>;

export const MIRROR_COMMANDS: readonly CommandSpec<Ctl>[] = [
  command({ mode: 'switch', syntax: 'mirror vlan ID to PORT', example: 'mirror vlan 10 to tap:mon0', args: [ID, TO, { name: 'PORT' }], handler: mirror, help: 'Copy every frame VLAN ID takes in to the TAP port PORT (its ID or NAME from "show ports"), where an IDS or tcpdump listens.' }),
  command({ mode: 'switch', syntax: 'mirror port SOURCE to PORT', example: 'mirror port tap:tap0 to tap:mon0', args: [SOURCE, TO, { name: 'PORT' }], handler: mirror, help: 'Copy the frames of port SOURCE, both ways, to the TAP port PORT.' }),
  command({ mode: 'switch', syntax: 'no mirror vlan ID [to PORT]', example: 'no mirror vlan 20', args: [ID, keyword('to'), PORT], handler: noMirror, help: 'Stop mirroring VLAN ID (to PORT only, when given).' }),
  command({ mode: 'switch', syntax: 'no mirror port SOURCE [to PORT]', example: 'no mirror port 2 to tap:mon0', args: [SOURCE, keyword('to'), PORT], handler: noMirror, help: 'Stop mirroring port SOURCE (to PORT only, when given).' }),
  command({ mode: 'switch', syntax: 'show mirrors', example: 'show mirrors', handler: showMirrors, help: 'Show the mirrors with the copies each made and dropped.' }),
];

/** The mirror commands, the mirrors' lines in the running-config (after everything they name exists), and their counters as metrics. */
export const MIRROR_AREA: CommandArea<Ctl> = {
  commands: MIRROR_COMMANDS,
  config: (sw) => {
    const mirrors = sw.showMirrors().mirrors.map((m) => ({ source: m.source, to: m.to }));
    return { lines: mirrors.map((m) => `mirror ${m.source.replace(/^port (.*)$/, (_, p: string) => `port ${quoteWord(p)}`)} to ${quoteWord(m.to)}`), json: { mirrors } };
  },
  counters: [{ set: MIRROR_COUNTERS, subject: 'dives_mirror', labels: [], rows: (d) => oneRow(docOf<MirrorsInfo>(d).totals) }],
};
