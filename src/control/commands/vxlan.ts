// The VXLAN commands — `show vxlan`, and in VLAN mode `vxlan vni N`, `vxlan remote HOST
// [PORT]`, `vxlan group ADDR [reply-to-source]` and their `no` forms — as CommandRegistry
// records. Each handler only parses, calls SwitchControl and formats; it runs on the
// main thread. What they do is src/vxlan/vxlan-ports.ts; docs/multi-host.md explains it.

import type { ArgSpec, CommandArea, CommandContext, CommandResult, CommandSpec } from '../command-registry.js';
import { compareText, formatAge, formatCounters, formatNotedTable, quoteWord } from '../format.js';
import type { VtepInfo, VxlanInfo, VxlanVlanConfig } from '../../vxlan/vxlan-info.js';
import { parseVni } from '../../vxlan/vxlan-config.js';
import { command, keyword, parsePort, vlanOf } from './args.js';
import { VTEP_DROPS, VXLAN_COUNTERS } from '../../core/counters.js';
import { docOf, oneRow } from '../metric-sources.js';

/** The lines of `show vxlan`: the sockets, one row per VTEP with its drops under it, then the counters. */
export function vxlanLines(info: VxlanInfo): string[] {
  const where = info.local === null ? 'by route' : `from ${info.local}`;
  const lines = [
    info.running
      ? `vxlan on UDP port ${info.port}, sending ${where}, source ports ${info.sourcePorts.join(',')}; learned VTEPs: ${info.learnedVteps} of at most ${info.maxVteps}`
      : `vxlan not running (it starts with the first "vxlan remote" or "vxlan group"): UDP port ${info.port}, sending ${where}; learned VTEPs at most ${info.maxVteps}`,
  ];
  const rows: string[][] = [];
  const notes: string[][] = [];
  for (const v of info.vlans) {
    const group = v.group === null ? [] : [`group ${v.group}${v.replyToSource ? ', learned VTEPs answered at their source port' : ''}`];
    if (v.vteps.length === 0) {
      rows.push([String(v.vid), String(v.vni), '-', '-', '-', '-', '0', '0', '0', '0']);
      notes.push(['no VTEPs']);
      continue;
    }
    v.vteps.forEach((t: VtepInfo, i) => {
      rows.push([
        String(v.vid),
        String(v.vni),
        t.address,
        t.kind,
        t.portId === null ? '-' : String(t.portId),
        t.heardSeconds === null ? '-' : formatAge(t.heardSeconds),
        ...[t.framesIn, t.bytesIn, t.framesOut, t.bytesOut].map(String),
      ]);
      notes.push([...(i === 0 ? group : []), formatCounters('drops', t.drops)]);
    });
  }
  lines.push(...formatNotedTable(['VID', 'VNI', 'VTEP', 'KIND', 'PORT', 'HEARD', 'FRAMES-IN', 'BYTES-IN', 'FRAMES-OUT', 'BYTES-OUT'], rows, notes, '(no VLAN carried over VXLAN)'));
  const c = info.counters;
  lines.push(`datagrams: in ${c['datagrams-in']}, out ${c['datagrams-out']} (flooded ${c.flooded})`);
  const last = info.lastStranger === null ? '' : ` (last stranger ${info.lastStranger})`;
  lines.push(`${formatCounters('dropped', c, ['datagrams-in', 'datagrams-out', 'flooded'])}${last}`);
  lines.push(formatCounters('VTEP drops, departed VTEPs included', info.drops));
  return lines;
}

async function showVxlan(ctx: Ctx): Promise<CommandResult> {
  const info = await ctx.sw.showVxlan(ctx.vid ?? undefined);
  return { lines: vxlanLines(info), json: info };
}

async function vni(ctx: Ctx): Promise<CommandResult> {
  const vid = vlanOf(ctx);
  const n = ctx.args.has('N') ? ctx.args.number('N') : null;
  await ctx.sw.setVxlanVni(vid, n);
  return { lines: [`VLAN ${vid} is VXLAN network ${n ?? vid}${n === null ? ' (its vid)' : ''}`], json: { vid, vni: n ?? vid } };
}

