// DropWatch: the `drops-rising` event. Once a second, while at least one monitor is
// attached to the event bus, it reads every port's drop counters (`show ports`, the same
// snapshots the command prints) and reports each (port, reason) whose count went up
// after a check in which it had not: a counter that starts climbing is reported once,
// and again only after it has stood still for a second. Without a monitor it asks no
// thread anything, so an idle switch pays nothing; the counters themselves are always in
// `show ports` and /metrics. Main thread.

import { PORT_DROPS } from '../core/counters.js';
import type { PortInfo } from '../control/switch-api.js';
import type { EventBus } from '../core/event-bus.js';

export const DROP_WATCH_INTERVAL_MS = 1000;

/** What was seen of one port at the last check: its drops by reason, and which reasons were rising. */
interface Seen {
  drops: Float64Array;
  rising: Uint8Array;
}

export class DropWatch {
  readonly #bus: EventBus;
  readonly #ports: () => Promise<PortInfo[]>;
  readonly #timer: NodeJS.Timeout;
  /** By "vid/id/name", so a port id given to a new port starts afresh. */
  readonly #seen = new Map<string, Seen>();
  #busy = false;

  constructor(bus: EventBus, ports: () => Promise<PortInfo[]>, intervalMs = DROP_WATCH_INTERVAL_MS) {
    this.#bus = bus;
    this.#ports = ports;
    this.#timer = setInterval(() => void this.check(), intervalMs);
    this.#timer.unref();
  }

  /** One check; the timer calls it. Public for tests. */
  async check(): Promise<void> {
    if (this.#bus.subscribers === 0) {
      // Nobody watches: forget, so a monitor that comes later starts from a fresh baseline.
      this.#seen.clear();
      return;
    }
    if (this.#busy) return;
    this.#busy = true;
    try {
      this.#compare(await this.#ports());
    } catch {
      // A forwarding thread that is restarting does not answer; the next check asks again.
    } finally {
      this.#busy = false;
    }
  }

  #compare(ports: PortInfo[]): void {
    const live = new Set<string>();
    for (const p of ports) {
      const key = `${p.vid}/${p.id}/${p.name}`;
      live.add(key);
      const seen = this.#seen.get(key);
      const now = PORT_DROPS.names.map((r) => p.drops[r]);
      if (seen === undefined) {
        // First sight is the baseline: drops from before the monitor came are not news.
        this.#seen.set(key, { drops: Float64Array.from(now), rising: new Uint8Array(now.length) });
        continue;
      }
      for (let i = 0; i < now.length; i++) {
        const delta = now[i] - seen.drops[i];
        if (delta > 0 && seen.rising[i] === 0) {
          this.#bus.emit({ kind: 'drops-rising', vid: p.vid, portId: p.id, port: p.name, reason: PORT_DROPS.names[i], delta, total: now[i] });
        }
        seen.rising[i] = delta > 0 ? 1 : 0;
        seen.drops[i] = now[i];
      }
    }
    for (const key of this.#seen.keys()) if (!live.has(key)) this.#seen.delete(key);
  }

  close(): void {
    clearInterval(this.#timer);
    this.#seen.clear();
  }
}
