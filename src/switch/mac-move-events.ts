// What a forwarding thread's MAC move report (src/forwarding/mac-moves.ts) becomes on
// main: a `mac-moved` or `mac-flap` event per move, with the ports' names as the port
// table has them now, and one `mac-moves-unreported` for the moves left out. Main thread.

import { macToString } from '../core/frame.js';
import type { PortTable } from '../forwarding/port-table.js';
import { MOVE_FIELDS } from '../forwarding/mac-moves.js';
import type { EventBus } from '../core/event-bus.js';

export function emitMacMoves(bus: EventBus, ports: PortTable, thread: string, moves: Float64Array, unreported: number): void {
  // A port may have gone since the move; its id still says which one it was.
  const name = (id: number): string => ports.get(id)?.name ?? `port ${id}`;
  for (let at = 0; at + MOVE_FIELDS <= moves.length; at += MOVE_FIELDS) {
    const fromId = moves[at + 2];
    const toId = moves[at + 3];
    bus.emit({
      kind: moves[at + 4] === 1 ? 'mac-flap' : 'mac-moved',
      vid: moves[at],
      mac: macToString(moves[at + 1]),
      from: name(fromId),
      fromId,
      to: name(toId),
      toId,
    });
  }
  if (unreported > 0) bus.emit({ kind: 'mac-moves-unreported', thread, count: unreported });
}
