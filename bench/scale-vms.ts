// Scale run: 64 VM connections forwarding at once — 32 qemu-load sender/receiver pairs
// (bench/qemu-load.c) spread over 8 VLANs of one DiVES switch, beside the same 32 pairs
// through QEMU's own hubs (one hub per pair, in one QEMU process), 1514-byte frames.
// Aggregate frames/s delivered and fairness (slowest pair over fastest). Bench main thread.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildQemuLoad } from './build-qemu-load.js';
import { dives, qemuHub, throughput } from './topology-qemu-load.js';

const PAIRS = 32;
const VLANS = 8;

export interface VmsRow { name: string; fps: number[]; aggregate: number; fairness: number }

export interface VmsFigure { pairs: number; vlans: number; dives: VmsRow; hub: VmsRow }

async function measure(name: string, setUp: (n: number) => Promise<{ pairs: { a: string; b: string }[]; done: () => Promise<void> }>, bin: string): Promise<VmsRow> {
  const t = await setUp(PAIRS);
  try {
    const fps = await throughput(bin, t.pairs, 1514);
    return { name, fps, aggregate: fps.reduce((a, b) => a + b, 0), fairness: Math.min(...fps) / Math.max(...fps) };
  } finally {
    await t.done();
  }
}

export async function manyVms(): Promise<VmsFigure> {
  const bin = await buildQemuLoad();
  const dir = mkdtempSync(join(tmpdir(), 'dives-bench-vms-'));
  try {
    return {
      pairs: PAIRS,
      vlans: VLANS,
      dives: await measure(`DiVES, ${VLANS} VLANs`, dives(dir, VLANS), bin),
      hub: await measure(`QEMU hub ×${PAIRS}`, qemuHub(), bin),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printVms(v: VmsFigure): void {
  for (const r of [v.dives, v.hub]) console.log(`  ${r.name.padEnd(18)} ${(r.aggregate / 1000).toFixed(0).padStart(6)} kfps aggregate, fairness ${r.fairness.toFixed(2)}`);
  console.log(`  DiVES/QEMU hub: aggregate ${(v.dives.aggregate / v.hub.aggregate).toFixed(2)}×, fairness ${(v.dives.fairness / v.hub.fairness).toFixed(2)}×`);
}
