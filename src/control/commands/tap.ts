// The TAP commands — `tap DEVNAME`, `no tap DEVNAME`, `show taps` — as
// CommandRegistry records. Each handler only calls SwitchControl and formats; it
// runs on the main thread.

import type { CommandArea, CommandContext, CommandResult, CommandSpec } from '../command-registry.js';
import { formatNotedTable } from '../format.js';
import { DEVNAME, command, vlanOf } from './args.js';
import type { TapInfo } from '../switch-api.js';
import { compareText, quoteWord } from '../format.js';

function showTaps(ctx: Ctx): CommandResult {
  const vid = ctx.vid;
  const taps = ctx.sw.showTaps(vid ?? undefined);
  const header = ['NAME', 'VID', 'PORT', 'CREATED', 'STATE'];
  const rows = taps.map((t) => [t.name, String(t.vid), String(t.portId), t.created ? 'yes' : 'no', t.state]);
  const notes = taps.map((t) => (t.reason === null ? [] : [`${t.state}: ${t.reason}`]));
  return { lines: formatNotedTable(header, rows, notes, '(no TAPs attached)'), json: { vid, taps } };
}

async function tap(ctx: Ctx): Promise<CommandResult> {
  const vid = vlanOf(ctx);
  const info = await ctx.sw.attachTap(vid, ctx.args.string('DEVNAME'));
  const how = info.created ? ' (created)' : '';
  return { lines: [`tap ${info.name} attached to VLAN ${vid} as port ${info.portId}${how}`], json: { tap: info } };
}

async function noTap(ctx: Ctx): Promise<CommandResult> {
  const vid = vlanOf(ctx);
  const name = ctx.args.string('DEVNAME');
  await ctx.sw.detachTap(vid, name);
  return { lines: [`tap ${name} detached from VLAN ${vid}`], json: { detached: { vid, name } } };
}

/** What the TAP commands ask of the switch. */
export interface TapControl {
  /** The TAPs attached (to `vid`, when given), and those waited for. */
  showTaps(vid?: number): TapInfo[];
  attachTap(vid: number, dev: string): Promise<TapInfo>;
  detachTap(vid: number, dev: string): Promise<void>;
}

type Ctl = TapControl;
type Ctx = CommandContext<Ctl>;

export const TAP_COMMANDS: readonly CommandSpec<Ctl>[] = [
  command({ mode: 'switch', syntax: 'show taps', example: 'show taps', handler: showTaps, help: 'Show the TAP devices attached to every VLAN.' }),
  command({ mode: 'vlan', syntax: 'show taps', example: 'show taps', handler: showTaps, help: 'Show the TAP devices attached to this VLAN.' }),
  command({ mode: 'vlan', syntax: 'tap DEVNAME', example: 'tap tap5', args: [DEVNAME], handler: tap, help: 'Attach the TAP device DEVNAME to this VLAN, creating it if it does not exist.' }),
  command({ mode: 'vlan', syntax: 'no tap DEVNAME', example: 'no tap tap0', args: [DEVNAME], handler: noTap, help: 'Detach the TAP device DEVNAME from this VLAN.' }),
];

/** The TAP commands, and each VLAN's `tap` lines (sorted by name) in the running-config. */
export const TAP_AREA: CommandArea<Ctl> = {
  commands: TAP_COMMANDS,
  config: (sw) => {
    const taps = sw.showTaps();
    return {
      vlan: (vid) => {
        const names = taps.filter((t) => t.vid === vid).map((t) => t.name).sort(compareText);
        return { lines: names.map((n) => `tap ${quoteWord(n)}`), json: { taps: names } };
      },
    };
  },
};
