// The trunk TAP commands — `tap DEVNAME trunk VLANS [native ID]` and `no tap DEVNAME
// trunk`, at switch level since a trunk belongs to several VLANs, and `show trunks` — as
// CommandRegistry records. Each handler only calls SwitchControl and formats; it runs on
// the main thread.

import type { CommandArea, CommandContext, CommandResult, CommandSpec } from '../command-registry.js';
import { DivesError } from '../../core/errors.js';
import { parseVlanList } from '../../core/vlan-tag.js';
import { TRUNK_DROPS } from '../../core/counters.js';
import { formatCounters, formatNotedTable, quoteWord } from '../format.js';
import { DEVNAME, command, keyword, parseVid } from './args.js';
import type { TrunkInfo } from '../switch-api.js';
import { docOf } from '../metric-sources.js';

/** The trunks (of this VLAN in VLAN mode), each with its port per VLAN and its drops, and every trunk's drops summed. */
function showTrunks(ctx: Ctx): CommandResult {
  const vid = ctx.vid;
  const trunks = ctx.sw.showTrunks(vid ?? undefined);
  const rows = trunks.map((t) => [t.name, t.vlans, t.native === null ? '-' : String(t.native), t.ports.map((p) => `${p.vid}:${p.portId}`).join(','), t.created ? 'yes' : 'no', t.state]);
  const notes = trunks.map((t) => [...(t.reason === null ? [] : [`${t.state}: ${t.reason}`]), formatCounters('drops', t.drops)]);
  const drops = TRUNK_DROPS.zero();
  for (const t of trunks) for (const n of TRUNK_DROPS.names) drops[n] += t.drops[n];
  const lines = [...formatNotedTable(['NAME', 'VLANS', 'NATIVE', 'VID:PORT', 'CREATED', 'STATE'], rows, notes, '(no trunks)'), formatCounters('all trunks', drops)];
  return { lines, json: { vid, trunks, drops } };
}

/** At switch level, `tap DEVNAME` without `trunk` is the VLAN-level command typed at the wrong level. */
function needsVlanMode(name: string): DivesError {
  return new DivesError('EBADCMD', `"${name}" needs VLAN mode; enter it with "vlan ID"`);
}

async function trunk(ctx: Ctx): Promise<CommandResult> {
  const a = ctx.args;
  if (!a.has('trunk')) throw needsVlanMode('tap');
  if (!a.has('VLANS')) throw new DivesError('EBADARG', '"tap" needs VLANS after trunk; usage: tap DEVNAME trunk VLANS [native ID]');
  if (a.has('native') && !a.has('ID')) throw new DivesError('EBADARG', 'native needs a VLAN ID: tap DEVNAME trunk VLANS native ID');
  const info = await ctx.sw.attachTrunk(a.string('DEVNAME'), parseVlanList(a.string('VLANS')), a.has('ID') ? a.number('ID') : null);
  const native = info.native === null ? '' : `, native VLAN ${info.native}`;
  const ports = `a port in each of its ${info.ports.length} VLANs ("show trunks" lists them)`;
  return { lines: [`tap ${info.name} attached as a trunk of VLANs ${info.vlans}${native}${info.created ? ' (created)' : ''}: ${ports}`], json: { trunk: info } };
}

async function noTrunk(ctx: Ctx): Promise<CommandResult> {
  if (!ctx.args.has('trunk')) throw needsVlanMode('no tap');
  const name = ctx.args.string('DEVNAME');
  await ctx.sw.detachTrunk(name);
  return { lines: [`trunk ${name} detached`], json: { detached: { trunk: name } } };
}

/** What the trunk TAP commands ask of the switch. */
export interface TrunkControl {
  /** Attach `dev` as a trunk of the tagged VLANs `vids` and the untagged VLAN `native` (null: none). */
  attachTrunk(dev: string, vids: number[], native: number | null): Promise<TrunkInfo>;
  /** Detach a trunk; DivesError ENOTATTACHED if `dev` is none. */
  detachTrunk(dev: string): Promise<void>;
  /** The trunks (with a member port in `vid`, when given) and their drops. */
  showTrunks(vid?: number): TrunkInfo[];
}

type Ctl = TrunkControl;
type Ctx = CommandContext<Ctl>;

export const TRUNK_COMMANDS: readonly CommandSpec<Ctl>[] = [
  command({ mode: 'any', syntax: 'show trunks', example: 'show trunks', handler: showTrunks, help: 'Show the trunk TAPs (of this VLAN in VLAN mode): their VLANs, native VLAN, port in each VLAN, and the frames they dropped before any VLAN.' }),
  command({
    mode: 'switch',
    syntax: 'tap DEVNAME trunk VLANS [native ID]',
    example: 'tap trunk1 trunk 10,20,100-102 native 30',
    args: [DEVNAME, keyword('trunk'), { name: 'VLANS', optional: true, parse: (w) => (parseVlanList(w), w) }, keyword('native'), { name: 'ID', optional: true, parse: parseVid }],
    handler: trunk,
    help: 'Attach the TAP device DEVNAME as an 802.1Q trunk of VLANS (e.g. 10,20,100-199): tagged frames go to their VLAN untagged, frames out are tagged; with native, untagged frames belong to VLAN ID.',
  }),
  command({ mode: 'switch', syntax: 'no tap DEVNAME trunk', example: 'no tap trunk0 trunk', args: [DEVNAME, keyword('trunk')], handler: noTrunk, help: 'Detach the trunk TAP DEVNAME from all its VLANs.' }),
];

/** The trunk commands, their `tap ... trunk` lines at switch level, and TRUNK_DROPS as metrics. */
export const TRUNK_AREA: CommandArea<Ctl> = {
  commands: TRUNK_COMMANDS,
  config: (sw) => {
    const trunks = sw.showTrunks().map((t) => ({ name: t.name, vlans: t.vlans, native: t.native }));
    return { lines: trunks.map((t) => `tap ${quoteWord(t.name)} trunk ${t.vlans}${t.native === null ? '' : ` native ${t.native}`}`), json: { trunks } };
  },
  counters: [
    {
      set: TRUNK_DROPS,
      subject: 'dives_trunk',
      labels: ['trunk'],
      reasons: { word: 'drops', help: 'Frames a trunk TAP sent that reached no VLAN, by reason (the trunk drops of show taps)' },
      rows: (d) => (docOf<{ trunks?: TrunkInfo[] }>(d).trunks ?? []).map((t) => ({ labels: [t.name], counts: t.drops })),
    },
  ],
};
