// The VXLAN header (RFC 7348, section 5): the 8 bytes in front of every Ethernet frame a
// VTEP sends over UDP, and the checks a received one must pass. Pure; the VXLAN I/O thread
// (src/vxlan/vxlan-io.ts) uses it on the per-frame path, so nothing here throws or allocates.
//
// | byte | field    | value                                                          |
// |------|----------|----------------------------------------------------------------|
// | 0    | flags    | 0x08, the I bit: a valid VNI follows; every other bit zero      |
// | 1-3  | reserved | zero                                                           |
// | 4-6  | VNI      | the 24-bit VXLAN network identifier, big-endian                |
// | 7    | reserved | zero                                                           |
//
// RFC 7348 says reserved bits are ignored on receipt; Linux's driver (without its GBP or
// GPE extensions) and vdeplug4's vxvde drop a datagram with any of them set, and so does
// DiVES: a VTEP that sets them speaks an extension DiVES does not, and what it means by
// the frame is unknown. The same 8 bytes go out for every frame of a VNI, as both expect.

export const VXLAN_HDR_LEN = 8;
/** The I flag: the VNI field is valid. */
export const VXLAN_FLAG_I = 0x08;
/** VNIs are 24 bits; 0 is a valid VNI on the wire, but DiVES maps VLANs to 1..VNI_MAX. */
export const VNI_MAX = 0xffffff;
/** IANA's VXLAN port (RFC 7348); Linux's driver defaults to 8472 when none is given, vxvde uses 14789. */
export const VXLAN_PORT = 4789;

/** decodeVxlanHeader: the datagram is shorter than the header. */
export const VXLAN_SHORT = -1;
/** decodeVxlanHeader: flags other than exactly the I bit, or a reserved bit set. */
export const VXLAN_BAD_HEADER = -2;

/**
 * The VNI of the datagram of `len` bytes at buf[off], or VXLAN_SHORT or VXLAN_BAD_HEADER.
 * Only the header is checked here; the inner frame's length is the caller's to judge.
 */
export function decodeVxlanHeader(buf: Uint8Array, off: number, len: number): number {
  if (len < VXLAN_HDR_LEN) return VXLAN_SHORT;
  if (buf[off] !== VXLAN_FLAG_I || buf[off + 1] !== 0 || buf[off + 2] !== 0 || buf[off + 3] !== 0 || buf[off + 7] !== 0) return VXLAN_BAD_HEADER;
  return (buf[off + 4] << 16) | (buf[off + 5] << 8) | buf[off + 6];
}

/** Write the header for `vni` at buf[off]: the I flag, the VNI, zeros elsewhere. */
export function writeVxlanHeader(buf: Uint8Array, off: number, vni: number): void {
  buf[off] = VXLAN_FLAG_I;
  buf[off + 1] = 0;
  buf[off + 2] = 0;
  buf[off + 3] = 0;
  buf[off + 4] = (vni >>> 16) & 0xff;
  buf[off + 5] = (vni >>> 8) & 0xff;
  buf[off + 6] = vni & 0xff;
  buf[off + 7] = 0;
}

/**
 * A hash of the inner frame's destination and source MACs (its first 12 bytes), for
 * picking the datagram's UDP source port: RFC 7348 asks for a source port from the inner
 * frame so routers that spread flows over paths by their 5-tuple (ECMP) spread VXLAN
 * traffic too, while one conversation keeps one path and its order. FNV-1a, 32 bits.
 */
export function innerFlowHash(buf: Uint8Array, off: number): number {
  let h = 0x811c9dc5;
  for (let i = off; i < off + 12; i++) h = Math.imul(h ^ buf[i], 0x01000193);
  // Fold the high bits in: the caller keeps only the low few.
  return (h ^ (h >>> 16)) >>> 0;
}
