// How the JSON of a `show` command becomes Prometheus metrics: a family (name, type,
// help, label names) and the samples read from the command's JSON, and how a counter set
// of src/core/counters.ts becomes families. Each command area names the families of what
// its `show` commands print (CommandArea, src/control/command-registry.ts); src/metrics/ serves them.
// Types only, and two helpers to write them; main thread.

import type { CounterSet } from '../core/counters.js';
import type { CoreControl } from './switch-api.js';

export type MetricType = 'counter' | 'gauge';

/** A metric family as the docs list it: what it is, without values. */
export interface FamilySpec {
  /** dives_port_rx_frames_total; a counter's name ends in _total. */
  name: string;
  type: MetricType;
  help: string;
  /** Label names, in the order each sample gives their values. */
  labels: readonly string[];
}

export interface Sample {
  /** One value per label name of the family, in its order. */
  labels: readonly (string | number)[];
  value: number;
}

/** One family and where its samples come from: the JSON of `command`, or the switch itself (null). */
export interface FamilySource {
  spec: FamilySpec;
  command: string | null;
  samples(doc: unknown, sw: CoreControl): Sample[];
}

/** One record of a counter set: its label values, and its counts by counter name. */
export interface SetRow {
  labels: readonly (string | number)[];
  counts: Readonly<Record<string, number>>;
}

/** A counter set as metrics: read from the JSON of the set's own `show` command (its shownBy, run at switch level). */
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

export const counter = (name: string, help: string, labels: string[]): FamilySpec => ({ name, type: 'counter', help, labels });
export const gauge = (name: string, help: string, labels: string[]): FamilySpec => ({ name, type: 'gauge', help, labels });

/**
 * The JSON a `show` command printed, as the SwitchControl result type it was made from.
 * The cast is the one place that trusts the command's JSON form; the test that walks every
 * counter of every set through a scrape of the sample switch checks it holds.
 */
export function docOf<T>(doc: unknown): T {
  return doc as T;
}

/** The one record of a set counted once for the whole switch (a socket's, discovery's), or none when its `show` has none. */
export function oneRow(counts: Record<string, number> | undefined): SetRow[] {
  return counts === undefined ? [] : [{ labels: [], counts }];
}
