// The VLAN commands — `vlan ID` (enter VLAN mode, or run one command in it) and
// `exit`/`end` inside it — as CommandRegistry records. Main thread.

import type { CommandArea, CommandContext, CommandResult, CommandSpec } from '../command-registry.js';
import { ID, command } from './args.js';

async function vlan(ctx: CommandContext): Promise<CommandResult> {
  const vid = ctx.args.number('ID');
  const rest = ctx.args.words('COMMAND');
  if (rest.length > 0) return ctx.registry.run(rest, { sw: ctx.sw, vid, oneShot: true, openStream: ctx.openStream });
  ctx.sw.ensureVlan(vid);
  return { lines: [], json: { vid }, mode: { vid } };
}

const leaveVlan = (): CommandResult => ({ lines: [], json: { vid: null }, mode: null });

export const VLAN_COMMANDS: readonly CommandSpec[] = [
  command({
    mode: 'any',
    syntax: 'vlan ID [COMMAND...]',
    example: 'vlan 10 show taps',
    args: [ID, { name: 'COMMAND', rest: true }],
    handler: vlan,
    changesMode: true,
    help: 'Enter VLAN mode for VLAN ID (1..4094), creating the VLAN; with COMMAND, run it in that VLAN once.',
  }),
  command({ mode: 'vlan', syntax: 'exit', example: 'exit', handler: leaveVlan, changesMode: true, help: 'Leave VLAN mode.' }),
  command({ mode: 'vlan', syntax: 'end', example: 'end', handler: leaveVlan, changesMode: true, help: 'Same as "exit".' }),
];

/** `vlan ID`: a VLAN is in the running-config as the block its areas write into. */
export const VLAN_AREA: CommandArea = { commands: VLAN_COMMANDS };
