// Messages between the main thread and the peer I/O thread (over the worker's
// parentPort), one typed interface each, and the peer drop counters both sides
// name. Frames never travel here: they use the rings named in `rings` messages.

export interface PeerIoStart {
  /** The peer thread's own doorbell: forwarding workers ring it after queuing frames for peers. */
  doorbellSab: SharedArrayBuffer;
  maxFrame: number;
  /**
   * The UDP socket on -h:-p, bound by main (src/linux/udp-socket.ts: non-blocking, its
   * kernel buffers set), so a restarted thread takes over the same socket. Main closes it.
   */
  fd: number;
  family: 'udp4' | 'udp6';
  address: string;
  port: number;
}

/**
 * Why the peer thread dropped a datagram or frame of one peer; each name is a counter
 * `show peers` prints. The first three are the codec's reasons (PEER_REASON_NAMES 1..3)
 * in the same order, so codec reason r counts at index r - 1.
 */
export const PEER_DROPS = [
  'short', // rx: shorter than a vid header plus an Ethernet header
  'bad-vid', // rx: vid 0, 4095 or above (and not a keepalive)
  'giant', // rx: frame over maxFrame
  'no-vlan', // rx: a VLAN with no local ports on this switch
  'down', // rx: the peer is known but has no port (not up yet, or going down)
  'rx-ring-full', // rx: the ring to the forwarding worker had no room
  'too-big', // tx: frame plus header over the largest UDP payload
  'queue-full', // tx: the socket's send buffer was full
  'send-error', // tx: the kernel refused the datagram
  'offload', // tx: an offloaded frame for a peer that takes none on its VLAN (it just said so)
] as const;
export type PeerDropReason = (typeof PEER_DROPS)[number];
export const PD_GIANT = 2;
export const PD_NO_VLAN = 3;
export const PD_DOWN = 4;
export const PD_RX_RING_FULL = 5;
export const PD_TOO_BIG = 6;
export const PD_QUEUE_FULL = 7;
export const PD_SEND_ERROR = 8;
export const PD_OFFLOAD = 9;

// main → peer thread
/** The ring pair between this thread and one forwarding worker. */
export interface PeerRingsMsg {
  type: 'rings';
  fw: number;
  rxSab: SharedArrayBuffer; // peer thread produces, forwarding worker consumes
  rxDoorbellSab: SharedArrayBuffer; // the forwarding worker's doorbell
  txSab: SharedArrayBuffer; // forwarding worker produces, peer thread consumes
}
/** A known peer: its datagrams are no longer strangers' (keepalives are reported; frames wait for a port). */
export interface PeerSetMsg { type: 'set-peer'; peerId: number; address: string; port: number }
/** Forget a peer: its datagrams become strangers' again. */
export interface PeerUnsetMsg { type: 'unset-peer'; reqId: number; peerId: number }
/** Give a peer its port (frames from it are forwarded), or take it away with portId -1. */
export interface PeerPortMsg { type: 'peer-port'; reqId: number; peerId: number; portId: number }
/** Peers are members of `vid`, run by forwarding worker `fw`; fw -1: they no longer are. */
export interface PeerVlanMsg { type: 'vlan'; reqId: number; vid: number; fw: number }
/** Send one keepalive to each of these peers now. */
export interface PeerKeepaliveMsg { type: 'keepalive'; peerIds: number[] }
/**
 * What this switch tells every peer, now and after each keepalive: it takes offloaded
 * frames except on `plainVids`; null: it takes none (offloads between peers are off).
 */
export interface PeerOffloadAdvertMsg { type: 'offload-advert'; plainVids: number[] | null }
export interface PeerStatsMsg { type: 'stats'; reqId: number }
export interface PeerStopMsg { type: 'stop' }
export type PeerControl =
  | PeerRingsMsg
  | PeerSetMsg
  | PeerUnsetMsg
  | PeerPortMsg
  | PeerVlanMsg
  | PeerKeepaliveMsg
  | PeerOffloadAdvertMsg
  | PeerStatsMsg
  | PeerStopMsg;

export interface PeerIoStats {
  peerId: number;
  framesIn: number;
  bytesIn: number;
  framesOut: number;
  bytesOut: number;
  keepalivesIn: number;
  keepalivesOut: number;
  /** Offloaded frames (virtio_net_hdr with GSO or a checksum to do) received and sent. */
  offloadedIn: number;
  offloadedOut: number;
  /** VLANs the peer takes no offloaded frame on, from its last advertisement; null: it sent none. */
  plainVids: number[] | null;
  drops: Record<PeerDropReason, number>;
}

export interface PeerIoReport {
  peers: PeerIoStats[];
  /** Datagrams from an address:port that is no known peer: dropped. */
  strangers: number;
  /** The last stranger, "address:port", or null when there was none. */
  lastStranger: string | null;
  /** Frames the forwarding workers queued for a port id that has no peer (it just went down). */
  noPort: number;
}

// peer thread → main
export type PeerEvent =
  /** The request with this reqId has been applied. */
  | { type: 'done'; reqId: number }
  /** A keepalive came from a known peer. */
  | { type: 'heard'; peerId: number }
  /** A peer's offload advertisement said something new: it takes offloaded frames except on plainVids. */
  | { type: 'offload'; peerId: number; plainVids: number[] }
  | ({ type: 'stats'; reqId: number } & PeerIoReport)
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'stopped' };
