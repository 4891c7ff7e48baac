// How each counter set of src/core/counters.ts becomes metrics: the area whose `show`
// command prints the set says where each record of the set sits in that command's JSON
// and the labels that tell the records apart (SetMetrics, src/control/metric-sources.ts).
// A set of drop reasons becomes one family with a `reason` label
// (dives_port_drops_total{vid,port,kind,reason}); any other set one family per counter
// (dives_vlan_forwarded_total{vid}). A counter added to a set is exported at once, with
// its help text; a set added to counters.ts needs a line in its area, and
// test/metrics/counter-metrics.test.ts says so. Pure; main thread.

import { COUNTER_SETS, type CounterSet } from '../core/counters.js';
import { AREAS } from '../control/commands/areas.js';
import type { FamilySpec, Sample, SetMetrics, SetRow } from '../control/metric-sources.js';

/** Every counter set, exported: each area's (src/control/commands/areas.ts), in the order of the areas; the test checks none is missing. */
export const COUNTER_METRICS: readonly SetMetrics[] = AREAS.flatMap((a) => a.counters ?? []);

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
