// The QEMU listener commands — `listen HOSTNAME PORT`, `listen unix PATH`, each with an
// optional `max-connections N`; at switch level the trunk listeners, `listen ... trunk VLANS
// [native ID] [max-connections N]`; their `no` forms and `show listeners` — as
// CommandRegistry records. Each handler only calls SwitchControl and formats; it runs on
// the main thread.

import type { CommandArea, CommandContext, CommandResult, CommandSpec } from '../command-registry.js';
import { DivesError } from '../../core/errors.js';
import { compareText, formatCounters, formatNotedTable, quoteWord } from '../format.js';
import { formatListenSpec, type ListenSpec } from '../../qemu/listen-spec.js';
import { parseVlanList } from '../../core/vlan-tag.js';
import type { ListenerInfo, TrunkListen } from '../switch-api.js';
import { HOSTNAME_PORT, MAX_CONNECTIONS, PATH, command, countParser, parseVid, vlanOf } from './args.js';
import { LISTENER_REFUSALS } from '../../core/counters.js';
import { docOf, gauge } from '../metric-sources.js';

const TRUNK_OPTIONS = { name: 'OPTIONS', rest: true };
const TRUNK_USAGE = 'listen HOSTNAME PORT|unix PATH trunk VLANS [native ID] [max-connections N]';

/** The VID column: the listener's VLAN, or a trunk's VLANs. */
function vidText(l: ListenerInfo): string {
  if (l.trunk === undefined) return String(l.vid);
  return `trunk ${l.trunk.vlans}${l.trunk.native === null ? '' : ` native ${l.trunk.native}`}`;
}

function showListeners(ctx: Ctx): CommandResult {
  const vid = ctx.vid;
  const listeners = ctx.sw.showListeners(vid ?? undefined);
  const rows = listeners.map((l) => [l.address, vidText(l), String(l.connections), l.maxConnections === null ? '-' : String(l.maxConnections), l.state]);
  const notes = listeners.map((l) => [
    ...(l.reason === null ? [] : [`down: ${l.reason}`]),
    formatCounters('refused', l.refused),
    ...(l.trunk === undefined ? [] : [formatCounters('trunk drops', l.trunk.drops)]),
  ]);
  return { lines: formatNotedTable(['ADDRESS', 'VID', 'CONNECTIONS', 'MAX', 'STATE'], rows, notes, '(no listeners)'), json: { vid, listeners } };
}

function listenSpec(ctx: Ctx): ListenSpec {
  const a = ctx.args;
  return a.has('PATH') ? { kind: 'unix', path: a.string('PATH') } : { kind: 'tcp', host: a.string('HOSTNAME'), port: a.number('PORT') };
}

/** The listener's own limit, or null; `max-connections` without N is an error. */
function maxConnections(ctx: Ctx): number | null {
  if (ctx.args.has('N')) return ctx.args.number('N');
  if (ctx.args.has('max-connections')) throw new DivesError('EBADARG', 'max-connections needs a number N: listen ... max-connections N');
  return null;
}

async function listen(ctx: Ctx): Promise<CommandResult> {
  const vid = vlanOf(ctx);
  const max = maxConnections(ctx);
  const info = await ctx.sw.listen(vid, listenSpec(ctx), max);
  return { lines: [`listening for QEMU on ${info.address} in VLAN ${vid}${max === null ? '' : `, ${max} connections at most`}`], json: { listener: info } };
}

/** At switch level, a listener without `trunk` is the VLAN-level command typed at the wrong level. */
function needsVlanMode(ctx: Ctx, no: boolean): DivesError {
  const name = `${no ? 'no ' : ''}listen${ctx.args.has('PATH') ? ' unix' : ''}`;
  return new DivesError('EBADCMD', `"${name}" needs VLAN mode; enter it with "vlan ID"`);
}

/** `trunk VLANS [native ID] [max-connections N]`, the last two in either order. */
function trunkOptions(ctx: Ctx, words: readonly string[]): { trunk: TrunkListen; max: number | null } {
  if (words[0] !== 'trunk') throw needsVlanMode(ctx, false);
  if (words.length < 2) throw new DivesError('EBADARG', `listen needs VLANS after trunk; usage: ${TRUNK_USAGE}`);
  const trunk: TrunkListen = { tagged: parseVlanList(words[1]), native: null };
  let max: number | null = null;
  for (let i = 2; i < words.length; i += 2) {
    const value = words[i + 1];
    if ((words[i] !== 'native' && words[i] !== 'max-connections') || value === undefined) {
      throw new DivesError('EBADARG', `unexpected ${JSON.stringify(words.slice(i).join(' '))}; usage: ${TRUNK_USAGE}`);
    }
    if (words[i] === 'native') trunk.native = parseVid(value);
    else max = countParser('N', 65535)(value);
  }
  return { trunk, max };
}

