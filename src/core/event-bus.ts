// EventBus: where the switch's events (src/core/event-kinds.ts) go. A component emits
// one (`EventBus.of(log).emit({ kind: 'peer-up', ... })`); the bus stamps it, writes its
// text form to the log at its kind's level — through the LogLimiter when someone outside
// the switch can cause it — and hands it to every subscriber (each `monitor`, the tests).
// Main thread only: threads report what happened to main, which emits.
//
// The bus travels with the Logger every component already has, as the LogLimiter does
// (EventBus.of), so a port manager, the thread supervisor or the capture code can emit
// without being handed one more object; a switch has one Logger, so it has one bus.

import type { Logger } from './log.js';
import { LogLimiter } from './log-limiter.js';
import { EVENT_KIND_NAMES, byOutsider, eventLevel, eventText, type DivesEvent, type StampedEvent, limitKind } from './event-kinds.js';

/** What a subscriber is given: every event, stamped, in the order they were emitted. */
export type EventListener = (e: StampedEvent) => void;

/** Events the bus takes; `events-dropped` is a monitor's own (src/control/event-stream.ts). */
export type BusEvent = Exclude<DivesEvent, { kind: 'events-dropped' }>;

const buses = new WeakMap<Logger, EventBus>();

export class EventBus {
  readonly #log: Logger;
  readonly #listeners = new Set<EventListener>();
  /** The clock events are stamped by, ms since the epoch. */
  readonly now: () => number;
  /** Events emitted since the switch started, by kind (every kind the bus takes, zeros included): /metrics serves them. */
  readonly counts: Record<BusEvent['kind'], number> = Object.fromEntries(EVENT_KIND_NAMES.filter((k) => k !== 'events-dropped').map((k) => [k, 0])) as Record<BusEvent['kind'], number>;

  constructor(log: Logger, now: () => number = Date.now) {
    this.#log = log;
    this.now = now;
  }

  /** The bus of everything that logs through `log`, made on first use. */
  static of(log: Logger): EventBus {
    let bus = buses.get(log);
    if (bus === undefined) {
      bus = new EventBus(log);
      buses.set(log, bus);
    }
    return bus;
  }

  /** Subscribers now (the monitors attached). */
  get subscribers(): number {
    return this.#listeners.size;
  }

  /** Call `listener` with every event from now on; returns the function that stops it. */
  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** Log `e` and hand it to every subscriber. Never throws: whoever emits is in the middle of its own work. */
  emit(e: BusEvent): void {
    const stamped: StampedEvent = { ...e, time: this.now() };
    this.counts[e.kind]++;
    const level = eventLevel(e);
    if (level !== 'none') {
      if (byOutsider(e)) LogLimiter.of(this.#log)[level](limitKind(e), eventText(e));
      else this.#log[level](eventText(e));
    }
    for (const listener of this.#listeners) {
      try {
        listener(stamped);
      } catch (err) {
        this.#log.error(`events: a subscriber failed on ${e.kind}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      }
    }
  }
}
