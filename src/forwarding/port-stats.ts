// PortStats: the counters the forwarding engine keeps for each member port of a
// VLAN, and their plain-object snapshot for `show ports`. The drop names are
// PORT_DROPS (src/core/counters.ts). Owned by the forwarding thread that runs the
// VLAN; other threads only see snapshots sent over the forwarding thread's control port.

import { PORT_DROPS, type PortDropName } from '../core/counters.js';

export interface PortStatsSnapshot {
  rxFrames: number;
  rxBytes: number;
  txFrames: number;
  txBytes: number;
  drops: Record<PortDropName, number>;
}

export class PortStats {
  rxFrames = 0;
  rxBytes = 0;
  txFrames = 0;
  txBytes = 0;
  /** Indexed by PORT_DROP. */
  readonly drops = PORT_DROPS.create();

  snapshot(): PortStatsSnapshot {
    return { rxFrames: this.rxFrames, rxBytes: this.rxBytes, txFrames: this.txFrames, txBytes: this.txBytes, drops: PORT_DROPS.toRecord(this.drops) };
  }
}