async function listenTrunk(ctx: Ctx): Promise<CommandResult> {
  const { trunk, max } = trunkOptions(ctx, ctx.args.words('OPTIONS'));
  const info = await ctx.sw.listen(0, listenSpec(ctx), max, trunk);
  const native = trunk.native === null ? '' : `, native VLAN ${trunk.native}`;
  const limit = max === null ? '' : `, ${max} connections at most`;
  return { lines: [`listening for QEMU trunks on ${info.address}: VLANs ${info.trunk?.vlans ?? ctx.args.words('OPTIONS')[1]}${native}${limit}`], json: { listener: info } };
}

async function noListenTrunk(ctx: Ctx): Promise<CommandResult> {
  const words = ctx.args.words('OPTIONS');
  if (words.length === 0) throw needsVlanMode(ctx, true);
  if (words.length !== 1 || words[0] !== 'trunk') throw new DivesError('EBADARG', `unexpected ${JSON.stringify(words.join(' '))}; a trunk listener: no listen HOSTNAME PORT|unix PATH trunk`);
  const spec = listenSpec(ctx);
  await ctx.sw.unlisten(0, spec);
  return { lines: [`stopped listening for QEMU trunks on ${formatListenSpec(spec)}`], json: { stopped: { vid: 0, spec } } };
}

async function noListen(ctx: Ctx): Promise<CommandResult> {
  const vid = vlanOf(ctx);
  const spec = listenSpec(ctx);
  await ctx.sw.unlisten(vid, spec);
  return { lines: [`stopped listening on ${formatListenSpec(spec)} in VLAN ${vid}`], json: { stopped: { vid, spec } } };
}

/** What the listen commands ask of the switch. */
export interface ListenControl {
  /** The listeners (of `vid`, when given; a trunk listener is in each of its VLANs). */
  showListeners(vid?: number): ListenerInfo[];
  /**
   * Listen in VLAN `vid`; `maxConnections`: the listener's own limit (`listen ... max-connections N`),
   * null: only the switch's. With `trunk`, a trunk listener at switch level (`vid` 0 then): each
   * connection a trunk of those VLANs.
   */
  listen(vid: number, spec: ListenSpec, maxConnections?: number | null, trunk?: TrunkListen | null): Promise<ListenerInfo>;
  /** `vid` 0: a trunk listener. */
  unlisten(vid: number, spec: ListenSpec): Promise<void>;
}

type Ctl = ListenControl;
type Ctx = CommandContext<Ctl>;

