// EventStream: one `monitor`'s subscription to the event bus, as a CommandStream for the
// control socket. Each event (of the kinds asked for) becomes one line, text or JSON
// (src/core/event-kinds.ts). A client that does not read is never queued for: while
// its sink is not ready, events are dropped and counted, and once it reads again it is
// first told how many (an `events-dropped` line), so a slow monitor costs at most its
// socket's buffer. Main thread.

import type { CommandStream, LineSink, StreamHandle } from './command-stream.js';
import type { EventBus } from '../core/event-bus.js';
import { eventLine, type EventKind, type StampedEvent } from '../core/event-kinds.js';

export class EventStream implements StreamHandle {
  readonly #sink: LineSink;
  readonly #json: boolean;
  readonly #kinds: ReadonlySet<EventKind> | null;
  readonly #unsubscribe: () => void;
  /** Events dropped since the client last read, not yet reported to it. */
  #dropped = 0;
  /** Events dropped for this client in all. */
  droppedTotal = 0;
  #closed = false;

  readonly #bus: EventBus;

  constructor(bus: EventBus, sink: LineSink, opts: { json: boolean; kinds: ReadonlySet<EventKind> | null }) {
    this.#bus = bus;
    this.#sink = sink;
    this.#json = opts.json;
    this.#kinds = opts.kinds;
    this.#unsubscribe = bus.subscribe((e) => this.#deliver(e));
  }

  #deliver(e: StampedEvent): void {
    if (this.#closed || (this.#kinds !== null && !this.#kinds.has(e.kind))) return;
    if (!this.#sink.ready) {
      this.#dropped++;
      this.droppedTotal++;
      return;
    }
    this.#owed();
    this.#sink.write(eventLine(e, this.#json));
  }

  /** Tell the client how many events it missed, if any and if it reads. */
  #owed(): void {
    if (this.#dropped === 0 || !this.#sink.ready) return;
    const count = this.#dropped;
    this.#dropped = 0;
    this.#sink.write(eventLine({ kind: 'events-dropped', count, time: this.#bus.now() }, this.#json));
  }

  resume(): void {
    if (!this.#closed) this.#owed();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
  }
}

/** The stream of `bus`'s events of `kinds` (all when null), for a command to return. */
export function eventStreamOf(bus: EventBus, kinds: ReadonlySet<EventKind> | null): CommandStream {
  return { open: (sink, json) => new EventStream(bus, sink, { json, kinds }) };
}
