// PortKindParts: what the main side of every kind of port is built from — the forwarding
// pool its ports join, the port table, the ring table (and its memory budget), where the
// drops of ports that left go, the log, and the largest frame. The switch makes one and
// hands it to each kind it registers (src/switch/port-kinds.ts). Main thread.

import type { Logger } from '../core/log.js';
import type { ForwardingPool } from './forwarding-pool.js';
import type { LeftPorts } from './left-ports.js';
import type { PortTable } from './port-table.js';
import type { RingTable } from './ring-table.js';

export interface PortKindParts {
  readonly pool: ForwardingPool;
  readonly ports: PortTable;
  readonly rings: RingTable;
  readonly left: LeftPorts;
  readonly log: Logger;
  /** The largest plain frame a port takes (without a virtio_net_hdr). */
  readonly maxFrame: number;
  /** Call when what a kind's ports take may have changed beyond the port table (a peer advertised): the switch decides offloads again. */
  readonly offloadsChanged: () => void;
}
