// Every counter DiVES keeps, defined once: its name as `show` prints it, what it
// means, and which `show` command prints it — in the manner of Open vSwitch's
// COVERAGE_DEFINE. Code counts into a Float64Array indexed by a set's `index`
// (`drops[PORT_DROP.runt]++`), never by a name typed twice; `show` turns the array
// into a name → count record with every name present, zeros included; and
// docs/architecture.md's drop table is generated from the sets below (`npm run docs`).
// Used on every thread; the sets are constants, so each thread has its own copy.

import { MAC_FLAP_MOVES } from './mac-move-limits.js';

/** One kind of thing counted: its name, what it means, and which thread counts it. */
export interface CounterDef {
  /** What it means, as one sentence fragment for docs and `help`. */
  readonly help: string;
  /** The thread that counts it: "forwarding thread", "TAP I/O thread", ... */
  readonly by: string;
}

/** A group of counters kept together per object (a port, a peer, a VLAN, a thread, a ring) and printed by one `show`. */
export class CounterSet<N extends string> {
  /** The names in index order. */
  readonly names: readonly N[];
  /** name → position in a counting array made by create(). */
  readonly index: { readonly [K in N]: number };

  constructor(
    /** What each set of counts belongs to: "port", "peer", ... */
    readonly per: string,
    /** The command whose output shows every name of this set (text and `json`). */
    readonly shownBy: string,
    readonly defs: { readonly [K in N]: CounterDef },
  ) {
    this.names = Object.keys(defs) as N[];
    this.index = Object.freeze(Object.fromEntries(this.names.map((n, i) => [n, i]))) as { [K in N]: number };
  }

  /** A zeroed array to count in, indexed by `index`. */
  create(): Float64Array {
    return new Float64Array(this.names.length);
  }

  /** The counts as name → count, every name present (zeros too), in index order. */
  toRecord(counts: ArrayLike<number>): Record<N, number> {
    const out = {} as Record<N, number>;
    for (let i = 0; i < this.names.length; i++) out[this.names[i]] = counts[i] ?? 0;
    return out;
  }

  /** A record with every name at zero. */
  zero(): Record<N, number> {
    return this.toRecord([]);
  }
}

const ENGINE = 'forwarding thread';
const TAP_IO = 'TAP I/O thread';
const QEMU_IO = 'QEMU I/O thread';
const PEER_IO = 'peer I/O thread';
const VXLAN_IO = 'VXLAN I/O thread';
const MAIN = 'main thread';

/** Why a frame of one port was dropped. `show ports` prints them under each port. */
export const PORT_DROPS = new CounterSet('port', 'show ports', {
  runt: { by: ENGINE, help: 'received frame shorter than an Ethernet header (14 bytes)' },
  giant: { by: ENGINE, help: 'received frame longer than the maximum frame' },
  'same-port': { by: ENGINE, help: 'received unicast whose destination was learned on this same port' },
  'split-horizon': { by: ENGINE, help: 'unicast from a peer (a DiVES switch or a VXLAN VTEP) to a MAC behind another peer: peers never forward for each other' },
  'ring-full': { by: ENGINE, help: 'frame for this port that its tx ring had no room for (a VM that stops reading fills its own)' },
  offload: { by: ENGINE, help: 'offloaded frame (TCP segment, checksum to do) for a port that takes only plain frames' },
  'rx-ring-full': { by: `${TAP_IO} / ${QEMU_IO}`, help: 'received frame the rx ring toward the forwarding thread had no room for' },
  'tap-write': { by: TAP_IO, help: 'frame the TAP refused to take (link down, queue full)' },
  'storm-broadcast': { by: ENGINE, help: 'received broadcast over the VLAN\'s storm-control broadcast rate for this port' },
  'storm-multicast': { by: ENGINE, help: 'received multicast over the VLAN\'s storm-control multicast rate for this port' },
  'storm-unknown': { by: ENGINE, help: 'received unicast for an unknown MAC (to be flooded) over the VLAN\'s storm-control unknown rate for this port' },
  'mac-limit': { by: ENGINE, help: 'received frame from a new source MAC while the port had the VLAN\'s mac-limit of MACs learned' },
});

/**
 * Why a trunk's I/O thread dropped a frame the trunk sent before it reached any VLAN
 * (src/core/trunk-demux.ts, for trunk TAPs and QEMU trunk listeners); `show trunks` prints
 * them under each trunk TAP, and their sum; `show listeners` under each trunk listener.
 */
