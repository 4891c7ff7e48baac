// Peer keepalive: the one control datagram switches send each other on the peer
// socket, so a peer that never announces itself (static peers) still proves it is
// alive (docs/wire-protocol.md, "Keepalives"). Sent and recognised by the peer I/O
// thread; no I/O of its own, and nothing here throws or allocates.
//
// A keepalive is a peer datagram whose vid header is 0 (which never names a VLAN)
// followed by exactly the ASCII text "keepalive": 13 bytes in all. Any other datagram
// with vid 0 is not a keepalive and goes to decodePeerDatagram, which drops it as
// `short` or `bad-vid` like any malformed frame.

import { PEER_HDR_LEN } from './peer-datagram.js';

const TEXT = 'keepalive';

/** Length of a keepalive datagram: the 4-byte zero vid and the 9-byte text. */
export const KEEPALIVE_LEN = PEER_HDR_LEN + TEXT.length;

/** The keepalive datagram. Shared and never written, so it can be sent many times at once. */
export const KEEPALIVE: Readonly<Buffer> = Buffer.concat([Buffer.alloc(PEER_HDR_LEN), Buffer.from(TEXT, 'latin1')]);

/** True when buf[0..len) is exactly a keepalive. */
export function isKeepalive(buf: Uint8Array, len: number): boolean {
  if (len !== KEEPALIVE_LEN || buf.length < len) return false;
  for (let i = 0; i < len; i++) if (buf[i] !== KEEPALIVE[i]) return false;
  return true;
}

/**
 * A keyed switch's keepalive (inside a sealed datagram, src/crypto/sealed-datagram.ts):
 * the keepalive and then the sender's clock, an 8-byte millisecond timestamp, which lets a
 * peer that restarted show that its new session is fresh and not a replay.
 */
export const TIMED_KEEPALIVE_LEN = KEEPALIVE_LEN + 8;

/** True when buf[0..len) is a keyed switch's keepalive; its timestamp is at KEEPALIVE_LEN. */
export function isTimedKeepalive(buf: Uint8Array, len: number): boolean {
  if (len !== TIMED_KEEPALIVE_LEN || buf.length < len) return false;
  for (let i = 0; i < KEEPALIVE_LEN; i++) if (buf[i] !== KEEPALIVE[i]) return false;
  return true;
}