export const LISTEN_COMMANDS: readonly CommandSpec<Ctl>[] = [
  command({ mode: 'switch', syntax: 'show listeners', example: 'show listeners', handler: showListeners, help: 'Show the QEMU listeners of every VLAN.' }),
  command({ mode: 'vlan', syntax: 'show listeners', example: 'show listeners', handler: showListeners, help: 'Show the QEMU listeners of this VLAN.' }),
  command({ mode: 'vlan', syntax: 'listen HOSTNAME PORT [max-connections N]', example: 'listen 0.0.0.0 4001 max-connections 16', args: [...HOSTNAME_PORT, ...MAX_CONNECTIONS], handler: listen, help: 'Listen for QEMU socket connections on TCP HOSTNAME:PORT; with max-connections, take at most N at once (more are closed at once and counted).' }),
  command({ mode: 'vlan', syntax: 'listen unix PATH [max-connections N]', example: 'listen unix /run/dives/vm10.sock', args: [PATH, ...MAX_CONNECTIONS], handler: listen, help: 'Listen for QEMU socket connections on the UNIX socket PATH; with max-connections, take at most N at once.' }),
  command({
    mode: 'switch',
    syntax: 'listen HOSTNAME PORT trunk VLANS [native ID] [max-connections N]',
    example: 'listen 0.0.0.0 4010 trunk 10,20,100-102 native 30',
    args: [...HOSTNAME_PORT, TRUNK_OPTIONS],
    handler: listenTrunk,
    help: 'Listen for QEMU socket connections on TCP HOSTNAME:PORT, each an 802.1Q trunk of VLANS (e.g. 10,20,100-199): tagged frames go to their VLAN untagged, frames out are tagged; with native, untagged frames belong to VLAN ID.',
  }),
  command({ mode: 'switch', syntax: 'listen unix PATH trunk VLANS [native ID] [max-connections N]', example: 'listen unix /run/dives/vm-trunk.sock trunk 10,20 max-connections 4', args: [PATH, TRUNK_OPTIONS], handler: listenTrunk, help: 'Listen for QEMU socket connections on the UNIX socket PATH, each an 802.1Q trunk of VLANS, as the TCP form.' }),
  command({ mode: 'switch', syntax: 'no listen HOSTNAME PORT trunk', example: 'no listen 127.0.0.1 4010 trunk', args: [...HOSTNAME_PORT, TRUNK_OPTIONS], handler: noListenTrunk, help: 'Stop listening for QEMU trunks on TCP HOSTNAME:PORT; its connections are closed.' }),
  command({ mode: 'switch', syntax: 'no listen unix PATH trunk', example: 'no listen unix /run/dives/trunk.sock trunk', args: [PATH, TRUNK_OPTIONS], handler: noListenTrunk, help: 'Stop listening for QEMU trunks on the UNIX socket PATH.' }),
  command({ mode: 'vlan', syntax: 'no listen HOSTNAME PORT', example: 'no listen 127.0.0.1 4000', args: HOSTNAME_PORT, handler: noListen, help: 'Stop listening on TCP HOSTNAME:PORT.' }),
  command({ mode: 'vlan', syntax: 'no listen unix PATH', example: 'no listen unix /run/dives/vm.sock', exampleVid: 20, args: [PATH], handler: noListen, help: 'Stop listening on the UNIX socket PATH.' }),
];

/** How a listener is written as an rc line: inside its VLAN, or a trunk listener at switch level. */
function listenLine(l: ListenerInfo): string {
  const spec = l.spec;
  const where = spec.kind === 'unix' ? `listen unix ${quoteWord(spec.path)}` : `listen ${quoteWord(spec.host)} ${spec.port}`;
  const trunk = l.trunk === undefined ? '' : ` trunk ${l.trunk.vlans}${l.trunk.native === null ? '' : ` native ${l.trunk.native}`}`;
  return l.maxConnections === null ? `${where}${trunk}` : `${where}${trunk} max-connections ${l.maxConnections}`;
}

function listenKey(spec: ListenSpec): string {
  return spec.kind === 'unix' ? `unix ${spec.path}` : `tcp ${spec.host} ${String(spec.port).padStart(5, '0')}`;
}

/** The listen commands, their lines in the running-config (sorted by address), and the listeners' metrics. */
export const LISTEN_AREA: CommandArea<Ctl> = {
  commands: LISTEN_COMMANDS,
  config: (sw) => {
    const sorted = [...sw.showListeners()].sort((a, b) => compareText(listenKey(a.spec), listenKey(b.spec)));
    return {
      vlan: (vid) => {
        const mine = sorted.filter((l) => l.vid === vid);
        return { lines: mine.map(listenLine), json: { listeners: mine.map((l) => l.spec) } };
      },
      lines: sorted.filter((l) => l.trunk !== undefined).map(listenLine),
    };
  },
  metrics: [
    {
      spec: gauge('dives_listener_connections', 'QEMU connections a listener has now (show listeners).', ['vid', 'listener']),
      command: 'show listeners',
      samples: (d) => docOf<{ listeners: ListenerInfo[] }>(d).listeners.map((l) => ({ labels: [l.vid, l.address], value: l.connections })),
    },
  ],
  counters: [
    {
      set: LISTENER_REFUSALS,
      subject: 'dives_listener',
      labels: ['vid', 'listener'],
      reasons: { word: 'refused', help: 'QEMU connections a listener closed at once, by reason (the refusals of show listeners)' },
      rows: (d) => docOf<{ listeners: ListenerInfo[] }>(d).listeners.map((l) => ({ labels: [l.vid, l.address], counts: l.refused })),
    },
  ],
};
