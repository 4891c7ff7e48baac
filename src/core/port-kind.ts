// The kinds of port a switch has, named once: every table, report and event that says
// what kind a port is uses PortKind, and every thread says what kind it is with
// ThreadKind, derived from it (an I/O thread is named for the kind of port it serves).
// Constants and types; used on every thread.

/** Every kind of port, in the order they were added to DiVES. */
export const PORT_KINDS = ['tap', 'qemu', 'peer', 'vxlan'] as const;

/** A TAP device, a QEMU connection, a peer switch, or a VXLAN VTEP. */
export type PortKind = (typeof PORT_KINDS)[number];

/** A forwarding thread, or the I/O thread of a kind of port ("tap-io", "qemu-io", ...). */
export type ThreadKind = 'forwarding' | `${PortKind}-io`;
