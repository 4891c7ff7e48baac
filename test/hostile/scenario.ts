// What a scenario of the robustness suite is and reports — the inputs it tried, its checks
// and its figures — and the small waiting helpers every scenario file uses, built on
// test/helpers/until.ts. Read by the runner (test/hostile/run-inside.ts) and by each
// test/hostile/scenarios/*.ts; no I/O.

import { readFileSync } from 'node:fs';
import type { Rig } from './rig.js';
import { sleep, within } from '../helpers/until.js';

export interface Check {
  scenario: string;
  name: string;
  ok: boolean;
  /** The figures the verdict came from, e.g. "strangers +20000 = sent 20000". */
  detail: string;
}

/** What one scenario tried and found; the runner adds the health checks every scenario gets. */
export class ScenarioOut {
  inputs = 0;
  readonly checks: Check[] = [];
  readonly figures: Record<string, string | number> = {};

  constructor(readonly scenario: string) {}

  check(name: string, ok: boolean, detail: string): boolean {
    this.checks.push({ scenario: this.scenario, name, ok, detail });
    return ok;
  }

  figure(key: string, value: string | number): void {
    this.figures[key] = value;
  }
}

export interface Scenario {
  /** Short, kebab-case: what --only takes and the figures table prints. */
  name: string;
  /** One line for the docs and the log. */
  what: string;
  /** Also checks that RSS comes back within BOUNDS.rssAfterMaxRatio of its start after the settle. */
  memoryHeavy?: boolean;
  /** Ends the switch (SIGTERM): runs after the run's "after" figures, and no health check follows. */
  endsSwitch?: boolean;
  /** Takes the static peer down on purpose, so the check that it stayed up does not apply. */
  downsPeer?: boolean;
  run(rig: Rig, out: ScenarioOut): Promise<void>;
}

export { sleep };

/** Poll `cond` every `everyMs` until it holds: the time it took (ms), or -1 after timeoutMs. */
export async function timeUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<number> {
  const start = Date.now();
  return (await within(cond, timeoutMs, { everyMs })) ? Date.now() - start : -1;
}

/** The rows of /proc/net/udp (this namespace) for sockets bound to `port`, split into columns. */
function udpRows(port: number): string[][] {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/udp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols.length >= 13 && cols[1].endsWith(hex));
}

/**
 * Datagrams the kernel dropped on UDP sockets of this namespace bound to `port` (the
 * `drops` column of /proc/net/udp): inputs that reached the host but never the switch,
 * because its socket's buffer was full.
 */
export function kernelUdpDrops(port: number): number {
  return sum(udpRows(port).map((cols) => Number(cols[12])));
}

/** Bytes waiting in the receive queues of UDP sockets bound to `port`. */
export function udpQueued(port: number): number {
  return sum(udpRows(port).map((cols) => parseInt(cols[4].split(':')[1] ?? '0', 16)));
}

/**
 * Pace a sender to its receiver: wait while more than `bytes` wait in the queue of the
 * sockets on `port` (at most `maxMs`), so a flood measures how the switch counts, not how
 * small a kernel buffer is. Drops that still happen are counted by kernelUdpDrops().
 */
export async function paceTo(port: number, bytes: number, maxMs = 200): Promise<void> {
  await within(() => udpQueued(port) <= bytes, maxMs, { everyMs: 1 });
}

export function sum(values: Iterable<number>): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}
