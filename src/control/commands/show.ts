// The `show` commands of the switch's core — `show vlans`, `show ports`, `show macs`,
// `show threads`, `show rings` — as CommandRegistry records. (`show taps`, `show
// listeners`, `show peers` and `show running-config` sit with their areas.) Each
// handler only calls SwitchControl and formats; it runs on the main thread.

import { limitLines } from '../../forwarding/port-limits.js';
import type { CommandArea, CommandContext, CommandResult, CommandSpec } from '../command-registry.js';
import { formatAge, formatBytes, formatCounters, formatNotedTable, formatTable } from '../format.js';
import type { PortInfo, RingInfo, ThreadInfo, VlanInfo } from '../switch-api.js';
import { command, vlanOf } from './args.js';
import { PORT_DROPS, RING_COUNTERS, THREAD_COUNTERS, VLAN_COUNTERS } from '../../core/counters.js';
import { counter, docOf, gauge, type FamilySource } from '../metric-sources.js';

function vlanNotes(v: VlanInfo): string[] {
  // Forwarded, flooded and dropped have columns of their own.
  const notes = [formatCounters('counters', v.counters, ['forwarded', 'flooded', 'dropped'])];
  if (v.reason !== null) notes.push(`down: ${v.reason}`);
  const limits = limitLines(v.limits);
  if (limits.length > 0) notes.push(`limits: ${limits.join(', ')} (per port)`);
  return notes;
}

async function showVlans(ctx: CommandContext): Promise<CommandResult> {
  const vlans = await ctx.sw.showVlans();
  // A VLAN entered with `vlan ID` but without ports has no forwarding thread yet.
  const rows = vlans.map((v) => [v.vid, v.state, v.ports, v.macs, v.workerThread < 0 ? '-' : v.workerThread, v.forwarded, v.flooded, v.dropped].map(String));
  const lines = formatNotedTable(['VID', 'STATE', 'PORTS', 'MACS', 'WORKER', 'FORWARDED', 'FLOODED', 'DROPPED'], rows, vlans.map(vlanNotes), '(no VLANs)');
  return { lines, json: { vlans } };
}

/** The lines of `show ports`: one row per port, its drop counters on a line of their own (several reasons would make the table too wide). */
export function portLines(ports: PortInfo[], empty: string): string[] {
  const header = ['ID', 'NAME', 'KIND', 'VID', 'RX-FRAMES', 'RX-BYTES', 'TX-FRAMES', 'TX-BYTES'];
  const rows = ports.map((p) => [p.id, p.name, p.kind, p.vid, p.rxFrames, p.rxBytes, p.txFrames, p.txBytes].map(String));
  return formatNotedTable(header, rows, ports.map((p) => [formatCounters('drops', p.drops)]), empty);
}

async function showPorts(ctx: CommandContext): Promise<CommandResult> {
  const vid = ctx.vid;
  const ports = await ctx.sw.showPorts(vid ?? undefined);
  const empty = vid === null ? '(no ports)' : `(no ports in VLAN ${vid})`;
  return { lines: portLines(ports, empty), json: { vid, ports } };
}

async function showMacs(ctx: CommandContext): Promise<CommandResult> {
  const vid = vlanOf(ctx);
  const macs = await ctx.sw.showMacs(vid);
  const rows = macs.map((m) => [m.mac, m.port, formatAge(m.ageSeconds)]);
  return { lines: formatTable(['MAC', 'PORT', 'AGE'], rows, '(no MACs learned)'), json: { vid, macs } };
}

function threadNotes(t: ThreadInfo): string[] {
  // Restarts and wake-ups have columns of their own; the rest are drops.
  const notes: string[] = [];
  const drops = formatCounters('drops', t.counters, ['restarts', 'wakeups']);
  if (drops !== 'drops: none') notes.push(drops);
  if (t.reason !== null) notes.push(`down: ${t.reason}`);
  else if (t.lastDeath !== null) notes.push(`last death: ${t.lastDeath}`);
  return notes;
}

async function showThreads(ctx: CommandContext): Promise<CommandResult> {
  const threads = await ctx.sw.showThreads();
  const rows = threads.map((t) => [t.name, t.kind, t.state, t.cpu < 0 ? '-' : String(t.cpu), t.vlans.join(',') || '-', String(t.counters.restarts), String(t.counters.wakeups)]);
  const lines = formatNotedTable(['NAME', 'KIND', 'STATE', 'CPU', 'VLANS', 'RESTARTS', 'WAKEUPS'], rows, threads.map(threadNotes), '(no threads)');
  return { lines, json: { threads } };
}

function showRings(ctx: CommandContext): CommandResult {
  const rings = ctx.sw.showRings();
  const rows = rings.map((r) => [r.id, r.name, r.producer, r.consumer, formatBytes(r.capacity), formatBytes(r.used), r.counters.pushed, r.counters.full, r.counters.oversize, r.counters.undelivered].map(String));
  const header = ['ID', 'NAME', 'PRODUCER', 'CONSUMER', 'SIZE', 'USED', 'PUSHED', 'FULL', 'OVERSIZE', 'UNDELIVERED'];
  return { lines: formatTable(header, rows, '(no rings)'), json: { rings } };
}

function showTrace(ctx: CommandContext): CommandResult {
  const t = ctx.sw.showTrace();
  const us = (n: number | null): string => (n === null ? '-' : `${n.toFixed(1)} µs`);
  const rows = t.steps.map((s) => [s.from, s.to, us(s.meanUs), String(s.frames)]);
  const total = t.steps.reduce((sum, s) => sum + (s.meanUs ?? 0), 0);
  const lines = [`trace: ${t.on ? 'on ("debug trace off" stops it)' : 'off ("debug trace on" starts it)'}`, ...formatTable(['FROM', 'TO', 'MEAN', 'FRAMES'], rows, '(no steps)'), `in the switch: ${us(total)} a frame`];
  return { lines, json: t };
}

