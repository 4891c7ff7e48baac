// The virtio_net_hdr check: whether the header a peer sent in front of an offloaded
// frame (docs/wire-protocol.md, "Offloaded frames") describes that frame in a way a TAP's
// kernel takes and DiVES itself would have sent, before the record reaches a forwarding
// ring and from there a TAP. Run by the peer I/O thread on every offloaded datagram.
//
// The rules follow what Linux's virtio_net_hdr_to_skb and tun accept, tightened to what
// a TAP hands over (the only source of offloaded frames a DiVES peer sends); the
// reasons are in docs/wire-protocol.md. Header fields: src/core/ring-record.ts. Pure:
// nothing here throws or allocates, and nothing is read outside buf[off, off + len).

import { ETH_HLEN } from '../../core/frame.js';
import { GSO_MAX_FRAME, VNET_F_NEEDS_CSUM, VNET_HDR_LEN } from '../../core/ring-record.js';

/** flags bit: the checksum was already checked (a complete frame). */
export const VNET_F_DATA_VALID = 2;
/** gso_type values: a whole frame, or a segment to cut as TCP over IPv4, TCP over IPv6, UDP (USO). */
export const VNET_GSO_NONE = 0;
export const VNET_GSO_TCPV4 = 1;
export const VNET_GSO_TCPV6 = 4;
export const VNET_GSO_UDP_L4 = 5;
/** gso_type bit: the TCP segment has ECN's CWR set, to be kept on the first segment only. */
export const VNET_GSO_ECN = 0x80;
/**
 * The largest gso_size: the payload of a segment that, with the smallest IPv4 and TCP
 * headers (20 + 20), is still one IP datagram (65535). It also keeps out 0xffff, which
 * the kernel reserves (GSO_BY_FRAGS).
 */
export const VNET_GSO_SIZE_MAX = 65535 - 20 - 20;
/** The most segments one UDP_L4 frame may be cut into (the kernel's UDP_MAX_SEGMENTS). */
export const VNET_UDP_MAX_SEGMENTS = 128;

/** checkVnetHdr() results: 0 for a header that may go on, else the reason (an index of VNET_CHECK_REASONS). */
export const VNET_OK = 0;
export const VNET_RUNT = 1;
export const VNET_BAD_FLAGS = 2;
export const VNET_BAD_GSO_TYPE = 3;
export const VNET_GIANT = 4;
export const VNET_GSO_NO_CSUM = 5;
export const VNET_BAD_GSO_SIZE = 6;
export const VNET_BAD_CSUM_START = 7;
export const VNET_BAD_CSUM_OFFSET = 8;
export const VNET_BAD_HDR_LEN = 9;
/** A word for each checkVnetHdr() result, by value; for tests and messages, never per frame. */
export const VNET_CHECK_REASONS = [
  'ok', 'runt', 'bad-flags', 'bad-gso-type', 'giant', 'gso-no-csum', 'bad-gso-size', 'bad-csum-start', 'bad-csum-offset', 'bad-hdr-len',
] as const;

const KNOWN_FLAGS = VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID;
const IPV4_HLEN = 20;
const IPV6_HLEN = 40;
const TCP_HLEN = 20;
const UDP_HLEN = 8;
/** Where the checksum field sits in a TCP and a UDP header. */
const TCP_CSUM_AT = 16;
const UDP_CSUM_AT = 6;

function u16le(buf: Uint8Array, at: number): number {
  return buf[at] | (buf[at + 1] << 8);
}

/**
 * Checks the virtio_net_hdr at buf[off] and the frame after it, buf[off + VNET_HDR_LEN,
 * off + len): `len` counts both. `maxFrame` bounds a frame with no segment to cut, as it
 * bounds a plain one. Returns VNET_OK, or the first rule the header breaks, in the
 * order of the VNET_* results above (docs/wire-protocol.md lists them with their reasons).
 */
export function checkVnetHdr(buf: Uint8Array, off: number, len: number, maxFrame: number): number {
  // `!(a >= b)` also catches NaN; bytes past the buffer are not there to check.
  if (!(len >= VNET_HDR_LEN + ETH_HLEN) || !(off >= 0) || off + len > buf.length) return VNET_RUNT;
  const frameLen = len - VNET_HDR_LEN;
  const flags = buf[off];
  const gso = buf[off + 1];
  if ((flags & ~KNOWN_FLAGS) !== 0) return VNET_BAD_FLAGS;
  const kind = gso & ~VNET_GSO_ECN;
  const tcp = kind === VNET_GSO_TCPV4 || kind === VNET_GSO_TCPV6;
  if (!(tcp || kind === VNET_GSO_UDP_L4 || kind === VNET_GSO_NONE)) return VNET_BAD_GSO_TYPE;
  if ((gso & VNET_GSO_ECN) !== 0 && !tcp) return VNET_BAD_GSO_TYPE;
  if (frameLen > (gso === VNET_GSO_NONE ? maxFrame : GSO_MAX_FRAME)) return VNET_GIANT;
  const needsCsum = (flags & VNET_F_NEEDS_CSUM) !== 0;
  const gsoSize = u16le(buf, off + 4);
  if (gso !== VNET_GSO_NONE) {
    if (!needsCsum) return VNET_GSO_NO_CSUM;
    if (gsoSize === 0 || gsoSize > VNET_GSO_SIZE_MAX) return VNET_BAD_GSO_SIZE;
  }
  if (needsCsum) {
    const r = checkCsum(u16le(buf, off + 6), u16le(buf, off + 8), kind, frameLen);
    if (r !== VNET_OK) return r;
  }
  if (u16le(buf, off + 2) > frameLen) return VNET_BAD_HDR_LEN;
  // Past the checks above, csum_start is where the UDP header starts.
  if (kind === VNET_GSO_UDP_L4 && frameLen - u16le(buf, off + 6) - UDP_HLEN > gsoSize * VNET_UDP_MAX_SEGMENTS) return VNET_BAD_GSO_SIZE;
  return VNET_OK;
}

/**
 * The checksum to do, for a frame of frameLen bytes whose segment kind (gso_type less
 * ECN) is `kind`. What it covers starts after an Ethernet and an IP header and inside
 * the frame, where a segment's whole TCP or UDP header must fit (else
 * VNET_BAD_CSUM_START); its 2-byte field lies in the frame, and a segment's is the
 * TCP or UDP checksum field (else VNET_BAD_CSUM_OFFSET).
 */
function checkCsum(start: number, offset: number, kind: number, frameLen: number): number {
  if (start < ETH_HLEN + (kind === VNET_GSO_TCPV6 ? IPV6_HLEN : IPV4_HLEN)) return VNET_BAD_CSUM_START;
  if (kind === VNET_GSO_NONE) {
    if (start + 2 > frameLen) return VNET_BAD_CSUM_START;
    return start + offset + 2 <= frameLen ? VNET_OK : VNET_BAD_CSUM_OFFSET;
  }
  const tcp = kind !== VNET_GSO_UDP_L4;
  if (start + (tcp ? TCP_HLEN : UDP_HLEN) > frameLen) return VNET_BAD_CSUM_START;
  return offset === (tcp ? TCP_CSUM_AT : UDP_CSUM_AT) ? VNET_OK : VNET_BAD_CSUM_OFFSET;
}
