// The kinds of port a switch has, named once, and what the switch asks of each: every
// table, report and event that says what kind a port is uses PortKind; every thread says
// what kind it is with ThreadKind, derived from it (an I/O thread is named for the kind of
// port it serves); and every kind's main side is a PortKindProvider. Constants and types;
// used on every thread.

import type { PortDropName } from './counters.js';
import type { ThreadSupervisor } from './thread-supervisor.js';

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

/** One I/O thread of a kind, as `show threads` lists it. */
export interface KindThread {
  io: ThreadSupervisor;
  /** The CPU it pins itself to, or -1. */
  cpu: number;
  /** Wake-ups its doorbell has paid for. */
  wakeups: number;
}

/**
 * Where offloaded frames (a virtio_net_hdr that asks for work: a TCP segment of up to 64
 * KiB, a checksum still to do) may go, as the switch decided it from every kind's needs
 * (src/switch/offloads.ts): a kind that can act on it (TAPs turn their offloads on or
 * off, peers tell each other) is told.
 */
export interface OffloadDecision {
  /** The TAPs of `vid` may hand over offloaded frames. */
  tapsOffload(vid: number): boolean;
  /** The VLANs where peers must send this switch plain frames only, sorted. */
  plainFromPeers: number[];
}

/**
 * The main thread's side of one kind of port, as the switch sees every kind: the hooks
 * `show threads`, `show ports`, the offload decision, memory reclaim, the crash drills and
 * shutdown call, whatever the kind. A kind implements it once (src/tap/tap-kind.ts,
 * src/qemu/qemu-ports.ts, src/peer/peer-kind.ts, src/vxlan/vxlan-ports.ts) and is
 * registered in one line (src/switch/areas.ts), the way Open vSwitch's netdev providers
 * fill one struct and are registered in one list. Main thread.
 */
export interface PortKindProvider {
  readonly kind: PortKind;
  /**
   * Its ports carry frames from other switches (a peer, a VXLAN VTEP): the engine keeps
   * split horizon between them, and they go first when the switch stops, so nothing more
   * arrives from outside while the other ports go.
   */
  readonly remote: boolean;
  /**
   * Whether a port of this kind takes an offloaded frame, coming from a TAP and coming
   * from a peer (a QEMU connection takes neither, a VTEP only what a peer sends it, which
   * is nothing: split horizon). A kind that decides per VLAN says so in takesOffload().
   */
  readonly offloads: { fromTaps: boolean; fromPeers: boolean };
  /** Its ports in `vid` take offloaded frames from TAPs now (a peer that advertised it does); without it, offloads.fromTaps. */
  takesOffload?(vid: number): boolean;
  /** VLANs that want plain frames whatever the port table says yet (a trunk's, before its ports exist). */
  plainVids?(): Iterable<number>;
  /** The switch decided where offloaded frames may go: act on it (TAPs, peers). */
  applyOffloads?(d: OffloadDecision): void;
  /** Its I/O threads, for `show threads`. */
  threads(): KindThread[];
  /** What its I/O threads dropped on its ports, by port id: added to the forwarding threads' drops in `show ports`. */
  ioDrops(): Promise<Map<number, PortDrops>>;
  /** The rows `show ports` prints for one of its ports: the port itself, or one per VLAN it is a member of (a peer's). */
  portRows?(port: PortRecord, vid?: number): PortRecord[];
  /** Ask its I/O threads to collect garbage: ports went and their rings are to be freed (src/switch/memory-reclaim.ts). */
  gc?(): void;
  /** End its I/O thread (the one of port `name`, for a kind with one each) as a crash would: the `debug crash-...` drills. */
  crash(name?: string): Promise<void>;
  /** Detach every port and stop every thread of the kind. */
  close(): Promise<void>;
}
