// The peer commands of DiVES — `show peers`, `peer HOST PORT`, `no peer HOST PORT` —
// as CommandRegistry records. Each handler only parses, calls SwitchControl and
// formats; it runs on the main thread.

import type { ArgSpec, CommandContext, CommandResult, CommandSpec } from '../command-registry.js';
import { formatAge, formatBytes, formatCounters, formatNotedTable } from '../format.js';
import type { PeerInfo, PeersInfo } from '../../peer/peer-info.js';
import { command, parsePeerHost, parsePort } from './args.js';
import { LEGACY_MAX_DATAGRAM, PEER_HDR_LEN } from '../../peer/wire/peer-datagram.js';

/** The lines of `show peers`: where this switch peers, one row per peer with its drops under it, then the counters. */
export function peersLines(info: PeersInfo): string[] {
  if (info.local === null) return ['(peering is not running)'];
  const d = info.discovery;
  const how = d === null ? 'discovery off (static peers only)' : `discovery ${d.group}:${d.port} via ${d.interface} (ttl ${d.ttl}, ${d.format} announcements)`;
  const lines = [`peering on ${info.local}; ${how}; every ${info.intervalSeconds} s, expiry after ${info.expiryIntervals} missed`];
  if (info.buffers !== null) lines.push(`socket buffers: send ${formatBytes(info.buffers.send)}, receive ${formatBytes(info.buffers.receive)}`);
  lines.push(sealingLine(info));
  const header = ['ADDRESS', 'LEARNED', 'STATE', 'HEARD', 'PORT', 'FRAMES-IN', 'BYTES-IN', 'FRAMES-OUT', 'BYTES-OUT'];
  const rows = info.peers.map((p) => [
    p.address,
    p.learned,
    p.state,
    p.lastHeardSeconds === null ? 'never' : formatAge(p.lastHeardSeconds),
    p.portId === null ? '-' : String(p.portId),
    ...[p.framesIn, p.bytesIn, p.framesOut, p.bytesOut].map(String),
  ]);
  // As in `show ports`, each peer's drop counters go on a line of their own.
  const notes = info.peers.map((p) => [formatCounters('drops', p.drops), p.legacy ? LEGACY_LINE : offloadLine(p, info.offload)]);
  lines.push(...formatNotedTable(header, rows, notes, '(no peers)'));
  if (d !== null) {
    const c = d.counters;
    const errors = c['send-errors'] === 0 ? '' : `, send errors ${c['send-errors']}`;
    lines.push(`announcements: sent ${c.sent}${errors}, accepted ${c.accepted} (sockaddr ${c.sockaddr}), own ${c.own}, malformed ${c.malformed} (oversized ${c.oversized})`);
    const discovered = info.peers.filter((p) => p.learned === 'discovered').length;
    const refused = formatCounters('refused', { 'peer-limit': c['peer-limit'], 'peer-rate': c['peer-rate'] });
    lines.push(`discovered peers: ${discovered} of at most ${d.maxPeers}, at most ${d.peerRate} new a second; ${refused}`);
    const auth = { unauthenticated: c.unauthenticated, keyed: c.keyed, 'unknown-key': c['unknown-key'], 'bad-auth': c['bad-auth'], stale: c.stale, replay: c.replay };
    lines.push(formatCounters('announcements refused', auth));
  }
  const last = info.lastStranger === null ? '' : ` (last from ${info.lastStranger})`;
  lines.push(`strangers: ${info.strangers} datagrams from non-peers dropped${last}`);
  lines.push(formatCounters('peer socket drops', info.counters, ['strangers']));
  return lines;
}

/** "sealed with key 85220c5e (accepting 85220c5e, 5a313a40), encrypted", or that nothing is. */
function sealingLine(info: PeersInfo): string {
  const s = info.sealing;
  if (s === null) return 'sealing: none (no cluster key): datagrams and announcements in the original format, neither authenticated nor encrypted';
  return `sealing: key ${s.sendKey} (accepting ${s.keys.join(', ')}), frames ${s.encrypt ? 'encrypted and authenticated' : 'authenticated, not encrypted'}`;
}

/** What a legacy peer (the original DiVES) gets, in place of its offload line. */
const LEGACY_LINE = `legacy: the original DiVES (only sockaddr announcements heard); sent plain frames of at most ${LEGACY_MAX_DATAGRAM - PEER_HDR_LEN} bytes, nothing else`;

/** "offload: yes (not on VLANs 20,30), 120 frames in, 450 out", or why the peer gets none. */
function offloadLine(p: PeerInfo, on: boolean): string {
  const counts = `${p.offloadedIn} frames in, ${p.offloadedOut} out`;
  if (!on) return `offload: off here (--no-peer-offload), ${counts}`;
  if (p.plainVids === null) return `offload: no (the peer has not advertised it), ${counts}`;
  return `offload: yes${p.plainVids.length > 0 ? ` (not on VLANs ${p.plainVids.join(',')})` : ''}, ${counts}`;
}

async function showPeers(ctx: CommandContext): Promise<CommandResult> {
  const info = await ctx.sw.showPeers();
  return { lines: peersLines(info), json: info };
}

async function peer(ctx: CommandContext): Promise<CommandResult> {
  const p = await ctx.sw.addStaticPeer(ctx.args.string('HOST'), ctx.args.number('PORT'));
  const state = p.state === 'up' ? 'up' : 'down until it answers a keepalive';
  return { lines: [`static peer ${p.address} added (${state})`], json: { peer: p } };
}

async function noPeer(ctx: CommandContext): Promise<CommandResult> {
  const host = ctx.args.string('HOST');
  const port = ctx.args.number('PORT');
  await ctx.sw.removeStaticPeer(host, port);
  const shown = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return { lines: [`static peer ${shown} removed`], json: { removed: { host, port } } };
}

const HOST_PORT: ArgSpec[] = [
  { name: 'HOST', parse: parsePeerHost },
  { name: 'PORT', parse: parsePort },
];

export const PEER_COMMANDS: readonly CommandSpec[] = [
  command({ mode: 'switch', syntax: 'show peers', example: 'show peers', handler: showPeers, help: 'Show the peers: address, how learned, state, time since heard, frames and bytes in/out, drops.' }),
  command({
    mode: 'switch',
    syntax: 'peer HOST PORT',
    example: 'peer 10.0.0.9 3333',
    args: HOST_PORT,
    handler: peer,
    help: 'Add a static peer at HOST PORT (for networks without multicast); it must list this switch too.',
  }),
  command({ mode: 'switch', syntax: 'no peer HOST PORT', example: 'no peer 10.0.0.3 3333', args: HOST_PORT, handler: noPeer, help: 'Remove the static peer at HOST PORT; its port and MACs go at once.' }),
];
