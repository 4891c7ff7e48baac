// Every metric family DiVES serves at /metrics, and the scrape that fills them. Each
// family is read from the JSON of one `show` command, run through the command registry
// at switch level as an operator would run it — so a scrape and `dives ctl --json show
// ports` at the same moment agree, and nothing is counted twice or kept between scrapes.
// The counter sets' families come from src/metrics/counter-metrics.ts; the ones here are
// the frames and bytes, the states and sizes, the events, and build info. Scrapes run on
// demand only, on the main thread; the counters stay where they are counted.

import { readFileSync } from 'node:fs';
import type { CommandRegistry } from '../control/command-registry.js';
import type { ListenerInfo, PeersInfo, PortInfo, RingInfo, SwitchControl, ThreadInfo, VlanInfo } from '../control/switch-api.js';
import { isDivesError } from '../core/errors.js';
import { COUNTER_METRICS, setFamilies } from './counter-metrics.js';
import type { FamilySpec, MetricFamily, Sample } from './exposition.js';

/** One family and where its samples come from: the JSON of `command`, or the switch itself (null). */
interface FamilySource {
  spec: FamilySpec;
  command: string | null;
  samples(doc: unknown, sw: SwitchControl): Sample[];
}

/** DiVES's version, from the package.json two folders above dist/src (in a checkout and in the installed package). */
let version: string | undefined;
function packageVersion(): string {
  if (version === undefined) {
    try {
      version = String((JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown }).version ?? 'unknown');
    } catch {
      version = 'unknown';
    }
  }
  return version;
}

const counter = (name: string, help: string, labels: string[]): FamilySpec => ({ name, type: 'counter', help, labels });
const gauge = (name: string, help: string, labels: string[]): FamilySpec => ({ name, type: 'gauge', help, labels });

const PORT_LABELS = ['vid', 'port', 'kind'];
const portFamily = (name: string, help: string, field: 'rxFrames' | 'rxBytes' | 'txFrames' | 'txBytes'): FamilySource => ({
  spec: counter(name, `${help} (show ports).`, PORT_LABELS),
  command: 'show ports',
  samples: (d) => (d as { ports: PortInfo[] }).ports.map((p) => ({ labels: [p.vid, p.name, p.kind], value: p[field] })),
});
const vlans = (d: unknown): VlanInfo[] => (d as { vlans: VlanInfo[] }).vlans;
const peers = (d: unknown): PeersInfo['peers'] => (d as PeersInfo).peers;
const peerFamily = (name: string, help: string, field: 'framesIn' | 'bytesIn' | 'framesOut' | 'bytesOut' | 'keepalivesIn' | 'keepalivesOut' | 'offloadedIn' | 'offloadedOut'): FamilySource => ({
  spec: counter(name, `${help} (show peers).`, ['peer']),
  command: 'show peers',
  samples: (d) => peers(d).map((p) => ({ labels: [p.address], value: p[field] })),
});
const rings = (d: unknown): RingInfo[] => (d as { rings: RingInfo[] }).rings;

