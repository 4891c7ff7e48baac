// Peer datagram codec: the header of the UDP datagrams DiVES switches exchange, a 4-byte
// big-endian vid followed by one Ethernet frame (docs/wire-protocol.md, "Peer datagrams").
// With PEER_F_VNET set in the vid word, a 10-byte virtio_net_hdr sits between the word
// and the frame: an offloaded frame (a TCP segment of up to 64 KiB, a checksum left to
// do), sent only to peers that said they take them (src/peer/wire/offload-advert.ts).
// Run by the peer I/O thread on every datagram sent and received; no I/O of its own.
//
// Nothing here throws or allocates: decodePeerDatagram returns a vid, or a negative
// result naming the PEER_DROPS counter (src/core/counters.ts) the caller counts.

import { PEER_DROP } from '../../core/counters.js';
import { DEFAULT_MAX_FRAME, ETH_HLEN, VID_MAX, VID_MIN } from '../../core/frame.js';
import { VNET_HDR_LEN } from '../../core/ring-record.js';

/** Bytes of vid header before the frame; the frame starts at this offset. */
export const PEER_HDR_LEN = 4;

/**
 * The largest datagram the original DiVES (Ruby, 2011) reads from a peer: 16 KiB. A
 * longer one would reach it cut short, so a frame for a legacy peer whose datagram is
 * longer is dropped instead (`legacy-too-big`).
 */
export const LEGACY_MAX_DATAGRAM = 16384;

/** Vid word flag: a virtio_net_hdr of VNET_HDR_LEN bytes follows the word, then the frame. */
export const PEER_F_VNET = 0x80000000;
/** Set in decodePeerDatagram's result when the datagram carries a virtio_net_hdr; the vid is the low 12 bits. */
export const PEER_DECODED_VNET = 0x10000;

/** decodePeerDatagram() results for a datagram that is dropped: -1 - the PEER_DROPS index of the reason. */
export const PEER_SHORT = -1 - PEER_DROP.short;
export const PEER_BAD_VID = -1 - PEER_DROP['bad-vid'];
export const PEER_GIANT = -1 - PEER_DROP.giant;

/** The PEER_DROPS index to count a negative decodePeerDatagram() result under. */
export function peerDropOf(result: number): number {
  return -1 - result;
}

/**
 * Validates a received datagram of `len` bytes at buf[0..len). Returns the vid
 * (VID_MIN..VID_MAX) when the frame at buf[PEER_HDR_LEN, len) may be forwarded, plus
 * PEER_DECODED_VNET when the word has PEER_F_VNET (the record at PEER_HDR_LEN then
 * starts with the virtio_net_hdr); or PEER_SHORT, PEER_BAD_VID or PEER_GIANT.
 * Checks run in that order, so a datagram that is both short and badly tagged counts
 * as short. A `len` larger than buf.length counts as short, because the bytes it
 * claims are not there to read. An offloaded frame is bounded by the datagram, not by
 * maxFrame: a TCP segment may be 64 KiB whatever the MTU.
 */
export function decodePeerDatagram(buf: Uint8Array, len: number, maxFrame: number = DEFAULT_MAX_FRAME): number {
  // `!(a >= b)` also catches NaN lengths.
  if (!(len >= PEER_HDR_LEN + ETH_HLEN) || len > buf.length) return PEER_SHORT;
  const word = ((buf[0] << 24) | (buf[1] << 16) | (buf[2] << 8) | buf[3]) >>> 0;
  if ((word & PEER_F_VNET) !== 0) {
    if (len < PEER_HDR_LEN + VNET_HDR_LEN + ETH_HLEN) return PEER_SHORT;
    const vid = word & 0x7fffffff;
    if (vid < VID_MIN || vid > VID_MAX) return PEER_BAD_VID;
    return vid | PEER_DECODED_VNET;
  }
  if (word < VID_MIN || word > VID_MAX) return PEER_BAD_VID;
  if (len - PEER_HDR_LEN > maxFrame) return PEER_GIANT;
  return word;
}

/**
 * Writes the 4-byte big-endian vid header at out[off..off+3]; the frame (or, with
 * `vnet`, the virtio_net_hdr and then the frame) follows at off + PEER_HDR_LEN.
 * The caller guarantees a vid in VID_MIN..VID_MAX and room in `out`.
 */
export function writePeerHeader(vid: number, out: Uint8Array, off: number, vnet = false): void {
  out[off] = (vid >>> 24) | (vnet ? 0x80 : 0);
  out[off + 1] = (vid >>> 16) & 0xff;
  out[off + 2] = (vid >>> 8) & 0xff;
  out[off + 3] = vid & 0xff;
}