export const TRUNK_DROPS = new CounterSet('trunk', 'show trunks', {
  untagged: { by: `${TAP_IO} / ${QEMU_IO}`, help: 'untagged (or priority-tagged) frame on a trunk that has no native VLAN' },
  'unlisted-vid': { by: `${TAP_IO} / ${QEMU_IO}`, help: "tagged frame whose vid is not on the trunk's list" },
  'double-tag': { by: `${TAP_IO} / ${QEMU_IO}`, help: 'frame with a second tag inside the first (QinQ), which a trunk does not carry' },
  'bad-tag': { by: `${TAP_IO} / ${QEMU_IO}`, help: 'frame whose tag is malformed: cut short, vid 4095, or an outer service tag (0x88a8, 0x9100)' },
});

/**
 * A capture's frames (src/capture/capture-session.ts), counted over every capture since
 * the switch started and per capture; `show captures` prints them.
 */
export const CAPTURE_COUNTERS = new CounterSet('capture', 'show captures', {
  captured: { by: MAIN, help: 'frames written to the capture file or stream' },
  'capture-full': { by: ENGINE, help: "frames not captured because the capture ring was full: its reader (a file, `dives ctl` and what reads it) fell behind; the switch's own frames are never held up" },
});

/** A mirror's copies (src/capture/mirrors.ts); `show mirrors` prints them per mirror and their sum. */
export const MIRROR_COUNTERS = new CounterSet('mirror', 'show mirrors', {
  mirrored: { by: ENGINE, help: "copies queued toward the mirror's monitoring TAP" },
  'mirror-full': { by: ENGINE, help: "copies dropped because the mirror's ring toward the monitoring TAP was full (the monitoring side fell behind)" },
  'mirror-write': { by: TAP_IO, help: 'copies the monitoring TAP refused to take (link down, queue full)' },
});

/** Counted per VLAN by its forwarding thread; `show vlans` prints them. */
export const VLAN_COUNTERS = new CounterSet('VLAN', 'show vlans', {
  forwarded: { by: ENGINE, help: 'frames sent to the one port their destination was learned on' },
  flooded: { by: ENGINE, help: 'frames sent to every member port but the ingress (broadcast, multicast, unknown unicast)' },
  dropped: { by: ENGINE, help: 'frames that left through no port (the ports\' drop counters say why)' },
  learned: { by: ENGINE, help: 'MACs learned (new, or again after they expired)' },
  moved: { by: ENGINE, help: 'known MACs seen on another port than before' },
  'mac-flaps': { by: ENGINE, help: `MACs that moved more than ${MAC_FLAP_MOVES} times within a second (flapping): each reported once as a mac-flap event, its further moves only counted in moved until it stays put for a second` },
  'fdb-full': { by: ENGINE, help: 'new MACs not learned because the fdb was full' },
  aged: { by: ENGINE, help: 'MACs removed because they were not seen for the ageing time' },
  flushed: { by: ENGINE, help: 'MACs removed by a flush (a peer went down)' },
  deleted: { by: ENGINE, help: 'MACs removed with the port they were learned on' },
  'no-port': { by: ENGINE, help: 'frame dropped: its record named a port this VLAN does not have (it just left)' },
  'left-port-drops': { by: `${ENGINE} / ${MAIN}`, help: 'drops counted on ports that have since left the VLAN (a VM that disconnected, a TAP detached, a peer gone); show ports lost their lines, the log has each one\'s reasons' },
});

/**
 * Why the peer thread dropped a datagram or frame of one peer; `show peers` prints them
 * under each peer. The first three are the peer datagram codec's reasons
 * (src/peer/wire/peer-datagram.ts returns -1 - index); bad-vnet-hdr is the
 * virtio_net_hdr check's (src/peer/wire/vnet-hdr-check.ts).
 */
