// Sealed datagram: the envelope a switch with a cluster key puts around every datagram it
// sends a peer (frames, offloaded segments, keepalives, advertisements) and around its
// discovery announcements (docs/security.md, "Wire format"). No key: nothing here is used
// and the wire format is the original's, byte for byte.
// Pure layout: read by the peer I/O thread and by main's discovery; no I/O, no allocation.
//
// Layout (offsets in bytes, multi-byte fields big-endian):
//
// | at | len | field    | meaning                                                       |
// |----|-----|----------|---------------------------------------------------------------|
// |  0 |   1 | magic    | SEAL_MAGIC (0xd5): a vid word no DiVES accepts, not ASCII     |
// |  1 |   1 | flags    | SEAL_F_ENCRYPTED: the payload is encrypted; SEAL_F_ADDRESSED:  |
// |    |     |          | bound to the receiver's session; other bits zero              |
// |  2 |   2 | reserved | zero                                                          |
// |  4 |   4 | key id   | which cluster key (src/crypto/cluster-key.ts)                 |
// |  8 |   8 | session  | random, chosen by the sender at start                         |
// | 16 |   8 | counter  | the sender's datagram number in the session, from 0           |
// | 24 |   n | payload  | the unsealed datagram (vid word and frame, keepalive, ...)    |
// | 24+n | 16 | MAC     | Poly1305 tag of XChaCha20-Poly1305                            |
//
// The AEAD's nonce (24 bytes) is the session, then, when SEAL_F_ADDRESSED, the receiver's
// session, else 8 zero bytes, then the counter: a datagram sealed for one switch does not
// open at another, nor at the same one after it restarted. Its associated data is the header
// (and, when the payload is not encrypted, the payload too), so no bit of the datagram can
// change unnoticed.

/** Bytes before the payload. */
export const SEAL_HDR_LEN = 24;
/** Bytes of MAC after the payload. */
export const SEAL_MAC_LEN = 16;
/** Bytes a sealed datagram adds to the datagram it carries. */
export const SEAL_OVERHEAD = SEAL_HDR_LEN + SEAL_MAC_LEN;
export const SEAL_MAGIC = 0xd5;
export const SEAL_F_ENCRYPTED = 0x01;
export const SEAL_F_ADDRESSED = 0x02;
const SEAL_FLAGS = SEAL_F_ENCRYPTED | SEAL_F_ADDRESSED;
/** Where the session and the counter sit: the nonce's first and last 8 bytes. */
export const SEAL_SESSION_AT = 8;
export const SEAL_COUNTER_AT = 16;

/** True when buf[0..len) has the magic byte and room for a header and a MAC: a sealed datagram, genuine or not. */
export function looksSealed(buf: Uint8Array, len: number): boolean {
  return len >= SEAL_OVERHEAD && len <= buf.length && buf[0] === SEAL_MAGIC;
}

/** The key id of a sealed datagram. */
export function sealKeyId(buf: Uint8Array): number {
  return ((buf[4] << 24) | (buf[5] << 16) | (buf[6] << 8) | buf[7]) >>> 0;
}

/** True when the flags and reserved bytes are ones this version writes. */
export function sealFlagsValid(buf: Uint8Array): boolean {
  return (buf[1] & ~SEAL_FLAGS) === 0 && buf[2] === 0 && buf[3] === 0;
}

export function sealEncrypted(buf: Uint8Array): boolean {
  return (buf[1] & SEAL_F_ENCRYPTED) !== 0;
}

/** True when the datagram is bound to its receiver's session (see the header). */
export function sealAddressed(buf: Uint8Array): boolean {
  return (buf[1] & SEAL_F_ADDRESSED) !== 0;
}

/** A 32-bit word of the header at `at` (session or counter halves). */
export function sealWord(buf: Uint8Array, at: number): number {
  return ((buf[at] << 24) | (buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3]) >>> 0;
}

/** Writes the header at out[0..SEAL_HDR_LEN): session is 8 bytes, the counter two 32-bit halves. */
export function writeSealHeader(out: Uint8Array, keyId: number, session: Uint8Array, counterHi: number, counterLo: number, encrypted: boolean, addressed = false): void {
  out[0] = SEAL_MAGIC;
  out[1] = (encrypted ? SEAL_F_ENCRYPTED : 0) | (addressed ? SEAL_F_ADDRESSED : 0);
  out[2] = 0;
  out[3] = 0;
  putWord(out, 4, keyId);
  for (let i = 0; i < 8; i++) out[SEAL_SESSION_AT + i] = session[i];
  putWord(out, SEAL_COUNTER_AT, counterHi);
  putWord(out, SEAL_COUNTER_AT + 4, counterLo);
}

/** An 8-byte big-endian millisecond timestamp at out[at..at+8) (keepalives, announcements). */
export function writeTimestamp(out: Uint8Array, at: number, ms: number): void {
  const hi = Math.floor(ms / 0x1_0000_0000);
  putWord(out, at, hi);
  putWord(out, at + 4, ms - hi * 0x1_0000_0000);
}

/** The timestamp writeTimestamp wrote; NaN when it is out of the safe range. */
export function readTimestamp(buf: Uint8Array, at: number): number {
  const hi = sealWord(buf, at);
  return hi >= 0x20_0000 ? NaN : hi * 0x1_0000_0000 + sealWord(buf, at + 4);
}

function putWord(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = (v >>> 16) & 0xff;
  out[at + 2] = (v >>> 8) & 0xff;
  out[at + 3] = v & 0xff;
}
