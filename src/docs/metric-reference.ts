// The list of metric names in docs/operations.md, made from src/metrics/switch-metrics.ts
// (and, through it, the counter sets of src/core/counters.ts): each family with its type,
// its labels and what it is, as a Grafana or alerting author needs it. `npm run docs`
// writes it; a test fails when the committed page differs. Pure; main thread.

import { metricCatalogue } from '../metrics/switch-metrics.js';

export function renderMetricReference(): string[] {
  const rows = metricCatalogue().map((f) => `| \`${f.name}\` | ${f.type} | ${f.labels.map((l) => `\`${l}\``).join(', ') || '-'} | ${f.help.replace(/\|/g, '\\|')} |`);
  return ['| metric | type | labels | what it is |', '|---|---|---|---|', ...rows];
}
