// Port limits of a VLAN: storm control (frames/s each port may flood as broadcast,
// multicast or unknown unicast) and the MAC limit (MACs each port may have learned), as
// set by `storm-control` and `mac-limit` in VLAN mode. Every port of the VLAN is metered
// on its own, so one VM's storm costs only its own frames. The settings are kept by main
// (src/forwarding/forwarding-pool.ts) and applied by the VLAN's forwarding thread
// (src/forwarding/vlan-engine.ts), whose per-port meter is the StormMeter below.
// Pure; main thread and forwarding thread.

export const STORM_CLASSES = ['broadcast', 'multicast', 'unknown'] as const;
export type StormClass = (typeof STORM_CLASSES)[number];
export const STORM_BROADCAST = 0;
export const STORM_MULTICAST = 1;
export const STORM_UNKNOWN = 2;

/** A VLAN's port limits; 0 is off. */
export interface PortLimits {
  /** Frames/s each port may flood, by class: broadcast, multicast, unknown unicast. */
  storm: [number, number, number];
  /** MACs each port may have learned at once. */
  macLimit: number;
}

export function noLimits(): PortLimits {
  return { storm: [0, 0, 0], macLimit: 0 };
}

export function hasLimits(l: PortLimits): boolean {
  return l.macLimit > 0 || l.storm.some((r) => r > 0);
}

/** The commands that set `l`, as rc lines (the running-config) or, joined, as a note. */
export function limitLines(l: PortLimits): string[] {
  const lines = STORM_CLASSES.flatMap((c, i) => (l.storm[i] > 0 ? [`storm-control ${c} ${l.storm[i]}`] : []));
  return l.macLimit > 0 ? [...lines, `mac-limit ${l.macLimit}`] : lines;
}

/**
 * One port's storm meter: a token bucket per class, filled at the class's rate and
 * holding at most one second of it, so a port may flood in a burst what it may in a
 * second. Per frame it does arithmetic on three numbers: no allocation, no throw.
 */
export class StormMeter {
  private readonly tokens = new Float64Array(3);
  private readonly at = new Float64Array(3);

  constructor(nowMs: number) {
    this.at.fill(nowMs);
    this.tokens.fill(Number.POSITIVE_INFINITY);
  }

  /** Whether one frame of class `c` may go at nowMs under `rate` frames/s (0: no limit). */
  take(c: number, rate: number, nowMs: number): boolean {
    if (rate <= 0) return true;
    const t = this.tokens;
    const elapsed = nowMs - this.at[c];
    this.at[c] = nowMs;
    let have = t[c] + (elapsed * rate) / 1000;
    if (have > rate) have = rate;
    if (have < 1) {
      t[c] = have;
      return false;
    }
    t[c] = have - 1;
    return true;
  }
}
