// Every metric family DiVES serves at /metrics, and the scrape that fills them. Each
// family is read from the JSON of one `show` command, run through the command registry
// at switch level as an operator would run it — so a scrape and `dives ctl --json show
// ports` at the same moment agree, and nothing is counted twice or kept between scrapes.
// Each command area names the families of its `show` commands (frames and bytes, states
// and sizes; src/control/commands/areas.ts), the counter sets' families come from
// src/metrics/counter-metrics.ts, and the ones here are the events and build info.
// Scrapes run on demand only, on the main thread; the counters stay where they are counted.

import { readFileSync } from 'node:fs';
import type { CommandRegistry } from '../control/command-registry.js';
import type { SwitchControl } from '../control/commands/areas.js';
import { AREAS } from '../control/commands/areas.js';
import { counter, gauge, type FamilySource, type FamilySpec } from '../control/metric-sources.js';
import { isDivesError } from '../core/errors.js';
import { COUNTER_METRICS, setFamilies } from './counter-metrics.js';
import type { MetricFamily } from './exposition.js';

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

/** The families that are the switch's own, not an area's show command's. */
const BUILD_INFO: FamilySource = {
  spec: gauge('dives_build_info', 'Always 1: the DiVES version and the Node.js it runs on.', ['version', 'node']),
  command: null,
  samples: () => [{ labels: [packageVersion(), process.version], value: 1 }],
};
const EVENTS: FamilySource = {
  spec: counter('dives_events_total', 'Events the switch reported, by kind (what dives ctl monitor prints; docs/console.md#events-and-monitor).', ['kind']),
  command: null,
  samples: (_d, sw) => Object.entries(sw.events.counts).map(([kind, n]) => ({ labels: [kind], value: n })),
};

const SCRAPE_ERRORS: FamilySpec = gauge('dives_scrape_errors', 'A show command that failed in this scrape, so its families lack samples; 1 each (absent when none failed).', ['command']);

/** Every family /metrics serves, with where it comes from: the build, each area's families (src/control/commands/areas.ts), the events, then every counter set. */
function sources(): FamilySource[] {
  const fromSets = COUNTER_METRICS.flatMap((m) => setFamilies(m).map((f): FamilySource => ({ spec: f.spec, command: m.set.shownBy, samples: (doc) => f.samples(m.rows(doc)) })));
  return [BUILD_INFO, ...AREAS.flatMap((a) => a.metrics ?? []), EVENTS, ...fromSets];
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
