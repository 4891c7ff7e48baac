// How each counter set of src/core/counters.ts becomes metrics: the JSON of the set's own
// `show` command (its shownBy, run at switch level), where each record of the set sits
// in it, and the labels that tell the records apart. A set of drop reasons becomes one
// family with a `reason` label (dives_port_drops_total{vid,port,kind,reason}); any other
// set one family per counter (dives_vlan_forwarded_total{vid}). A counter added to a set
// is exported at once, with its help text; a set added to counters.ts needs a line here,
// and test/metrics/counter-metrics.test.ts says so. Pure; main thread.

import {
  CAPTURE_COUNTERS,
  COUNTER_SETS,
  DISCOVERY_COUNTERS,
  LISTENER_REFUSALS,
  MIRROR_COUNTERS,
  PEER_DROPS,
  PEER_SOCKET_COUNTERS,
  PORT_DROPS,
  RING_COUNTERS,
  THREAD_COUNTERS,
  TRUNK_DROPS,
  VLAN_COUNTERS,
  VTEP_DROPS,
  VXLAN_COUNTERS,
  type CounterSet,
} from '../core/counters.js';
import type { CapturesInfo, MirrorsInfo } from '../capture/capture-info.js';
import type { ListenerInfo, PeersInfo, PortInfo, RingInfo, ThreadInfo, VlanInfo, VxlanInfo } from '../control/switch-api.js';
import type { TrunkInfo } from '../tap/trunk-ports.js';
import type { FamilySpec, Sample } from './exposition.js';

/** One record of a set: its label values, and its counts by counter name. */
export interface SetRow {
  labels: readonly (string | number)[];
  counts: Readonly<Record<string, number>>;
}

export interface SetMetrics {
  set: CounterSet<string>;
  /** The front of every family name: "dives_port". */
  subject: string;
  /** Label names of each record, in the order SetRow.labels gives them. */
  labels: readonly string[];
  /** The counter names are reasons: one family `${subject}_${reasons}_total` with a `reason` label, and this help. */
  reasons?: { word: string; help: string };
  /** The records in the JSON document the set's `show` command printed. */
  rows(doc: unknown): SetRow[];
}

/**
 * The JSON a `show` command printed, as the SwitchControl result type it was made from.
 * The cast is the one place that trusts the command's JSON form; the test that walks every
 * counter of every set through a scrape of the sample switch checks it holds.
 */
function docOf<T>(doc: unknown): T {
  return doc as T;
}

const one = (counts: Record<string, number> | undefined): SetRow[] => (counts === undefined ? [] : [{ labels: [], counts }]);

