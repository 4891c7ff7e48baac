// The counter reference of docs/architecture.md, made from src/core/counters.ts: for
// each set, the command that prints it and a table of its names, who counts each and
// what it means. `npm run docs` writes it; a test fails when the committed page differs.
// Pure; main thread.

import { COUNTER_SETS } from '../core/counters.js';

export function renderCounterReference(): string[] {
  const out: string[] = [];
  for (const set of COUNTER_SETS) {
    out.push(`Per ${set.per}, printed by \`${set.shownBy}\`:`, '', '| counter | counted by | meaning |', '|---|---|---|');
    for (const name of set.names) out.push(`| \`${name}\` | ${set.defs[name].by} | ${set.defs[name].help} |`);
    out.push('');
  }
  return out.slice(0, -1);
}
