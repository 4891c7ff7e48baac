// The peer commands of DiVES — `show peers`, `peer HOST PORT`, `no peer HOST PORT` —
// as CommandRegistry records. Each handler only parses, calls SwitchControl and
// formats; it runs on the main thread.

import type { ArgSpec, CommandArea, CommandContext, CommandResult, CommandSpec } from '../command-registry.js';
import { compareText, formatAge, formatBytes, formatCounters, formatNotedTable, quoteWord } from '../format.js';
import type { PeerInfo, PeersInfo, StaticPeer } from '../../peer/peer-info.js';
import { command, parsePeerHost, parsePort } from './args.js';
import { LEGACY_MAX_DATAGRAM, PEER_HDR_LEN } from '../../peer/wire/peer-datagram.js';
import { DISCOVERY_COUNTERS, PEER_DROPS, PEER_SOCKET_COUNTERS } from '../../core/counters.js';
import { formatHostPort } from '../../linux/host-port.js';
import { counter, docOf, gauge, oneRow, type FamilySource } from '../metric-sources.js';

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

async function showPeers(ctx: Ctx): Promise<CommandResult> {
  const info = await ctx.sw.showPeers();
  return { lines: peersLines(info), json: info };
}

async function peer(ctx: Ctx): Promise<CommandResult> {
  const p = await ctx.sw.addStaticPeer(ctx.args.string('HOST'), ctx.args.number('PORT'));
  const state = p.state === 'up' ? 'up' : 'down until it answers a keepalive';
  return { lines: [`static peer ${p.address} added (${state})`], json: { peer: p } };
}

async function noPeer(ctx: Ctx): Promise<CommandResult> {
  const host = ctx.args.string('HOST');
  const port = ctx.args.number('PORT');
  await ctx.sw.removeStaticPeer(host, port);
  return { lines: [`static peer ${formatHostPort(host, port)} removed`], json: { removed: { host, port } } };
}

const HOST_PORT: ArgSpec[] = [
  { name: 'HOST', parse: parsePeerHost },
  { name: 'PORT', parse: parsePort },
];

/** What the peer commands ask of the switch (src/peer/peering.ts). */
export interface PeerControl {
  /** Every peer with its state and counters, discovery's counters and the stranger count. */
  showPeers(): Promise<PeersInfo>;
  /** Configure a static peer (keepalives give it liveness); DivesError EATTACHED if it already is one. */
  addStaticPeer(host: string, port: number): Promise<PeerInfo>;
  /** Forget a static peer; DivesError ENOTATTACHED if it is not one. */
  removeStaticPeer(host: string, port: number): Promise<void>;
  /** The static peers as configured, for the running-config (`peer HOST PORT` lines). */
  staticPeers(): StaticPeer[];
}

type Ctl = PeerControl;
type Ctx = CommandContext<Ctl>;

export const PEER_COMMANDS: readonly CommandSpec<Ctl>[] = [
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

const peers = (d: unknown): PeersInfo['peers'] => docOf<PeersInfo>(d).peers;
const peerFamily = (name: string, help: string, field: 'framesIn' | 'bytesIn' | 'framesOut' | 'bytesOut' | 'keepalivesIn' | 'keepalivesOut' | 'offloadedIn' | 'offloadedOut'): FamilySource => ({
  spec: counter(name, `${help} (show peers).`, ['peer']),
  command: 'show peers',
  samples: (d) => peers(d).map((p) => ({ labels: [p.address], value: p[field] })),
});

/** The peer commands, the static peers' lines in the running-config, and the peers' metrics. */
export const PEER_AREA: CommandArea<Ctl> = {
  commands: PEER_COMMANDS,
  config: (sw) => {
    const configured = sw.staticPeers().map((p) => ({ host: p.host, port: p.port })).sort((a, b) => compareText(a.host, b.host) || a.port - b.port);
    return { lines: configured.map((p) => `peer ${quoteWord(p.host)} ${p.port}`), json: { peers: configured } };
  },
  metrics: [
    { spec: gauge('dives_peer_up', '1 while a peer is up, 0 while it is down (show peers).', ['peer', 'learned']), command: 'show peers', samples: (d) => peers(d).map((p) => ({ labels: [p.address, p.learned], value: p.state === 'up' ? 1 : 0 })) },
    peerFamily('dives_peer_rx_frames_total', 'Frames received from a peer', 'framesIn'),
    peerFamily('dives_peer_rx_bytes_total', 'Bytes of the frames received from a peer', 'bytesIn'),
    peerFamily('dives_peer_tx_frames_total', 'Frames sent to a peer', 'framesOut'),
    peerFamily('dives_peer_tx_bytes_total', 'Bytes of the frames sent to a peer', 'bytesOut'),
    peerFamily('dives_peer_keepalives_received_total', 'Keepalives received from a peer', 'keepalivesIn'),
    peerFamily('dives_peer_keepalives_sent_total', 'Keepalives sent to a peer', 'keepalivesOut'),
    peerFamily('dives_peer_offloaded_rx_frames_total', 'Offloaded frames (TCP segments, checksums to do) received from a peer', 'offloadedIn'),
    peerFamily('dives_peer_offloaded_tx_frames_total', 'Offloaded frames sent to a peer', 'offloadedOut'),
  ],
  counters: [
    {
      set: PEER_DROPS,
      subject: 'dives_peer',
      labels: ['peer'],
      reasons: { word: 'drops', help: 'Datagrams and frames of a peer the peer I/O thread dropped, by reason (the drops of show peers)' },
      rows: (d) => peers(d).map((p) => ({ labels: [p.address], counts: p.drops })),
    },
    { set: PEER_SOCKET_COUNTERS, subject: 'dives_peer_socket', labels: [], rows: (d) => oneRow(docOf<PeersInfo>(d).counters) },
    { set: DISCOVERY_COUNTERS, subject: 'dives_discovery', labels: [], rows: (d) => oneRow(docOf<PeersInfo>(d).discovery?.counters) },
  ],
};