export const PEER_DROPS = new CounterSet('peer', 'show peers', {
  short: { by: PEER_IO, help: 'datagram shorter than a vid word plus an Ethernet header' },
  'bad-vid': { by: PEER_IO, help: 'datagram whose vid word is 0, 4095 or above (and not a keepalive or advertisement)' },
  giant: { by: PEER_IO, help: 'datagram whose frame is over the maximum frame' },
  'bad-vnet-hdr': { by: PEER_IO, help: 'offloaded frame whose virtio_net_hdr does not fit it (unknown flags or segment type, a bad segment size, checksum or header length outside the frame)' },
  'no-vlan': { by: PEER_IO, help: 'frame for a VLAN with no local ports here' },
  down: { by: PEER_IO, help: 'frame from a known peer that has no port (not up yet, or going down)' },
  'rx-ring-full': { by: PEER_IO, help: 'frame the rx ring toward the forwarding thread had no room for' },
  'too-big': { by: PEER_IO, help: 'frame to send that is over the largest UDP payload with its header' },
  'queue-full': { by: PEER_IO, help: "frame to send that the socket's send buffer had no room for" },
  'send-error': { by: PEER_IO, help: 'datagram the kernel refused to send (no route, too big for the path)' },
  offload: { by: PEER_IO, help: 'offloaded frame for a peer that takes none on its VLAN' },
  'legacy-too-big': { by: PEER_IO, help: 'frame to a legacy peer (the original DiVES) whose datagram is over the 16384 bytes it reads from a peer' },
  unauthenticated: { by: PEER_IO, help: 'datagram without an authenticator, from a peer of a switch that has a cluster key (--key-file)' },
  keyed: { by: PEER_IO, help: 'sealed datagram from a peer of a switch that has no cluster key' },
  'unknown-key': { by: PEER_IO, help: 'sealed datagram whose key id this switch does not hold ("show keys")' },
  'bad-auth': { by: PEER_IO, help: 'sealed datagram whose MAC is not genuine: a changed bit, a forgery, or one sealed for another switch or for this one before it restarted' },
  replay: { by: PEER_IO, help: 'genuine sealed datagram whose counter was seen before, or is older than the replay window' },
  'unknown-session': { by: PEER_IO, help: 'genuine sealed datagram of a session the peer has not yet shown fresh by a keepalive or announcement (it restarted), or not addressed to this switch' },
  'no-session': { by: PEER_IO, help: "frame to a peer whose session this keyed switch does not know yet, not sent: the peer would refuse it unaddressed" },
  stale: { by: PEER_IO, help: 'genuine keepalive of a new session whose timestamp is outside the allowed clock skew or not newer than the last' },
});

/** Counted by the peer thread for the socket as a whole; `show peers` prints them. */
export const PEER_SOCKET_COUNTERS = new CounterSet('peer socket', 'show peers', {
  strangers: { by: PEER_IO, help: 'datagrams from an address that is no known peer, dropped' },
  'no-port': { by: PEER_IO, help: 'frames a forwarding thread queued for a peer port that had just gone down' },
  'recv-error': { by: PEER_IO, help: 'receive calls on the peer socket that failed (the datagrams, if any, are lost)' },
});

/**
 * Counted by the VXLAN I/O thread for its sockets as a whole (src/vxlan/vxlan-io.ts);
 * `show vxlan` prints them. The header checks are src/vxlan/vxlan-header.ts's.
 */
export const VXLAN_COUNTERS = new CounterSet('VXLAN socket', 'show vxlan', {
  'datagrams-in': { by: VXLAN_IO, help: 'datagrams from VTEPs whose frame was queued to a forwarding thread' },
  'datagrams-out': { by: VXLAN_IO, help: 'datagrams sent to VTEPs and multicast groups' },
  flooded: { by: VXLAN_IO, help: 'the part of datagrams-out sent to a multicast group, or to a VTEP with a broadcast or multicast frame (head-end replication)' },
  short: { by: VXLAN_IO, help: 'datagram shorter than the 8-byte VXLAN header' },
  'bad-header': { by: VXLAN_IO, help: 'datagram whose VXLAN flags are not exactly the I bit (0x08), or whose reserved bits are set' },
  'unknown-vni': { by: VXLAN_IO, help: 'datagram for a VNI no VLAN here carries' },
  runt: { by: VXLAN_IO, help: 'datagram whose inner frame is shorter than an Ethernet header (14 bytes), a header-only one included' },
  giant: { by: VXLAN_IO, help: 'datagram whose inner frame is over the maximum frame' },
  strangers: { by: VXLAN_IO, help: 'datagram from an address that is no VTEP of the VNI\'s VLAN, which has no group to learn VTEPs from' },
  'vtep-limit': { by: VXLAN_IO, help: 'datagram from a new VTEP on a group not made a port because the switch had --vxlan-max-vteps learned VTEPs (its frame is carried as the group\'s)' },
  'no-port': { by: VXLAN_IO, help: 'frames a forwarding thread queued for a VTEP port that had just gone' },
  'recv-error': { by: VXLAN_IO, help: 'receive calls on the VXLAN sockets that failed (the datagrams, if any, are lost)' },
});

/** Why the VXLAN I/O thread dropped a frame of one VTEP; `show vxlan` prints them under each VTEP, and their sum over every VTEP, departed ones included. */
export const VTEP_DROPS = new CounterSet('VTEP', 'show vxlan', {
  'rx-ring-full': { by: VXLAN_IO, help: 'frame from the VTEP the rx ring toward the forwarding thread had no room for' },
  'too-big': { by: VXLAN_IO, help: 'frame to send that is over the largest UDP payload with its VXLAN header' },
  'queue-full': { by: VXLAN_IO, help: "frame to send that the socket's send buffer had no room for" },
  'send-error': { by: VXLAN_IO, help: 'datagram the kernel refused to send (no route, too big for the path)' },
});

