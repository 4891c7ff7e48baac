// The ring record format: what the META word of a ring record (src/core/ring.ts) holds,
// how a record that carries a virtio_net_hdr is laid out, and the size limits of a
// record. Every thread that writes or reads ring records imports it: the TAP, QEMU
// and peer I/O threads and the forwarding threads; nothing else decodes a meta word.
//
// META, the 32-bit word beside each record's length:
//
// | bits  | field | meaning                                                              |
// |-------|-------|----------------------------------------------------------------------|
// | 0-15  | port  | rx ring: the port the frame came in on; tx ring: the port it leaves by |
// | 16-27 | vid   | the VLAN (1..4094)                                                    |
// | 28    | VNET  | the record is a virtio_net_hdr (VNET_HDR_LEN bytes), then the frame    |
// | 29    | TRACE | the frame is traced (`debug trace`, src/core/frame-trace.ts)           |
// | 30-31 | 0     | kept clear: a meta stays in V8's unboxed integer range (-2^30..2^30-1)  |
//
// The virtio_net_hdr (struct virtio_net_hdr, without num_buffers) is what a TAP opened
// with IFF_VNET_HDR puts in front of every frame, and what offloaded peer datagrams
// carry (docs/wire-protocol.md, "Offloaded frames"):
//
// | byte | field       | meaning                                                      |
// |------|-------------|--------------------------------------------------------------|
// | 0    | flags       | VNET_F_NEEDS_CSUM: the checksum is still to be computed       |
// | 1    | gso_type    | 0: a whole frame; else a segment the receiver's kernel cuts  |
// | 2    | hdr_len     | little-endian u16 each, from here on                          |
// | 4    | gso_size    |                                                              |
// | 6    | csum_start  |                                                              |
// | 8    | csum_offset |                                                              |
//
// Everything here runs on the per-frame path: no throw, no allocation.

/** Bytes of virtio_net_hdr at the start of a record whose meta has META_VNET. */
export const VNET_HDR_LEN = 10;
/** virtio_net_hdr flags bit: the frame's checksum is still to be computed. */
export const VNET_F_NEEDS_CSUM = 1;
/** Meta bit: the record starts with a VNET_HDR_LEN-byte virtio_net_hdr. */
export const META_VNET = 1 << 28;
/** The largest port id a meta word can carry; port ids are 1..MAX_PORT_ID. */
export const MAX_PORT_ID = 0xffff;
/**
 * The longest frame an offloaded record may carry (after its virtio_net_hdr): a TCP
 * segment as long as an IP datagram can be, plus the Ethernet and 802.1Q headers.
 * Plain frames are bounded by the switch's maximum frame instead.
 */
export const GSO_MAX_FRAME = 65535 + 18;
/** A virtio_net_hdr that asks for nothing: put in front of a plain frame bound for a vnet port. */
export const ZERO_VNET_HDR: Readonly<Buffer> = Buffer.alloc(VNET_HDR_LEN);

/** The meta word for a frame of VLAN `vid` on port `port`, with `vnet` when a virtio_net_hdr leads. */
export function ringMeta(vid: number, port: number, vnet = false): number {
  return (vid << 16) | (port & MAX_PORT_ID) | (vnet ? META_VNET : 0);
}

export function metaVid(meta: number): number {
  return (meta >>> 16) & 0xfff;
}

export function metaPort(meta: number): number {
  return meta & MAX_PORT_ID;
}

/** Bytes of virtio_net_hdr before the frame in a record with this meta: VNET_HDR_LEN or 0. */
export function metaHdrLen(meta: number): number {
  return (meta & META_VNET) !== 0 ? VNET_HDR_LEN : 0;
}

/**
 * True when the virtio_net_hdr at buf[off] asks the receiver for work: a checksum to
 * compute or a segment to cut. Such a frame can only go to a port whose other side is
 * a kernel (a TAP, a peer that takes offloaded frames). One merely marked DATA_VALID
 * is a complete frame and may leave plain.
 */
export function vnetAsksWork(buf: Uint8Array, off: number): boolean {
  return (buf[off] & VNET_F_NEEDS_CSUM) !== 0 || buf[off + 1] !== 0;
}
