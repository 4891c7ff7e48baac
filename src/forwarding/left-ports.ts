// LeftPorts: what stays of a port after it leaves its VLAN (a VM disconnects, a TAP is
// detached, a peer goes down): its drops. `show ports` loses the port's line, so each
// drop is added to the VLAN's left-port-drops (`show vlans`) and logged once with its
// reasons (rate-limited, src/core/log-limiter.ts). The forwarding thread adds what it counted to that counter itself and reports
// the port's last drops here to be logged; what the I/O threads counted (rx-ring-full,
// tap-write) is added and logged here. Main thread.

import { PORT_DROPS } from '../core/counters.js';
import type { PortDrops } from '../core/port-kind.js';
import type { Logger } from '../core/log.js';
import { LogLimiter } from '../core/log-limiter.js';
import type { PortTable } from './port-table.js';

export class LeftPorts {
  /** vid → drops the I/O threads counted on ports that have left it. */
  private readonly io = new Map<number, number>();

  constructor(
    private readonly ports: PortTable,
    private readonly log: Logger,
  ) {}

  /** The forwarding thread removed port `portId` from `vid` with these drops (already in its counter). */
  forwarding(vid: number, portId: number, drops: PortDrops): void {
    this.logDrops(vid, this.ports.get(portId)?.name ?? `port ${portId}`, drops);
  }

  /** Port `name` left `vid` with these drops counted by its I/O thread. */
  ioThread(vid: number, name: string, drops: PortDrops): void {
    const n = total(drops);
    if (n === 0) return;
    this.io.set(vid, (this.io.get(vid) ?? 0) + n);
    this.logDrops(vid, name, drops);
  }

  /** What the I/O threads dropped on ports that left `vid`, for its left-port-drops. */
  ioDrops(vid: number): number {
    return this.io.get(vid) ?? 0;
  }

  private logDrops(vid: number, name: string, drops: PortDrops): void {
    if (total(drops) === 0) return;
    const reasons = PORT_DROPS.names.filter((r) => (drops[r] ?? 0) > 0).map((r) => `${r} ${drops[r]}`);
    // A VM can connect, send junk and hang up at will, so this is a line an outsider can cause.
    LogLimiter.of(this.log).info('port-left-drops', `VLAN ${vid}: ${name} left with drops ${reasons.join(', ')} (kept in show vlans' left-port-drops)`);
  }
}

function total(drops: PortDrops): number {
  let n = 0;
  for (const v of Object.values(drops)) n += v ?? 0;
  return n;
}
