// TapWatch: the TAPs whose device went away underneath the switch (`ip link del`, a
// hypervisor that removed it), detached and waited for. Once a second it asks the kernel
// whether a device of each name exists again (if_nametoindex) and, when one does, has
// TapPorts attach it to its VLAN again; until then `show taps` lists it as gone and
// `show running-config` keeps its `tap` line, since the operator configured it. An
// attempt that fails (the name is now a TUN, say) is logged once per reason and tried
// again a second later. Main thread.

import type { Logger } from '../core/log.js';
import { loadLibc } from '../linux/libc.js';

export interface GoneTap {
  name: string;
  vid: number;
  /** When the device went away (ms since the epoch). */
  since: number;
  /** What the TAP's I/O thread saw (e.g. "read failed (errno 77)"). */
  reason: string;
  /** The last reason an attempt to attach it again failed, logged once. */
  lastError?: string;
}

export class TapWatch {
  private readonly gone = new Map<string, GoneTap>();
  private timer: NodeJS.Timeout | null = null;
  private checking = false;

  constructor(
    /** Attach the TAP again (throws when it cannot). */
    private readonly reattach: (g: GoneTap) => Promise<void>,
    private readonly log: Logger,
    private readonly intervalMs = 1000,
  ) {}

  /** Wait for `g.name` to come back. */
  add(g: GoneTap): void {
    this.gone.set(g.name, g);
    if (this.timer === null) {
      this.timer = setInterval(() => void this.check(), this.intervalMs);
      this.timer.unref();
    }
  }

  get(name: string): GoneTap | undefined {
    return this.gone.get(name);
  }

  list(): GoneTap[] {
    return [...this.gone.values()];
  }

  /** Stop waiting for `name`; returns what was waited for, if anything. */
  forget(name: string): GoneTap | undefined {
    const g = this.gone.get(name);
    this.gone.delete(name);
    if (this.gone.size === 0) this.close();
    return g;
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** One look at every gone TAP. Public so tests need not wait for the timer. */
  async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const libc = loadLibc();
      for (const g of this.list()) {
        if (libc.if_nametoindex(g.name) === 0) continue;
        try {
          await this.reattach(g);
          if (this.gone.get(g.name) === g) this.forget(g.name);
          this.log.info(`tap ${g.name}: the device is back; attached to VLAN ${g.vid} again`);
        } catch (err) {
          const why = err instanceof Error ? err.message : String(err);
          if (why !== g.lastError) this.log.warn(`tap ${g.name}: the device is back but cannot be attached (${why}); trying again every ${this.intervalMs / 1000} s`);
          g.lastError = why;
        }
      }
    } finally {
      this.checking = false;
    }
  }
}
