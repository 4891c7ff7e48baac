// The QEMU listener commands — `listen HOSTNAME PORT`, `listen unix PATH`, each with an
// optional `max-connections N`, their `no` forms and `show listeners` — as CommandRegistry records. Each handler only
// calls SwitchControl and formats; it runs on the main thread.

import type { CommandContext, CommandResult, CommandSpec } from '../command-registry.js';
import { DivesError } from '../../core/errors.js';
import { formatCounters, formatNotedTable } from '../format.js';
import { formatListenSpec, type ListenSpec } from '../../qemu/listen-spec.js';
import { HOSTNAME_PORT, MAX_CONNECTIONS, PATH, command, vlanOf } from './args.js';

function showListeners(ctx: CommandContext): CommandResult {
  const vid = ctx.vid;
  const listeners = ctx.sw.showListeners(vid ?? undefined);
  const rows = listeners.map((l) => [l.address, String(l.vid), String(l.connections), l.maxConnections === null ? '-' : String(l.maxConnections), l.state]);
  const notes = listeners.map((l) => [...(l.reason === null ? [] : [`down: ${l.reason}`]), formatCounters('refused', l.refused)]);
  return { lines: formatNotedTable(['ADDRESS', 'VID', 'CONNECTIONS', 'MAX', 'STATE'], rows, notes, '(no listeners)'), json: { vid, listeners } };
}

function listenSpec(ctx: CommandContext): ListenSpec {
  const a = ctx.args;
  return a.has('PATH') ? { kind: 'unix', path: a.string('PATH') } : { kind: 'tcp', host: a.string('HOSTNAME'), port: a.number('PORT') };
}

/** The listener's own limit, or null; `max-connections` without N is an error. */
function maxConnections(ctx: CommandContext): number | null {
  if (ctx.args.has('N')) return ctx.args.number('N');
  if (ctx.args.has('max-connections')) throw new DivesError('EBADARG', 'max-connections needs a number N: listen ... max-connections N');
  return null;
}

async function listen(ctx: CommandContext): Promise<CommandResult> {
  const vid = vlanOf(ctx);
  const max = maxConnections(ctx);
  const info = await ctx.sw.listen(vid, listenSpec(ctx), max);
  return { lines: [`listening for QEMU on ${info.address} in VLAN ${vid}${max === null ? '' : `, ${max} connections at most`}`], json: { listener: info } };
}

async function noListen(ctx: CommandContext): Promise<CommandResult> {
  const vid = vlanOf(ctx);
  const spec = listenSpec(ctx);
  await ctx.sw.unlisten(vid, spec);
  return { lines: [`stopped listening on ${formatListenSpec(spec)} in VLAN ${vid}`], json: { stopped: { vid, spec } } };
}

export const LISTEN_COMMANDS: readonly CommandSpec[] = [
  command({ mode: 'switch', syntax: 'show listeners', example: 'show listeners', handler: showListeners, help: 'Show the QEMU listeners of every VLAN.' }),
  command({ mode: 'vlan', syntax: 'show listeners', example: 'show listeners', handler: showListeners, help: 'Show the QEMU listeners of this VLAN.' }),
  command({ mode: 'vlan', syntax: 'listen HOSTNAME PORT [max-connections N]', example: 'listen 0.0.0.0 4001 max-connections 16', args: [...HOSTNAME_PORT, ...MAX_CONNECTIONS], handler: listen, help: 'Listen for QEMU socket connections on TCP HOSTNAME:PORT; with max-connections, take at most N at once (more are closed at once and counted).' }),
  command({ mode: 'vlan', syntax: 'listen unix PATH [max-connections N]', example: 'listen unix /run/dives/vm10.sock', args: [PATH, ...MAX_CONNECTIONS], handler: listen, help: 'Listen for QEMU socket connections on the UNIX socket PATH; with max-connections, take at most N at once.' }),
  command({ mode: 'vlan', syntax: 'no listen HOSTNAME PORT', example: 'no listen 127.0.0.1 4000', args: HOSTNAME_PORT, handler: noListen, help: 'Stop listening on TCP HOSTNAME:PORT.' }),
  command({ mode: 'vlan', syntax: 'no listen unix PATH', example: 'no listen unix /run/dives/vm.sock', exampleVid: 20, args: [PATH], handler: noListen, help: 'Stop listening on the UNIX socket PATH.' }),
];
