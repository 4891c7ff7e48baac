// bench hand-off: what one hand-off between two threads costs, the way DiVES's threads
// hand a frame over (src/core/doorbell.ts): the receiver announces sleep and blocks in
// Atomics.wait (a forwarding thread) or in poll() on its doorbell's eventfd (a TAP, QEMU
// or peer I/O thread); the sender stamps the time and rings. Measured with both threads
// on one CPU (as --cpu-affinity places a VLAN's threads) and on two, back to back (warm)
// and with 20 ms of idle before each hand-off (cold: what a ping every 20 ms sees). Every
// figure is printed as a ratio against the warm futex hand-off on one CPU of the same
// run. `npm run bench -- hand-off`; the main thread of the bench process starts the two
// threads of each case (this file, run as a Worker) and reads their results.

import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { Doorbell } from '../src/core/doorbell.js';
import { allowedCpus, pinThisThread } from '../src/linux/cpu-affinity.js';
import { eventfdClose, eventfdOpen } from '../src/linux/eventfd.js';

const HAND_OFFS = Number(process.env.DIVES_BENCH_HANDOFFS ?? 150);

interface Case {
  wake: 'futex' | 'eventfd';
  cpus: 'one CPU' | 'two CPUs';
  gapMs: number;
}

interface CaseData extends Case {
  role: 'sender' | 'receiver';
  cpu: number;
  bellSab: SharedArrayBuffer;
  /** Word 0: the sender's stamp; then one one-way latency (ms) per hand-off. */
  resultSab: SharedArrayBuffer;
  /** An fd the receiver also polls (never readable), as a TAP thread polls its TAP. */
  idleFd: number;
}

function now(): number {
  return performance.timeOrigin + performance.now();
}

function idle(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function receiver(d: CaseData, bell: Doorbell, out: Float64Array): void {
  for (let i = 1; i <= HAND_OFFS; i++) {
    bell.prepareSleep();
    if (d.wake === 'futex') bell.sleep(10_000);
    else bell.sleepPoll(d.idleFd, 10_000);
    out[i] = now() - out[0];
  }
}

function sender(d: CaseData, bell: Doorbell, out: Float64Array, words: Int32Array): void {
  for (let i = 1; i <= HAND_OFFS; i++) {
    if (d.gapMs > 0) idle(d.gapMs);
    // Wait until the receiver is asleep (or about to be), as a producer finds it after idle.
    while (Atomics.load(words, 0) !== 1) idle(0.01);
    out[0] = now();
    bell.ring();
    // Let the receiver stamp before the next round.
    while (out[i] === 0) idle(0.01);
  }
}

function runThread(d: CaseData): void {
  pinThisThread(d.cpu);
  const bell = new Doorbell(d.bellSab);
  const out = new Float64Array(d.resultSab);
  if (d.role === 'receiver') receiver(d, bell, out);
  else sender(d, bell, out, new Int32Array(d.bellSab));
}

async function runCase(c: Case, cpus: number[]): Promise<number> {
  const bell = new Doorbell();
  const resultSab = new SharedArrayBuffer(8 * (HAND_OFFS + 1));
  const efd = c.wake === 'eventfd' ? eventfdOpen() : -1;
  const idleFd = eventfdOpen();
  if (efd >= 0) bell.attachEventfd(efd);
  const cpuB = c.cpus === 'one CPU' ? cpus[0] : cpus[1 % cpus.length];
  const base = { ...c, bellSab: bell.sab, resultSab, idleFd };
  try {
    const threads = [
      new Worker(new URL(import.meta.url), { workerData: { ...base, role: 'receiver', cpu: cpuB } satisfies CaseData }),
      new Worker(new URL(import.meta.url), { workerData: { ...base, role: 'sender', cpu: cpus[0] } satisfies CaseData }),
    ];
    await Promise.all(threads.map((w) => new Promise((resolve, reject) => w.once('exit', resolve).once('error', reject))));
  } finally {
    if (efd >= 0) eventfdClose(efd);
    eventfdClose(idleFd);
  }
  const xs = [...new Float64Array(resultSab).slice(1)].sort((a, b) => a - b);
  return xs[xs.length >> 1] * 1000;
}

export interface HandOffRow extends Case {
  medianUs: number;
  ratio: number;
}

/** Every case, printed as it is measured; the first is the reference. */
export async function handOff(): Promise<HandOffRow[]> {
  const cpus = allowedCpus();
  const cases: Case[] = [];
  for (const gapMs of [0, 20]) for (const cpusName of ['one CPU', 'two CPUs'] as const) for (const wake of ['futex', 'eventfd'] as const) cases.push({ wake, cpus: cpusName, gapMs });
  console.log(`\nhand-off between two threads: one-way median of ${HAND_OFFS}, as a ratio of the warm futex hand-off on one CPU`);
  console.log(`${'wake'.padEnd(8)} ${'placement'.padEnd(9)} ${'before each'.padEnd(16)} ${'median'.padStart(9)}  ratio`);
  const rows: HandOffRow[] = [];
  for (const c of cases) {
    const medianUs = await runCase(c, cpus.length > 0 ? cpus : [0]);
    const ratio = medianUs / (rows[0]?.medianUs ?? medianUs);
    rows.push({ ...c, medianUs, ratio });
    console.log(`${c.wake.padEnd(8)} ${c.cpus.padEnd(9)} ${(c.gapMs === 0 ? 'nothing (warm)' : `${c.gapMs} ms idle`).padEnd(16)} ${`${medianUs.toFixed(1)} µs`.padStart(9)}  ${ratio.toFixed(2)}×`);
  }
  return rows;
}

if (!isMainThread) runThread(workerData as CaseData);
