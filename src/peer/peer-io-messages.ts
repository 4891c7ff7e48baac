// Messages between the main thread and the peer I/O thread that only peers have, one
// typed interface each; the rest of the protocol (start, rings, stop, stats, gc, done,
// log, failed) is every I/O thread's (src/core/io-messages.ts). Frames never travel here:
// they use the rings named in `rings` messages. The drop names are PEER_DROPS
// (src/core/counters.ts).

import type { PEER_SOCKET_COUNTERS, PeerDropName } from '../core/counters.js';
import type { IoRingsMsg, IoStart } from '../core/io-messages.js';
import type { SealKey } from '../crypto/datagram-sealer.js';

/** A keyed switch's sealing (src/peer/peer-seal.ts); null in PeerIoStart without a key. */
export interface PeerSealStart {
  /** This switch's 8-byte session, the same main announces. */
  session: Uint8Array;
  /** A Float64Array's buffer: the number of the next datagram sealed, kept across thread restarts. */
  counterSab: SharedArrayBuffer;
  /** The data subkeys held (src/crypto/key-ring.ts) and the id sealed with. */
  keys: SealKey[];
  sendId: number;
  /** --encrypt: payloads encrypted; otherwise authenticated only. */
  encrypt: boolean;
  /** How far a keepalive's or announcement's timestamp may be from this host's clock. */
  skewMs: number;
}

/** A peer's session, as a fresh keepalive or announcement showed it: the 8 bytes as two words, and the timestamp. */
export interface PeerSession {
  hi: number;
  lo: number;
  ts: number;
}

export interface PeerIoStart extends IoStart {
  /**
   * The UDP socket on -h:-p, bound by main (src/linux/udp-socket.ts: non-blocking, its
   * kernel buffers set), so a restarted thread takes over the same socket. Main closes it.
   */
  fd: number;
  family: 'udp4' | 'udp6';
  address: string;
  port: number;
  /** With a cluster key: how datagrams are sealed; null: the original wire format. */
  seal: PeerSealStart | null;
}

// main → peer thread
/**
 * A known peer: its datagrams are no longer strangers' (keepalives are reported; frames wait
 * for a port). Sent again for a known peer when `legacy` changes: a legacy peer (the original
 * DiVES) is sent plain frames of at most LEGACY_MAX_DATAGRAM bytes and nothing else.
 */
export interface PeerSetMsg {
  type: 'set-peer';
  peerId: number;
  address: string;
  port: number;
  legacy: boolean;
  /** With a cluster key: a session a genuine, fresh announcement showed (offered to the thread), or null. */
  session: PeerSession | null;
  /** With a cluster key: the peer's session state (src/crypto/session-state.ts), kept by main across thread restarts. */
  sessionSab: SharedArrayBuffer | null;
}
/** The held keys changed (`key add`, `key use`, `key remove`). */
export interface PeerKeysMsg { type: 'keys'; keys: SealKey[]; sendId: number }
/** Forget a peer: its datagrams become strangers' again. */
export interface PeerUnsetMsg { type: 'unset-peer'; reqId: number; peerId: number }
/** Give a peer its port (frames from it are forwarded), or take it away with portId -1. */
export interface PeerPortMsg { type: 'peer-port'; reqId: number; peerId: number; portId: number }
/** Peers are members of `vid`, run by forwarding thread `fw`; fw -1: they no longer are. */
export interface PeerVlanMsg { type: 'vlan'; reqId: number; vid: number; fw: number }
/** Send one keepalive to each of these peers now. */
export interface PeerKeepaliveMsg { type: 'keepalive'; peerIds: number[] }
/**
 * What this switch tells every peer, now and after each keepalive: it takes offloaded
 * frames except on `plainVids`; null: it takes none (offloads between peers are off).
 */
export interface PeerOffloadAdvertMsg { type: 'offload-advert'; plainVids: number[] | null }
export type PeerControl =
  | IoRingsMsg
  | PeerSetMsg
  | PeerKeysMsg
  | PeerUnsetMsg
  | PeerPortMsg
  | PeerVlanMsg
  | PeerKeepaliveMsg
  | PeerOffloadAdvertMsg;

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
  drops: Record<PeerDropName, number>;
}

export interface PeerIoReport {
  peers: PeerIoStats[];
  /** The socket's own counters: strangers, no-port, recv-error. */
  socket: Record<(typeof PEER_SOCKET_COUNTERS.names)[number], number>;
  /** The last stranger, "address:port", or null when there was none. */
  lastStranger: string | null;
}

// peer thread → main
export type PeerEvent =
  /** A keepalive came from a known peer. */
  | { type: 'heard'; peerId: number }
  /** A peer's offload advertisement said something new: it takes offloaded frames except on plainVids. */
  | { type: 'offload'; peerId: number; plainVids: number[] };
