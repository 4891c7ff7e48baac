// The Prometheus text exposition format, version 0.0.4: what `/metrics` serves
// (src/metrics/metrics-server.ts). A family is a name, a type, a help line and label
// names; each sample gives the label values in that order and a value. Written by hand
// (HELP and TYPE lines, escaped label values and help text, NaN/Inf spelled as
// Prometheus reads them) rather than with a client library: the counters live in the
// threads and are read only when scraped, so a registry of live metric objects would
// have nothing to do. Pure; main thread.

import type { FamilySpec, Sample } from '../control/metric-sources.js';

/** The Content-Type of a scrape. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface MetricFamily extends FamilySpec {
  samples: Sample[];
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Whether `spec` names a family and labels as Prometheus accepts them (and no label is reserved, __*). */
export function validFamily(spec: FamilySpec): boolean {
  return NAME_RE.test(spec.name) && spec.labels.every((l) => LABEL_RE.test(l) && !l.startsWith('__')) && new Set(spec.labels).size === spec.labels.length;
}

/** Help text: a backslash and a line feed are escaped. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A label value: a backslash, a double quote and a line feed are escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A sample value as Prometheus parses it (Go's ParseFloat, with its spellings of NaN and the infinities). */
export function formatValue(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

function sampleLine(f: MetricFamily, s: Sample): string {
  if (f.labels.length === 0) return `${f.name} ${formatValue(s.value)}`;
  const pairs = f.labels.map((l, i) => `${l}="${escapeLabelValue(String(s.labels[i] ?? ''))}"`);
  return `${f.name}{${pairs.join(',')}} ${formatValue(s.value)}`;
}

/** Every family, each as its HELP and TYPE lines then its samples, ending in a line feed. */
export function renderExposition(families: readonly MetricFamily[]): string {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) out.push(sampleLine(f, s));
  }
  return `${out.join('\n')}\n`;
}