/** The PORT a command was given, or null for the VXLAN port. */
function portOf(ctx: Ctx): number | null {
  return ctx.args.has('PORT') ? ctx.args.number('PORT') : null;
}

async function remote(ctx: Ctx): Promise<CommandResult> {
  const vid = vlanOf(ctx);
  const t = await ctx.sw.addVxlanRemote(vid, ctx.args.string('HOST'), portOf(ctx));
  return { lines: [`VXLAN remote ${t.address} added to VLAN ${vid} as port ${t.portId}`], json: { vtep: t } };
}

async function noRemote(ctx: Ctx): Promise<CommandResult> {
  const vid = vlanOf(ctx);
  const host = ctx.args.string('HOST');
  const port = portOf(ctx);
  await ctx.sw.removeVxlanRemote(vid, host, port);
  return { lines: [`VXLAN remote ${host}${port === null ? '' : ` ${port}`} removed from VLAN ${vid}`], json: { removed: { vid, host, port } } };
}

async function group(ctx: Ctx): Promise<CommandResult> {
  const vid = vlanOf(ctx);
  const replyToSource = ctx.args.has('reply-to-source');
  const t = await ctx.sw.setVxlanGroup(vid, ctx.args.string('ADDR'), replyToSource);
  return { lines: [`VLAN ${vid} floods to VXLAN group ${t.address} (port ${t.portId})${replyToSource ? '; learned VTEPs are answered at their source port' : ''}`], json: { vtep: t, replyToSource } };
}

async function noGroup(ctx: Ctx): Promise<CommandResult> {
  const vid = vlanOf(ctx);
  const addr = ctx.args.string('ADDR');
  await ctx.sw.removeVxlanGroup(vid, addr);
  return { lines: [`VXLAN group ${addr} removed from VLAN ${vid}`], json: { removed: { vid, group: addr } } };
}

const N: ArgSpec = { name: 'N', parse: parseVni };
const HOST_PORT: ArgSpec[] = [
  { name: 'HOST', parse: (w) => (/^\[.*\]$/.test(w) ? w.slice(1, -1) : w) },
  { name: 'PORT', parse: parsePort, optional: true },
];
const ADDR: ArgSpec = { name: 'ADDR' };

/** What the VXLAN commands ask of the switch (src/vxlan/vxlan-ports.ts). */
export interface VxlanControl {
  /** The VXLAN sockets, their counters, and every VLAN's (or only `vid`'s) VNI and VTEPs with theirs. */
  showVxlan(vid?: number): Promise<VxlanInfo>;
  /** Carry `vid` as VXLAN network `vni` (null: the vid); DivesError EATTACHED if another VLAN carries it. */
  setVxlanVni(vid: number, vni: number | null): Promise<void>;
  /** A static remote VTEP at host:port (port null: the VXLAN port), flooded to by head-end replication. */
  addVxlanRemote(vid: number, host: string, port: number | null): Promise<VtepInfo>;
  /** Remove a static remote VTEP; DivesError ENOTATTACHED if the VLAN does not have it. */
  removeVxlanRemote(vid: number, host: string, port: number | null): Promise<void>;
  /** Flood `vid` to a multicast group and learn the VTEPs heard on it (answered at their source port with `replyToSource`). */
  setVxlanGroup(vid: number, group: string, replyToSource: boolean): Promise<VtepInfo>;
  /** Stop using the group; DivesError ENOTATTACHED if the VLAN does not use it. */
  removeVxlanGroup(vid: number, group: string): Promise<void>;
  /** Each VLAN's VXLAN configuration as typed, for the running-config. */
  vxlanConfig(): VxlanVlanConfig[];
}

type Ctl = VxlanControl;
type Ctx = CommandContext<Ctl>;