/** The families that are not a counter set's, in the order /metrics serves them. */
const FIXED: readonly FamilySource[] = [
  { spec: gauge('dives_build_info', 'Always 1: the DiVES version and the Node.js it runs on.', ['version', 'node']), command: null, samples: () => [{ labels: [packageVersion(), process.version], value: 1 }] },
  portFamily('dives_port_rx_frames_total', 'Frames a port took in', 'rxFrames'),
  portFamily('dives_port_rx_bytes_total', 'Bytes of the frames a port took in', 'rxBytes'),
  portFamily('dives_port_tx_frames_total', 'Frames that left through a port', 'txFrames'),
  portFamily('dives_port_tx_bytes_total', 'Bytes of the frames that left through a port', 'txBytes'),
  { spec: gauge('dives_vlan_up', '1 while a VLAN forwards, 0 while it is down (show vlans).', ['vid']), command: 'show vlans', samples: (d) => vlans(d).map((v) => ({ labels: [v.vid], value: v.state === 'up' ? 1 : 0 })) },
  { spec: gauge('dives_vlan_ports', 'Ports of a VLAN (show vlans).', ['vid']), command: 'show vlans', samples: (d) => vlans(d).map((v) => ({ labels: [v.vid], value: v.ports })) },
  { spec: gauge('dives_vlan_fdb_entries', 'MACs in a VLAN\'s fdb (show vlans: MACS).', ['vid']), command: 'show vlans', samples: (d) => vlans(d).map((v) => ({ labels: [v.vid], value: v.macs })) },
  { spec: gauge('dives_peer_up', '1 while a peer is up, 0 while it is down (show peers).', ['peer', 'learned']), command: 'show peers', samples: (d) => peers(d).map((p) => ({ labels: [p.address, p.learned], value: p.state === 'up' ? 1 : 0 })) },
  peerFamily('dives_peer_rx_frames_total', 'Frames received from a peer', 'framesIn'),
  peerFamily('dives_peer_rx_bytes_total', 'Bytes of the frames received from a peer', 'bytesIn'),
  peerFamily('dives_peer_tx_frames_total', 'Frames sent to a peer', 'framesOut'),
  peerFamily('dives_peer_tx_bytes_total', 'Bytes of the frames sent to a peer', 'bytesOut'),
  peerFamily('dives_peer_keepalives_received_total', 'Keepalives received from a peer', 'keepalivesIn'),
  peerFamily('dives_peer_keepalives_sent_total', 'Keepalives sent to a peer', 'keepalivesOut'),
  peerFamily('dives_peer_offloaded_rx_frames_total', 'Offloaded frames (TCP segments, checksums to do) received from a peer', 'offloadedIn'),
  peerFamily('dives_peer_offloaded_tx_frames_total', 'Offloaded frames sent to a peer', 'offloadedOut'),
  {
    spec: gauge('dives_thread_up', '1 while a thread runs, 0 while it is down or stopped (show threads).', ['thread', 'kind']),
    command: 'show threads',
    samples: (d) => (d as { threads: ThreadInfo[] }).threads.map((t) => ({ labels: [t.name, t.kind], value: t.state === 'up' ? 1 : 0 })),
  },
  {
    spec: gauge('dives_listener_connections', 'QEMU connections a listener has now (show listeners).', ['vid', 'listener']),
    command: 'show listeners',
    samples: (d) => (d as { listeners: ListenerInfo[] }).listeners.map((l) => ({ labels: [l.vid, l.address], value: l.connections })),
  },
  { spec: gauge('dives_ring_used_bytes', 'Bytes queued in a ring between two threads (show rings: USED).', ['id', 'ring']), command: 'show rings', samples: (d) => rings(d).map((r) => ({ labels: [r.id, r.name], value: r.used })) },
  { spec: gauge('dives_ring_capacity_bytes', 'Size of a ring\'s data region (show rings: SIZE).', ['id', 'ring']), command: 'show rings', samples: (d) => rings(d).map((r) => ({ labels: [r.id, r.name], value: r.capacity })) },
  {
    spec: counter('dives_events_total', 'Events the switch reported, by kind (what dives ctl monitor prints; docs/console.md#events-and-monitor).', ['kind']),
    command: null,
    samples: (_d, sw) => Object.entries(sw.events.counts).map(([kind, n]) => ({ labels: [kind], value: n })),
  },
];

const SCRAPE_ERRORS: FamilySpec = gauge('dives_scrape_errors', 'A show command that failed in this scrape, so its families lack samples; 1 each (absent when none failed).', ['command']);

/** Every family /metrics serves, with where it comes from. */
function sources(): FamilySource[] {
  const fromSets = COUNTER_METRICS.flatMap((m) => setFamilies(m).map((f): FamilySource => ({ spec: f.spec, command: m.set.shownBy, samples: (doc) => f.samples(m.rows(doc)) })));
  return [...FIXED, ...fromSets];
}

/** Every family /metrics serves, without values: for docs (docs/operations.md's list of metric names) and tests. */
export function metricCatalogue(): FamilySpec[] {
  return [...sources().map((s) => s.spec), SCRAPE_ERRORS];
}

/** One scrape: each `show` command the families need, run once, and every family filled from its JSON. */
export async function scrapeMetrics(registry: CommandRegistry, sw: SwitchControl): Promise<MetricFamily[]> {
  const all = sources();
  const docs = new Map<string, unknown>();
  const failed: string[] = [];
  const commands = [...new Set(all.flatMap((s) => (s.command === null ? [] : [s.command])))];
  await Promise.all(
    commands.map(async (c) => {
      try {
        docs.set(c, (await registry.run(c.split(' '), { sw, vid: null })).json);
      } catch (err) {
        failed.push(`${c}: ${isDivesError(err) ? err.code : 'EINTERNAL'}`);
      }
    }),
  );
  const families: MetricFamily[] = all.map((s) => {
    const doc = s.command === null ? null : docs.get(s.command);
    const samples = s.command !== null && doc === undefined ? [] : s.samples(doc, sw);
    return { ...s.spec, samples };
  });
  families.push({ ...SCRAPE_ERRORS, samples: failed.sort().map((c) => ({ labels: [c], value: 1 })) });
  return families;
}
