// PortKindProvider: the main thread's side of one kind of port, as the switch sees every
// kind — what `show threads`, `show ports`, the offload decision, memory reclaim, the crash
// drills and shutdown ask of it, whatever the kind — and the shapes those answers take.
// Types; main thread.

import type { PortKind, PortDrops, PortRecord } from './port-kind.js';
import type { ThreadSupervisor } from './thread-supervisor.js';

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