/** Discovery's counters, kept by the main thread; `show peers` prints them. */
export const DISCOVERY_COUNTERS = new CounterSet('discovery socket', 'show peers', {
  sent: { by: MAIN, help: 'announcements this switch sent' },
  'send-errors': { by: MAIN, help: 'announcements the kernel refused to send' },
  received: { by: MAIN, help: 'datagrams received on the discovery group, of every kind' },
  own: { by: MAIN, help: "this switch's own announcements, back through multicast loopback" },
  accepted: { by: MAIN, help: "other switches' announcements taken" },
  sockaddr: { by: MAIN, help: "the part of accepted in the original DiVES's sockaddr format" },
  malformed: { by: MAIN, help: 'datagrams dropped: unparsable, oversized, or a loopback host from a remote source' },
  oversized: { by: MAIN, help: 'the part of malformed longer than the longest announcement' },
  'peer-limit': { by: MAIN, help: 'announcements of a new peer refused because the discovered peers were at --max-peers' },
  'peer-rate': { by: MAIN, help: 'announcements of a new peer refused because new peers came faster than --peer-rate a second' },
  unauthenticated: { by: MAIN, help: 'announcements without an authenticator, dropped by a switch that has a cluster key' },
  keyed: { by: MAIN, help: 'sealed announcements, dropped by a switch that has no cluster key' },
  'unknown-key': { by: MAIN, help: 'sealed announcements whose key id this switch does not hold' },
  'bad-auth': { by: MAIN, help: 'sealed announcements whose MAC is not genuine (a wrong key, a changed bit, a forgery)' },
  stale: { by: MAIN, help: 'genuine announcements whose timestamp is outside the allowed clock skew' },
  replay: { by: MAIN, help: 'genuine announcements not newer than the last one taken from the same switch' },
});

/** Counted per thread; `show threads` prints them. */
export const THREAD_COUNTERS = new CounterSet('thread', 'show threads', {
  restarts: { by: MAIN, help: 'times the thread died without being asked to and was started again' },
  wakeups: { by: 'producers', help: "times a producer woke the thread from sleep through its doorbell" },
  'no-vlan': { by: ENGINE, help: 'frames for a VLAN this forwarding thread does not run (the VLAN just left, or is down)' },
});

/** QEMU connections a listener accepted and closed at once; `show listeners` prints them. */
export const LISTENER_REFUSALS = new CounterSet('listener', 'show listeners', {
  'listener-full': { by: MAIN, help: 'connections refused because the listener had its max-connections already' },
  'switch-full': { by: MAIN, help: 'connections refused because the switch had --max-connections QEMU connections already' },
  'memory-budget': { by: MAIN, help: "connections refused because the switch's memory budget (--memory-budget) had no room for their queues" },
});

/** Kept in each ring's shared header; `show rings` prints them. */
export const RING_COUNTERS = new CounterSet('ring', 'show rings', {
  pushed: { by: 'producer', help: 'frames published on the ring' },
  full: { by: 'producer', help: 'frames dropped because the ring had no room' },
  oversize: { by: 'producer', help: 'frames dropped because they are larger than the ring can ever hold' },
  undelivered: { by: 'consumer', help: 'frames the consumer took off the ring but could not deliver' },
});

/** Every counter set, for docs and for the test that each name reaches its `show`; in the order of the command areas that print them (src/control/commands/areas.ts). */
export const COUNTER_SETS: readonly CounterSet<string>[] = [
  PORT_DROPS,
  VLAN_COUNTERS,
  THREAD_COUNTERS,
  RING_COUNTERS,
  TRUNK_DROPS,
  LISTENER_REFUSALS,
  PEER_DROPS,
  PEER_SOCKET_COUNTERS,
  DISCOVERY_COUNTERS,
  VXLAN_COUNTERS,
  VTEP_DROPS,
  CAPTURE_COUNTERS,
  MIRROR_COUNTERS,
];

/** Typed indexes. Per-frame paths copy the ones they use into module constants. */
export const PORT_DROP = PORT_DROPS.index;
export const VLAN_COUNTER = VLAN_COUNTERS.index;
export const PEER_DROP = PEER_DROPS.index;
export const PEER_SOCKET = PEER_SOCKET_COUNTERS.index;
export const VXLAN_COUNTER = VXLAN_COUNTERS.index;
export const VTEP_DROP = VTEP_DROPS.index;
export const THREAD_COUNTER = THREAD_COUNTERS.index;
export const RING_COUNTER = RING_COUNTERS.index;
export const LISTENER_REFUSAL = LISTENER_REFUSALS.index;
export const TRUNK_DROP = TRUNK_DROPS.index;

export type PortDropName = (typeof PORT_DROPS.names)[number];
export type PeerDropName = (typeof PEER_DROPS.names)[number];
