// Where a ping's time goes inside DiVES: the bench turns `debug trace` on in each switch
// through `dives ctl` (as an operator would), pings again, reads `show trace` and prints
// each step's share of that ping's RTT. Run after a topology's figures are taken, so
// tracing never touches them. Bench main thread.

import type { TraceInfo } from '../src/control/switch-api.js';
import { runCtl } from '../test/helpers/ctl-process.js';
import type { NetnsFixture } from '../test/helpers/netns.js';
import { pingRtt, type Row } from './bench-kit.js';

/** One switch's trace of a ping, and the mean RTT of that traced ping. */
export interface FrameBudget {
  rttUs: number;
  switches: TraceInfo[];
}

async function ctl(dir: string, line: string): Promise<unknown> {
  const r = await runCtl(['-u', dir, '--json', line]);
  if (r.code !== 0) throw new Error(`dives ctl ${line}: exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Traces a ping from `ns` to `to` through the switches whose socket directories are `dirs`. */
export async function tracedPing(fx: NetnsFixture, ns: string, to: string, dirs: string[]): Promise<FrameBudget> {
  return traceDuring(dirs, () => pingRtt(fx, ns, to));
}

/** Runs `probe` (which returns an RTT in µs) with tracing on in the switches whose socket directories are `dirs`. */
export async function traceDuring(dirs: string[], probe: () => Promise<number>): Promise<FrameBudget> {
  for (const d of dirs) await ctl(d, 'debug trace on');
  const rttUs = await probe();
  const switches: TraceInfo[] = [];
  for (const d of dirs) {
    switches.push((await ctl(d, 'show trace')) as TraceInfo);
    await ctl(d, 'debug trace off');
  }
  return { rttUs, switches };
}

/**
 * The lines the table prints under a DiVES row: per switch, each step's mean time and
 * its share of the RTT. A ping crosses every switch twice (request and reply), so a
 * switch's share is twice its time per frame.
 */
export function budgetLines(b: FrameBudget): string[] {
  const pct = (us: number): string => `${((100 * us) / b.rttUs).toFixed(0)}%`;
  const lines = [`  where a traced ping's ${b.rttUs.toFixed(0)} µs RTT goes in DiVES (a ping crosses each switch twice):`];
  for (const [i, sw] of b.switches.entries()) {
    const steps = sw.steps.map((s) => `${s.to} ${s.meanUs === null ? '—' : `${s.meanUs.toFixed(1)} µs`}`);
    const total = sw.steps.reduce((sum, s) => sum + (s.meanUs ?? 0), 0);
    lines.push(`    switch ${i + 1}: ${steps.join(', ')}; in the switch ${total.toFixed(1)} µs a frame, ${pct(2 * total)} of the RTT`);
  }
  return lines;
}

/** budgetLines for a DiVES row that has a budget; nothing for a failed row. */
export function budgetAfter(r: Row): string[] {
  const b = r.figures.extra?.budget as FrameBudget | undefined;
  return b === undefined ? [] : budgetLines(b);
}