/** Every counter set, exported. In COUNTER_SETS order where it can be; the test checks none is missing. */
export const COUNTER_METRICS: readonly SetMetrics[] = [
  {
    set: PORT_DROPS,
    subject: 'dives_port',
    labels: ['vid', 'port', 'kind'],
    reasons: { word: 'drops', help: 'Frames of a port dropped, by reason (the drops of show ports)' },
    rows: (d) => docOf<{ ports: PortInfo[] }>(d).ports.map((p) => ({ labels: [p.vid, p.name, p.kind], counts: p.drops })),
  },
  { set: VLAN_COUNTERS, subject: 'dives_vlan', labels: ['vid'], rows: (d) => docOf<{ vlans: VlanInfo[] }>(d).vlans.map((v) => ({ labels: [v.vid], counts: v.counters })) },
  {
    set: PEER_DROPS,
    subject: 'dives_peer',
    labels: ['peer'],
    reasons: { word: 'drops', help: 'Datagrams and frames of a peer the peer I/O thread dropped, by reason (the drops of show peers)' },
    rows: (d) => docOf<PeersInfo>(d).peers.map((p) => ({ labels: [p.address], counts: p.drops })),
  },
  { set: PEER_SOCKET_COUNTERS, subject: 'dives_peer_socket', labels: [], rows: (d) => one(docOf<PeersInfo>(d).counters) },
  { set: DISCOVERY_COUNTERS, subject: 'dives_discovery', labels: [], rows: (d) => one(docOf<PeersInfo>(d).discovery?.counters) },
  { set: VXLAN_COUNTERS, subject: 'dives_vxlan', labels: [], rows: (d) => one(docOf<VxlanInfo>(d).counters) },
  {
    set: VTEP_DROPS,
    subject: 'dives_vtep',
    labels: ['vid', 'vtep', 'kind'],
    reasons: { word: 'drops', help: 'Frames of a VXLAN VTEP the VXLAN I/O thread dropped, by reason (the drops of show vxlan)' },
    rows: (d) => docOf<VxlanInfo>(d).vlans.flatMap((v) => v.vteps.map((t) => ({ labels: [v.vid, t.address, t.kind], counts: t.drops }))),
  },
  { set: THREAD_COUNTERS, subject: 'dives_thread', labels: ['thread', 'kind'], rows: (d) => docOf<{ threads: ThreadInfo[] }>(d).threads.map((t) => ({ labels: [t.name, t.kind], counts: t.counters })) },
  {
    set: LISTENER_REFUSALS,
    subject: 'dives_listener',
    labels: ['vid', 'listener'],
    reasons: { word: 'refused', help: 'QEMU connections a listener closed at once, by reason (the refusals of show listeners)' },
    rows: (d) => docOf<{ listeners: ListenerInfo[] }>(d).listeners.map((l) => ({ labels: [l.vid, l.address], counts: l.refused })),
  },
  { set: RING_COUNTERS, subject: 'dives_ring', labels: ['id', 'ring'], rows: (d) => docOf<{ rings: RingInfo[] }>(d).rings.map((r) => ({ labels: [r.id, r.name], counts: r.counters })) },
  {
    set: TRUNK_DROPS,
    subject: 'dives_trunk',
    labels: ['trunk'],
    reasons: { word: 'drops', help: 'Frames a trunk TAP sent that reached no VLAN, by reason (the trunk drops of show taps)' },
    rows: (d) => (docOf<{ trunks?: TrunkInfo[] }>(d).trunks ?? []).map((t) => ({ labels: [t.name], counts: t.drops })),
  },
  { set: CAPTURE_COUNTERS, subject: 'dives_capture', labels: [], rows: (d) => one(docOf<CapturesInfo>(d).totals) },
  { set: MIRROR_COUNTERS, subject: 'dives_mirror', labels: [], rows: (d) => one(docOf<MirrorsInfo>(d).totals) },
];

/**
 * A counter's family name: "dives_vlan" and "left-port-drops" → "dives_vlan_left_port_drops_total".
 * A counter named after its set's subject is not named twice: "dives_mirror" and
 * "mirror-full" → "dives_mirror_full_total".
 */
export function counterFamilyName(subject: string, name: string): string {
  const last = subject.slice(subject.lastIndexOf('_') + 1);
  const word = name.startsWith(`${last}-`) ? name.slice(last.length + 1) : name;
  return `${subject}_${word.replace(/-/g, '_')}_total`;
}

/** The families a set becomes, each with how its samples are read from the set's rows. */
export function setFamilies(m: SetMetrics): { spec: FamilySpec; samples(rows: readonly SetRow[]): Sample[] }[] {
  const names = m.set.names;
  if (m.reasons !== undefined) {
    const spec: FamilySpec = { name: `${m.subject}_${m.reasons.word}_total`, type: 'counter', help: `${m.reasons.help}: ${names.join(', ')}.`, labels: [...m.labels, 'reason'] };
    return [{ spec, samples: (rows) => rows.flatMap((r) => names.map((n) => ({ labels: [...r.labels, n], value: r.counts[n] ?? 0 }))) }];
  }
  return names.map((n) => ({
    spec: { name: counterFamilyName(m.subject, n), type: 'counter' as const, help: `${capitalized(m.set.defs[n].help)} (${m.set.shownBy}: ${n}).`, labels: m.labels },
    samples: (rows: readonly SetRow[]) => rows.map((r) => ({ labels: r.labels, value: r.counts[n] ?? 0 })),
  }));
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The sets of COUNTER_SETS with no line in COUNTER_METRICS (the test wants none). */
export function unexportedSets(): CounterSet<string>[] {
  return COUNTER_SETS.filter((s) => !COUNTER_METRICS.some((m) => m.set === s));
}
