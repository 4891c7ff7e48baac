// ProcSampler: what the switch process holds, read from /proc/PID every SAMPLE_EVERY_MS while
// the robustness suite runs: resident memory (VmRSS), threads, and open fds. Scenarios mark
// where they start and ask for the peak since. Runs on the hostile runner's main thread.

import { readdirSync, readFileSync } from 'node:fs';

export interface ProcSample {
  at: number;
  rssKiB: number;
  threads: number;
  fds: number;
}

/** One look at /proc/PID, or null once the process is gone. */
export function sampleProc(pid: number): ProcSample | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    const threads = /^Threads:\s+(\d+)$/m.exec(status);
    const fds = readdirSync(`/proc/${pid}/fd`).length;
    return { at: Date.now(), rssKiB: Number(rss?.[1] ?? 0), threads: Number(threads?.[1] ?? 0), fds };
  } catch {
    return null;
  }
}

export function mib(kib: number): number {
  return Math.round((kib / 1024) * 10) / 10;
}

export class ProcSampler {
  private readonly samples: ProcSample[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly pid: number,
    private readonly everyMs: number,
  ) {}

  start(): void {
    this.take();
    this.timer ??= setInterval(() => this.take(), this.everyMs);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** A fresh sample now (also kept), or the last one if the process is gone. */
  now(): ProcSample {
    return this.take() ?? this.samples[this.samples.length - 1] ?? { at: Date.now(), rssKiB: 0, threads: 0, fds: 0 };
  }

  /** A position to ask peaks from. */
  mark(): number {
    return this.samples.length;
  }

  /** The largest of each figure in the samples since `mark`. */
  peakSince(mark: number): ProcSample {
    const peak: ProcSample = { at: 0, rssKiB: 0, threads: 0, fds: 0 };
    for (let i = mark; i < this.samples.length; i++) {
      const s = this.samples[i];
      peak.rssKiB = Math.max(peak.rssKiB, s.rssKiB);
      peak.threads = Math.max(peak.threads, s.threads);
      peak.fds = Math.max(peak.fds, s.fds);
      peak.at = Math.max(peak.at, s.at);
    }
    return peak;
  }

  private take(): ProcSample | null {
    const s = sampleProc(this.pid);
    if (s !== null) this.samples.push(s);
    return s;
  }
}
