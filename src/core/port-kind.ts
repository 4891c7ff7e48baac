// The kinds of port a switch has, named once: every table, report and event that says
// what kind a port is uses PortKind; every thread says what kind it is with ThreadKind,
// derived from it (an I/O thread is named for the kind of port it serves). What the switch
// asks of each kind is src/core/port-kind-provider.ts. Constants and types; used on every
// thread.

import type { PortDropName } from './counters.js';

/** Every kind of port, in the order they were added to DiVES. */
export const PORT_KINDS = ['tap', 'qemu', 'peer', 'vxlan'] as const;

/** A TAP device, a QEMU connection, a peer switch, or a VXLAN VTEP. */
export type PortKind = (typeof PORT_KINDS)[number];

/** A forwarding thread, or the I/O thread of a kind of port ("tap-io", "qemu-io", ...). */
export type ThreadKind = 'forwarding' | `${PortKind}-io`;

/** A port as the switch's port table holds it (src/forwarding/port-table.ts). */
export interface PortRecord {
  id: number;
  kind: PortKind;
  /** The port's VLAN (a VXLAN VTEP's too); 0 for a peer port, which is a member of every VLAN that has local ports. */
  vid: number;
  name: string;
}

/** What a port's I/O thread counted on it, by drop reason (PORT_DROPS), for `show ports`. */
export type PortDrops = Partial<Record<PortDropName, number>>;
