// The control commands of DiVES (`vlan ID`, `show macs`, `tap DEVNAME`, `listen ...`,
// `help`, ...) as CommandRegistry records, and the validators for their arguments.
// Each handler only parses, calls SwitchControl and formats; it runs on the main thread.

import { DivesError } from '../core/errors.js';
import {
  CommandRegistry,
  type ArgSpec,
  type CommandContext,
  type CommandMode,
  type CommandResult,
  type CommandSpec,
} from './command-registry.js';
import { VID_MAX, VID_MIN } from '../peer/wire/peer-datagram.js';
import { formatAge, formatColumns, formatDrops, formatTable, quote } from './format.js';
import type { ListenSpec, PortInfo } from './switch-api.js';
import { RUNNING_CONFIG_COMMANDS } from './running-config.js';
import { SESSION_COMMANDS } from './session-commands.js';
import { PEER_COMMANDS } from './peer-commands.js';

const DEVNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;

/** A VLAN id, 1..4094, in plain decimal. */
export function parseVid(word: string): number {
  const n = /^[0-9]{1,4}$/.test(word) ? Number(word) : NaN;
  if (!(n >= VID_MIN && n <= VID_MAX)) {
    throw new DivesError('EBADARG', `VLAN ID must be a number ${VID_MIN}..${VID_MAX}, got ${quote(word)}`);
  }
  return n;
}

/** A TCP port, 1..65535, in plain decimal. */
export function parsePort(word: string): number {
  const n = /^[0-9]{1,5}$/.test(word) ? Number(word) : NaN;
  if (!(n >= 1 && n <= 65535)) throw new DivesError('EBADARG', `PORT must be a number 1..65535, got ${quote(word)}`);
  return n;
}

/** A network device name as Linux accepts it for a TAP: 1..15 characters of [A-Za-z0-9_.-]. */
export function parseDevname(word: string): string {
  if (!DEVNAME_RE.test(word)) {
    throw new DivesError('EBADARG', `DEVNAME must be 1..15 characters of A-Z a-z 0-9 _ . -, got ${quote(word)}`);
  }
  return word;
}

/** An IPv4 address, an IPv6 address or a host name. "[::1]" is taken as "::1", the form Node's net module wants. */
export function parseHostname(word: string): string {
  const host = /^\[.*\]$/.test(word) ? word.slice(1, -1) : word;
  if (host === '') throw new DivesError('EBADARG', `HOSTNAME must not be empty, got ${quote(word)}`);
  return host;
}

/** A UNIX socket path, absolute or relative to the switch's working directory. */
export function parsePath(word: string): string {
  if (word === '' || word.includes('\0')) throw new DivesError('EBADARG', `PATH must be a non-empty path, got ${quote(word)}`);
  return word;
}

/** How a listener spec is written in replies: "127.0.0.1:4000", "[::1]:4000", "unix:/run/vm.sock". */
export function formatListenSpec(spec: ListenSpec): string {
  if (spec.kind === 'unix') return `unix:${spec.path}`;
  return spec.host.includes(':') ? `[${spec.host}]:${spec.port}` : `${spec.host}:${spec.port}`;
}

