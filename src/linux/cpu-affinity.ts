// CPU affinity: the CPUs this thread may run on, and pinning the calling thread to one
// of them. Main reads the set once (allowedCpus); each data-path thread pins itself at
// start (pinThisThread) to the CPU main chose for it (src/forwarding/forwarding-pool.ts).
// Runs on any thread. See docs/performance.md, "CPU affinity", for why DiVES pins.

import { describeErrno, loadLibc } from './libc.js';

/** cpu_set_t holds 1024 CPUs in glibc; that is what the kernel accepts as a mask size. */
const MASK_BYTES = 128;

/** The CPUs the calling thread may run on, in ascending order ([] if the kernel will not say). */
export function allowedCpus(): number[] {
  const mask = new Uint8Array(MASK_BYTES);
  const c = loadLibc();
  if (c.sched_getaffinity(0, MASK_BYTES, mask) < 0) return [];
  const cpus: number[] = [];
  for (let i = 0; i < MASK_BYTES * 8; i++) if ((mask[i >> 3] & (1 << (i & 7))) !== 0) cpus.push(i);
  return cpus;
}

/** Pin the calling thread to `cpu`. Returns null, or why the kernel refused. Never throws. */
export function pinThisThread(cpu: number): string | null {
  if (!Number.isInteger(cpu) || cpu < 0 || cpu >= MASK_BYTES * 8) return `no CPU ${cpu}`;
  try {
    const c = loadLibc();
    const mask = new Uint8Array(MASK_BYTES);
    mask[cpu >> 3] = 1 << (cpu & 7);
    return c.sched_setaffinity(0, MASK_BYTES, mask) < 0 ? describeErrno(c.errno()) : null;
  } catch (err) {
    return String(err);
  }
}