export const VXLAN_COMMANDS: readonly CommandSpec<Ctl>[] = [
  command({ mode: 'any', syntax: 'show vxlan', example: 'show vxlan', exampleVid: 20, handler: showVxlan, help: 'Show the VXLAN sockets and counters, and each VLAN\'s VNI and VTEPs (of this VLAN in VLAN mode) with their frames, bytes and drops.' }),
  command({ mode: 'vlan', syntax: 'vxlan vni N', example: 'vxlan vni 5010', args: [N], handler: vni, help: 'Carry this VLAN as VXLAN network N (1..16777215) instead of its vid.' }),
  command({ mode: 'vlan', syntax: 'no vxlan vni', example: 'no vxlan vni', exampleVid: 20, handler: vni, help: 'Carry this VLAN as the VXLAN network of its vid again.' }),
  command({
    mode: 'vlan',
    syntax: 'vxlan remote HOST [PORT]',
    example: 'vxlan remote 10.0.0.7',
    args: HOST_PORT,
    handler: remote,
    help: 'Add the VTEP at address HOST (UDP PORT, default the VXLAN port) as a port of this VLAN; floods reach it by head-end replication.',
  }),
  command({ mode: 'vlan', syntax: 'no vxlan remote HOST [PORT]', example: 'no vxlan remote 10.0.0.5', exampleVid: 20, args: HOST_PORT, handler: noRemote, help: 'Remove the remote VTEP at HOST (and PORT); its port and MACs go at once.' }),
  command({
    mode: 'vlan',
    syntax: 'vxlan group ADDR [reply-to-source]',
    example: 'vxlan group 239.1.1.10',
    args: [ADDR, keyword('reply-to-source')],
    handler: group,
    help: 'Flood this VLAN to the multicast group ADDR and learn the VTEPs heard on it as ports; with reply-to-source, answer them at the port they send from (vxvde) instead of the VXLAN port.',
  }),
  command({ mode: 'vlan', syntax: 'no vxlan group ADDR', example: 'no vxlan group 239.1.1.1', exampleVid: 20, args: [ADDR], handler: noGroup, help: 'Stop flooding to the group ADDR; it and the VTEPs learned on it go.' }),
];

/** A VLAN's VXLAN settings as rc lines: the VNI first, so the remotes and group are carried as it. */
function configLines(c: VxlanVlanConfig | undefined): string[] {
  if (c === undefined) return [];
  const remotes = [...c.remotes].sort((a, b) => compareText(a.host, b.host) || (a.port ?? 0) - (b.port ?? 0));
  return [
    ...(c.vni === null ? [] : [`vxlan vni ${c.vni}`]),
    ...remotes.map((r) => `vxlan remote ${quoteWord(r.host)}${r.port === null ? '' : ` ${r.port}`}`),
    ...(c.group === null ? [] : [`vxlan group ${quoteWord(c.group.address)}${c.group.replyToSource ? ' reply-to-source' : ''}`]),
  ];
}

/** The VXLAN commands, each VLAN's VXLAN settings in the running-config, and the VXLAN counters as metrics. */
export const VXLAN_AREA: CommandArea<Ctl> = {
  commands: VXLAN_COMMANDS,
  config: (sw) => {
    const vxlan = sw.vxlanConfig();
    return { vlan: (vid) => ({ lines: configLines(vxlan.find((x) => x.vid === vid)) }), json: { vxlan } };
  },
  counters: [
    { set: VXLAN_COUNTERS, subject: 'dives_vxlan', labels: [], rows: (d) => oneRow(docOf<VxlanInfo>(d).counters) },
    {
      set: VTEP_DROPS,
      subject: 'dives_vtep',
      labels: ['vid', 'vtep', 'kind'],
      reasons: { word: 'drops', help: 'Frames of a VXLAN VTEP the VXLAN I/O thread dropped, by reason (the drops of show vxlan)' },
      rows: (d) => docOf<VxlanInfo>(d).vlans.flatMap((v) => v.vteps.map((t) => ({ labels: [v.vid, t.address, t.kind], counts: t.drops }))),
    },
  ],
};