/** The VLAN a VLAN-level handler runs in; the registry only calls those handlers with one. */
function vlanOf(ctx: CommandContext): number {
  if (ctx.vid === null) throw new DivesError('EINTERNAL', 'a VLAN-level command ran at switch level');
  return ctx.vid;
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

async function vlan(ctx: CommandContext): Promise<CommandResult> {
  const vid = ctx.args.number('ID');
  const rest = ctx.args.words('COMMAND');
  if (rest.length > 0) return ctx.registry.run(rest, { sw: ctx.sw, vid, oneShot: true });
  ctx.sw.ensureVlan(vid);
  return { lines: [], json: { vid }, mode: { vid } };
}

async function showVlans(ctx: CommandContext): Promise<CommandResult> {
  const vlans = await ctx.sw.showVlans();
  // A VLAN entered with `vlan ID` but without ports has no forwarding thread yet.
  const rows = vlans.map((v) => [v.vid, v.ports, v.macs, v.workerThread < 0 ? '-' : v.workerThread, v.forwarded, v.flooded, v.dropped].map(String));
  const lines = formatTable(['VID', 'PORTS', 'MACS', 'WORKER', 'FORWARDED', 'FLOODED', 'DROPPED'], rows, '(no VLANs)');
  return { lines, json: { vlans } };
}

function portLines(ports: PortInfo[], empty: string): string[] {
  const header = ['ID', 'NAME', 'KIND', 'VID', 'RX-FRAMES', 'RX-BYTES', 'TX-FRAMES', 'TX-BYTES'];
  const rows = ports.map((p) => [p.id, p.name, p.kind, p.vid, p.rxFrames, p.rxBytes, p.txFrames, p.txBytes].map(String));
  if (rows.length === 0) return formatTable(header, rows, empty);
  // Each port's drop counters go on their own indented line: there are several
  // reasons and they would make the table too wide to read as one more column.
  const [head, ...body] = formatColumns([header, ...rows]);
  return [head, ...body.flatMap((line, i) => [line, `    ${formatDrops(ports[i].drops)}`])];
}

async function showPorts(ctx: CommandContext): Promise<CommandResult> {
  const vid = ctx.vid;
  const ports = await ctx.sw.showPorts(vid ?? undefined);
  const empty = vid === null ? '(no ports)' : `(no ports in VLAN ${vid})`;
  return { lines: portLines(ports, empty), json: { vid, ports } };
}

function showTaps(ctx: CommandContext): CommandResult {
  const vid = ctx.vid;
  const taps = ctx.sw.showTaps(vid ?? undefined);
  const rows = taps.map((t) => [t.name, String(t.vid), String(t.portId), t.created ? 'yes' : 'no']);
  return { lines: formatTable(['NAME', 'VID', 'PORT', 'CREATED'], rows, '(no TAPs attached)'), json: { vid, taps } };
}

function showListeners(ctx: CommandContext): CommandResult {
  const vid = ctx.vid;
  const listeners = ctx.sw.showListeners(vid ?? undefined);
  const rows = listeners.map((l) => [l.address, String(l.vid), String(l.connections)]);
  return { lines: formatTable(['ADDRESS', 'VID', 'CONNECTIONS'], rows, '(no listeners)'), json: { vid, listeners } };
}

async function showMacs(ctx: CommandContext): Promise<CommandResult> {
  const vid = vlanOf(ctx);
  const macs = await ctx.sw.showMacs(vid);
  const rows = macs.map((m) => [m.mac, m.port, formatAge(m.ageSeconds)]);
  return { lines: formatTable(['MAC', 'PORT', 'AGE'], rows, '(no MACs learned)'), json: { vid, macs } };
}

async function tap(ctx: CommandContext): Promise<CommandResult> {
  const vid = vlanOf(ctx);
  const info = await ctx.sw.attachTap(vid, ctx.args.string('DEVNAME'));
  const how = info.created ? ' (created)' : '';
  return { lines: [`tap ${info.name} attached to VLAN ${vid} as port ${info.portId}${how}`], json: { tap: info } };
}

async function noTap(ctx: CommandContext): Promise<CommandResult> {
  const vid = vlanOf(ctx);
  const name = ctx.args.string('DEVNAME');
  await ctx.sw.detachTap(vid, name);
  return { lines: [`tap ${name} detached from VLAN ${vid}`], json: { detached: { vid, name } } };
}

function listenSpec(ctx: CommandContext): ListenSpec {
  const a = ctx.args;
  return a.has('PATH') ? { kind: 'unix', path: a.string('PATH') } : { kind: 'tcp', host: a.string('HOSTNAME'), port: a.number('PORT') };
}

async function listen(ctx: CommandContext): Promise<CommandResult> {
  const vid = vlanOf(ctx);
  const info = await ctx.sw.listen(vid, listenSpec(ctx));
  return { lines: [`listening for QEMU on ${info.address} in VLAN ${vid}`], json: { listener: info } };
}

async function noListen(ctx: CommandContext): Promise<CommandResult> {
  const vid = vlanOf(ctx);
  const spec = listenSpec(ctx);
  await ctx.sw.unlisten(vid, spec);
  return { lines: [`stopped listening on ${formatListenSpec(spec)} in VLAN ${vid}`], json: { stopped: { vid, spec } } };
}

async function crashWorker(ctx: CommandContext): Promise<CommandResult> {
  const vid = ctx.args.number('ID');
  await ctx.sw.crashWorker(vid);
  return { lines: [`crashed the forwarding worker of VLAN ${vid}`], json: { crashed: vid } };
}

async function crashTap(ctx: CommandContext): Promise<CommandResult> {
  const name = ctx.args.string('DEVNAME');
  await ctx.sw.crashTapIo(name);
  return { lines: [`stopped the I/O thread of tap ${name} as a crash would`], json: { crashed: name } };
}

async function crashPeers(ctx: CommandContext): Promise<CommandResult> {
  await ctx.sw.crashPeerIo();
  return { lines: ['stopped the peer I/O thread as a crash would'], json: { crashed: 'peers' } };
}

async function crashQemu(ctx: CommandContext): Promise<CommandResult> {
  await ctx.sw.crashQemuIo();
  return { lines: ['stopped the QEMU I/O thread as a crash would'], json: { crashed: 'qemu' } };
}

const closeSession = (): CommandResult => ({ lines: [], json: { close: true }, close: true });
const leaveVlan = (): CommandResult => ({ lines: [], json: { vid: null }, mode: null });

const ID: ArgSpec = { name: 'ID', parse: parseVid };
const DEVNAME: ArgSpec = { name: 'DEVNAME', parse: parseDevname };
const HOST_PORT: ArgSpec[] = [
  { name: 'HOSTNAME', parse: parseHostname },
  { name: 'PORT', parse: parsePort },
];
const PATH: ArgSpec = { name: 'PATH', parse: parsePath };

/**
 * A command record whose path is the literal words that open its syntax
 * ("no listen unix PATH" -> ['no', 'listen', 'unix']), so the two cannot disagree.
 */
function command(spec: Omit<CommandSpec, 'path' | 'args'> & { args?: ArgSpec[] }): CommandSpec {
  const words = spec.syntax.split(' ');
  const literal = words.findIndex((w) => !/^[a-z][a-z-]*$/.test(w));
  return { ...spec, path: literal === -1 ? words : words.slice(0, literal), args: spec.args ?? [] };
}

/** Every DiVES command, in the order `help` lists them within each level. */
export const COMMANDS: readonly CommandSpec[] = [
  // Switch level.
  command({ mode: 'switch', syntax: 'show ports', handler: showPorts, help: 'Show every port of every VLAN with its counters and drops.' }),
  command({ mode: 'switch', syntax: 'show taps', handler: showTaps, help: 'Show the TAP devices attached to every VLAN.' }),
  command({ mode: 'switch', syntax: 'show listeners', handler: showListeners, help: 'Show the QEMU listeners of every VLAN.' }),
  command({ mode: 'switch', syntax: 'exit', handler: closeSession, help: 'End this control session (the stdio console cannot be ended).' }),
  command({ mode: 'switch', syntax: 'end', handler: closeSession, help: 'Same as "exit".' }),

  // VLAN level.
  command({
    mode: 'vlan',
    syntax: 'show macs',
    handler: showMacs,
    help: 'Show the MACs learned in this VLAN, the port each was seen on and its age.',
  }),
  command({ mode: 'vlan', syntax: 'show ports', handler: showPorts, help: 'Show the ports of this VLAN with their counters and drops.' }),
  command({ mode: 'vlan', syntax: 'show taps', handler: showTaps, help: 'Show the TAP devices attached to this VLAN.' }),
  command({ mode: 'vlan', syntax: 'show listeners', handler: showListeners, help: 'Show the QEMU listeners of this VLAN.' }),
  command({
    mode: 'vlan',
    syntax: 'tap DEVNAME',
    args: [DEVNAME],
    handler: tap,
    help: 'Attach the TAP device DEVNAME to this VLAN, creating it if it does not exist.',
  }),
  command({
    mode: 'vlan',
    syntax: 'no tap DEVNAME',
    args: [DEVNAME],
    handler: noTap,
    help: 'Detach the TAP device DEVNAME from this VLAN.',
  }),
  command({
    mode: 'vlan',
    syntax: 'listen HOSTNAME PORT',
    args: HOST_PORT,
    handler: listen,
    help: 'Listen for QEMU socket connections on TCP HOSTNAME:PORT.',
  }),
  command({
    mode: 'vlan',
    syntax: 'listen unix PATH',
    args: [PATH],
    handler: listen,
    help: 'Listen for QEMU socket connections on the UNIX socket PATH.',
  }),
  command({
    mode: 'vlan',
    syntax: 'no listen HOSTNAME PORT',
    args: HOST_PORT,
    handler: noListen,
    help: 'Stop listening on TCP HOSTNAME:PORT.',
  }),
  command({
    mode: 'vlan',
    syntax: 'no listen unix PATH',
    args: [PATH],
    handler: noListen,
    help: 'Stop listening on the UNIX socket PATH.',
  }),
  command({ mode: 'vlan', syntax: 'exit', handler: leaveVlan, changesMode: true, help: 'Leave VLAN mode.' }),
  command({ mode: 'vlan', syntax: 'end', handler: leaveVlan, changesMode: true, help: 'Same as "exit".' }),

  // Either level.
  command({
    mode: 'any',
    syntax: 'vlan ID [COMMAND...]',
    args: [ID, { name: 'COMMAND', rest: true }],
    handler: vlan,
    changesMode: true,
    help: 'Enter VLAN mode for VLAN ID (1..4094), creating the VLAN; with COMMAND, run it in that VLAN once.',
  }),
  command({
    mode: 'any',
    syntax: 'show vlans',
    handler: showVlans,
    help: 'Show every VLAN with its ports, MACs, worker thread and frame counts.',
  }),
  command({
    mode: 'any',
    syntax: 'help [WORD...]',
    args: [{ name: 'WORD', rest: true }],
    handler: help,
    help: 'List the commands, or those that start with WORD... (hidden ones included).',
  }),
  command({ mode: 'any', syntax: 'quit', handler: closeSession, help: 'End this control session from either level.' }),
  command({
    mode: 'any',
    syntax: 'debug crash-worker ID',
    args: [ID],
    handler: crashWorker,
    hidden: true,
    help: 'Crash the forwarding worker of VLAN ID on purpose, for recovery drills.',
  }),
  command({
    mode: 'any',
    syntax: 'debug crash-tap DEVNAME',
    args: [DEVNAME],
    handler: crashTap,
    hidden: true,
    help: 'Stop the I/O thread of TAP DEVNAME as a crash would, for recovery drills.',
  }),
  command({
    mode: 'any',
    syntax: 'debug crash-peers',
    handler: crashPeers,
    hidden: true,
    help: 'Stop the peer I/O thread as a crash would, for recovery drills.',
  }),
  command({
    mode: 'any',
    syntax: 'debug crash-qemu',
    handler: crashQemu,
    hidden: true,
    help: 'Stop the QEMU I/O thread as a crash would, for recovery drills.',
  }),
];

/** A registry holding every DiVES command; each transport builds one and shares it between its sessions. */
export function createCommandRegistry(): CommandRegistry {
  const registry = new CommandRegistry();
  for (const spec of COMMANDS) registry.add(spec);
  // The control plane's own commands: the running-config, and the hidden
  // session helpers (`complete`, `prompt`) that `dives ctl` uses over the socket.
  for (const spec of [...RUNNING_CONFIG_COMMANDS, ...SESSION_COMMANDS]) registry.add(spec);
  // Peers: `show peers`, `peer HOST PORT`, `no peer HOST PORT` (src/control/peer-commands.ts).
  for (const spec of PEER_COMMANDS) registry.add(spec);
  return registry;
}