export const SHOW_COMMANDS: readonly CommandSpec[] = [
  command({ mode: 'any', syntax: 'show vlans', example: 'show vlans', handler: showVlans, help: 'Show every VLAN: its state, ports, MACs, worker thread, frame counts and fdb counters.' }),
  command({ mode: 'switch', syntax: 'show ports', example: 'show ports', handler: showPorts, help: 'Show every port of every VLAN with its counters and drops.' }),
  command({ mode: 'vlan', syntax: 'show ports', example: 'show ports', handler: showPorts, help: 'Show the ports of this VLAN with their counters and drops.' }),
  command({ mode: 'vlan', syntax: 'show macs', example: 'show macs', handler: showMacs, help: 'Show the MACs learned in this VLAN, the port each was seen on and its age.' }),
  command({ mode: 'any', syntax: 'show threads', example: 'show threads', handler: showThreads, help: 'Show every thread of the switch: its state, CPU, VLANs, restarts, wake-ups and drops.' }),
  command({ mode: 'any', syntax: 'show trace', example: 'show trace', handler: showTrace, help: 'Show where traced frames spent their time, step by step, from read to written (see "debug trace").' }),
  command({ mode: 'any', syntax: 'show rings', example: 'show rings', handler: showRings, help: 'Show every ring between threads: producer, consumer, size, bytes queued and counters.' }),
];

const PORT_LABELS = ['vid', 'port', 'kind'];
const portFamily = (name: string, help: string, field: 'rxFrames' | 'rxBytes' | 'txFrames' | 'txBytes'): FamilySource => ({
  spec: counter(name, `${help} (show ports).`, PORT_LABELS),
  command: 'show ports',
  samples: (d) => docOf<{ ports: PortInfo[] }>(d).ports.map((p) => ({ labels: [p.vid, p.name, p.kind], value: p[field] })),
});
const vlans = (d: unknown): VlanInfo[] => docOf<{ vlans: VlanInfo[] }>(d).vlans;
const rings = (d: unknown): RingInfo[] => docOf<{ rings: RingInfo[] }>(d).rings;

/** The core `show` commands, and the metrics of ports, VLANs, threads and rings. */
export const SHOW_AREA: CommandArea = {
  commands: SHOW_COMMANDS,
  metrics: [
    portFamily('dives_port_rx_frames_total', 'Frames a port took in', 'rxFrames'),
    portFamily('dives_port_rx_bytes_total', 'Bytes of the frames a port took in', 'rxBytes'),
    portFamily('dives_port_tx_frames_total', 'Frames that left through a port', 'txFrames'),
    portFamily('dives_port_tx_bytes_total', 'Bytes of the frames that left through a port', 'txBytes'),
    { spec: gauge('dives_vlan_up', '1 while a VLAN forwards, 0 while it is down (show vlans).', ['vid']), command: 'show vlans', samples: (d) => vlans(d).map((v) => ({ labels: [v.vid], value: v.state === 'up' ? 1 : 0 })) },
    { spec: gauge('dives_vlan_ports', 'Ports of a VLAN (show vlans).', ['vid']), command: 'show vlans', samples: (d) => vlans(d).map((v) => ({ labels: [v.vid], value: v.ports })) },
    { spec: gauge('dives_vlan_fdb_entries', 'MACs in a VLAN\'s fdb (show vlans: MACS).', ['vid']), command: 'show vlans', samples: (d) => vlans(d).map((v) => ({ labels: [v.vid], value: v.macs })) },
    {
      spec: gauge('dives_thread_up', '1 while a thread runs, 0 while it is down or stopped (show threads).', ['thread', 'kind']),
      command: 'show threads',
      samples: (d) => docOf<{ threads: ThreadInfo[] }>(d).threads.map((t) => ({ labels: [t.name, t.kind], value: t.state === 'up' ? 1 : 0 })),
    },
    { spec: gauge('dives_ring_used_bytes', 'Bytes queued in a ring between two threads (show rings: USED).', ['id', 'ring']), command: 'show rings', samples: (d) => rings(d).map((r) => ({ labels: [r.id, r.name], value: r.used })) },
    { spec: gauge('dives_ring_capacity_bytes', 'Size of a ring\'s data region (show rings: SIZE).', ['id', 'ring']), command: 'show rings', samples: (d) => rings(d).map((r) => ({ labels: [r.id, r.name], value: r.capacity })) },
  ],
  counters: [
    {
      set: PORT_DROPS,
      subject: 'dives_port',
      labels: PORT_LABELS,
      reasons: { word: 'drops', help: 'Frames of a port dropped, by reason (the drops of show ports)' },
      rows: (d) => docOf<{ ports: PortInfo[] }>(d).ports.map((p) => ({ labels: [p.vid, p.name, p.kind], counts: p.drops })),
    },
    { set: VLAN_COUNTERS, subject: 'dives_vlan', labels: ['vid'], rows: (d) => vlans(d).map((v) => ({ labels: [v.vid], counts: v.counters })) },
    { set: THREAD_COUNTERS, subject: 'dives_thread', labels: ['thread', 'kind'], rows: (d) => docOf<{ threads: ThreadInfo[] }>(d).threads.map((t) => ({ labels: [t.name, t.kind], counts: t.counters })) },
    { set: RING_COUNTERS, subject: 'dives_ring', labels: ['id', 'ring'], rows: (d) => rings(d).map((r) => ({ labels: [r.id, r.name], counts: r.counters })) },
  ],
};
