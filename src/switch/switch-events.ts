// SwitchEvents: the event sources a switch wires at its own level — ports attached and
// detached (the port table), MAC moves and flaps (its forwarding threads' reports), and
// drop counters that start climbing (DropWatch). The other sources emit where they happen:
// QEMU connections (src/qemu/qemu-ports.ts), peers (src/peer/peering.ts), thread
// restarts (src/core/thread-supervisor.ts), VLANs down (src/forwarding/forwarding-pool.ts).
// Main thread.

import type { PortInfo } from '../control/switch-api.js';
import type { ForwardingPool } from '../forwarding/forwarding-pool.js';
import type { PortTable } from '../forwarding/port-table.js';
import { DropWatch } from './drop-watch.js';
import type { EventBus } from '../core/event-bus.js';
import { emitMacMoves } from './mac-move-events.js';

export class SwitchEvents {
  readonly drops: DropWatch;

  constructor(bus: EventBus, ports: PortTable, pool: ForwardingPool, showPorts: () => Promise<PortInfo[]>) {
    ports.onChange((p, added) => bus.emit({ kind: added ? 'port-attached' : 'port-detached', vid: p.vid, portId: p.id, port: p.name, portKind: p.kind }));
    pool.onMacMoves = (thread, moves, unreported) => emitMacMoves(bus, ports, thread, moves, unreported);
    this.drops = new DropWatch(bus, showPorts);
  }

  close(): void {
    this.drops.close();
  }
}
