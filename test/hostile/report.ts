// The robustness suite's figures: one row per scenario, the run's totals (inputs, crashes,
// pings, RSS, fds, threads, peer detect and heal times, SIGTERM exit time), the failed checks,
// printed as text tables and written as JSON beside the switch's log. Runs on the hostile
// runner's main thread (test/hostile/run-inside.ts).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BOUNDS } from './hostile-config.js';
import { mib, type ProcSample } from './proc-sampler.js';
import type { Check } from './scenario.js';
import type { PingTotals } from './ping-monitor.js';

export interface ScenarioRow {
  name: string;
  inputs: number;
  seconds: number;
  logLines: number;
  rssStartKiB: number;
  rssPeakKiB: number;
  rssEndKiB: number;
  fdsStart: number;
  fdsPeak: number;
  fdsEnd: number;
  pingsLost: number;
  figures: Record<string, string | number>;
  failed: number;
}

export interface RunReport {
  seed: number;
  budget: 'short' | 'full';
  started: string;
  node: string;
  source: string;
  seconds: number;
  rows: ScenarioRow[];
  before: ProcSample;
  peak: ProcSample;
  after: ProcSample;
  ping: PingTotals;
  crashes: { exits: number; restarts: number };
  /** Bytes of ring buffers between the switch's threads, before and after: memory whose pages stay resident once a flood has touched them. */
  ringBytes: { before: number; after: number };
  checks: Check[];
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

/** The figures table, one row per scenario. */
export function scenarioTable(rows: ScenarioRow[]): string {
  return table(
    ['scenario', 'inputs', 'time s', 'log lines', 'RSS start/peak/end MiB', 'fds start/peak/end', 'pings lost', 'failed checks'],
    rows.map((r) => [
      r.name,
      String(r.inputs),
      r.seconds.toFixed(1),
      String(r.logLines),
      `${mib(r.rssStartKiB)}/${mib(r.rssPeakKiB)}/${mib(r.rssEndKiB)}`,
      `${r.fdsStart}/${r.fdsPeak}/${r.fdsEnd}`,
      String(r.pingsLost),
      String(r.failed),
    ]),
  );
}

/** The run's totals, as "what: figure (bound)" lines. */
export function totals(r: RunReport): string[] {
  const fig = (name: string, key: string): string =>
    r.rows
      .filter((x) => x.name === name || x.name.startsWith(`${name}#`))
      .map((x) => String(x.figures[key] ?? '-'))
      .join('; ') || '-';
  return [
    `inputs tried: ${r.rows.reduce((s, x) => s + x.inputs, 0)}`,
    `crashes: ${r.crashes.exits + r.crashes.restarts} (process exits ${r.crashes.exits}, thread restarts ${r.crashes.restarts}; bound ${BOUNDS.crashesMax})`,
    `pings: ${r.ping.sent} sent, ${r.ping.lost} lost (bound ${BOUNDS.pingsLostMax})${r.ping.lost > 0 ? `, seqs ${r.ping.lostSeqs.slice(0, 20).join(',')}` : ''}`,
    `RSS MiB: before ${mib(r.before.rssKiB)}, peak ${mib(r.peak.rssKiB)}, after ${mib(r.after.rssKiB)} (bound ${BOUNDS.rssAfterMaxRatio}x before and the live rings = ${mib(r.before.rssKiB * BOUNDS.rssAfterMaxRatio + r.ringBytes.after / 1024)})`,
    `ring buffers: ${mib(r.ringBytes.before / 1024)} MiB allocated before, ${mib(r.ringBytes.after / 1024)} MiB after (their pages stay resident once touched)`,
    `fds: before ${r.before.fds}, peak ${r.peak.fds}, after ${r.after.fds} (bound before + ${BOUNDS.fdsAfterSlack})`,
    `threads: before ${r.before.threads}, peak ${r.peak.threads}, after ${r.after.threads} (bound before + ${BOUNDS.threadsAfterSlack})`,
    `killed peer shown down after: ${fig('peer-kill-restart', 'detect ms')} ms (bound ${BOUNDS.peerDetectMaxMs})`,
    `frames cross again after the peer's restart: ${fig('peer-kill-restart', 'heal ms')} ms (bound ${BOUNDS.peerHealMaxMs})`,
    `deleted TAP gone / up again after: ${fig('tap-deleted', 'gone after ms')} / ${fig('tap-deleted', 'up again after ms')} ms`,
    `SIGTERM under traffic: exit after ${fig('sigterm-under-traffic', 'exit ms')} ms (bound ${BOUNDS.sigtermExitMaxMs})`,
  ];
}

/** Print the whole report; returns the number of failed checks. */
export function printReport(r: RunReport, print: (line: string) => void): number {
  print('');
  print(`hostile: figures (seed ${r.seed}, ${r.budget} budget, ${r.seconds.toFixed(0)} s, ${r.started}, node ${r.node}, ${r.source})`);
  print(scenarioTable(r.rows));
  print('');
  for (const l of totals(r)) print(`  ${l}`);
  for (const row of r.rows) {
    const extra = Object.entries(row.figures).map(([k, v]) => `${k} ${v}`);
    if (extra.length > 0) print(`  ${row.name}: ${extra.join('; ')}`);
  }
  const failed = r.checks.filter((c) => !c.ok);
  print('');
  print(`hostile: ${r.checks.length} checks, ${failed.length} failed`);
  for (const c of failed) print(`  FAIL ${c.scenario}: ${c.name}: ${c.detail}`);
  return failed.length;
}

export function writeReport(r: RunReport, dir: string, stamp: string): string {
  const file = join(dir, `hostile-${stamp}.json`);
  writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
  return file;
}
