// The one way tests and benches build Ethernet frames: frame() lays out dst, src, an
// optional 802.1Q tag, the ethertype and the payload, padded to 60 bytes (the minimum
// without FCS) unless told otherwise; the rest are shapes built on it — marker frames that
// the QEMU-protocol tests recognise at the receiver, ARP and ICMP echo over IPv4 for tests
// that talk to real kernels, and the parsers for their answers. Byte by byte, sharing no
// code with src/, so a bug there cannot hide in the fixture. Test code, any thread.

/** A MAC address: its 6 bytes, "02:00:00:00:00:01", or a 48-bit number. */
export type Mac = Uint8Array | string | number;

/** IEEE's local experimental ethertype: no host stack reacts to it. */
export const ETHERTYPE_EXPERIMENTAL = 0x88b5;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const TPID_8021Q = 0x8100;

export const BCAST = Buffer.alloc(6, 0xff);

export interface FrameSpec {
  dst: Mac;
  src: Mac;
  /** ETHERTYPE_EXPERIMENTAL unless told. */
  ethertype?: number;
  /** What follows the ethertype; a string is written as latin1. */
  payload?: Uint8Array | string;
  /** An 802.1Q tag with this vid (and `pcp`, and `tpid` for another TPID) after the MACs. */
  vid?: number;
  pcp?: number;
  tpid?: number;
  /** Pad the frame to at least this many bytes; 60 unless told, 0 for none. */
  padTo?: number;
  /** The byte the padding is made of; 0 unless told. */
  fill?: number;
}

/** The 6 bytes of a MAC. */
export function macBytes(m: Mac): Buffer {
  if (typeof m === 'string') return Buffer.from(m.split(':').map((h) => parseInt(h, 16)));
  if (typeof m === 'number') {
    const b = Buffer.alloc(6);
    b.writeUIntBE(m, 0, 6);
    return b;
  }
  return Buffer.from(m.subarray(0, 6));
}

/** An Ethernet frame (without FCS) as `spec` says. */
export function frame(spec: FrameSpec): Buffer {
  const payload = typeof spec.payload === 'string' ? Buffer.from(spec.payload, 'latin1') : (spec.payload ?? Buffer.alloc(0));
  const tagLen = spec.vid === undefined ? 0 : 4;
  const len = 14 + tagLen + payload.length;
  const f = Buffer.alloc(Math.max(len, spec.padTo ?? 60), spec.fill ?? 0);
  macBytes(spec.dst).copy(f, 0);
  macBytes(spec.src).copy(f, 6);
  if (spec.vid !== undefined) {
    f.writeUInt16BE(spec.tpid ?? TPID_8021Q, 12);
    f.writeUInt16BE(((spec.pcp ?? 0) << 13) | (spec.vid & 0xfff), 14);
  }
  f.writeUInt16BE(spec.ethertype ?? ETHERTYPE_EXPERIMENTAL, 12 + tagLen);
  f.set(payload, 14 + tagLen);
  return f;
}

/** `f` with one more tag (802.1Q, or the TPID `tpid`) for `vid` right after its MACs: for double tags, too. */
export function tagged(f: Uint8Array, vid: number, tpid = TPID_8021Q): Buffer {
  const tag = Buffer.alloc(4);
  tag.writeUInt16BE(tpid, 0);
  tag.writeUInt16BE(vid & 0xfff, 2);
  return Buffer.concat([f.subarray(0, 12), tag, f.subarray(12)]);
}

/**
 * A frame of the experimental ethertype from `src` to `dst` carrying `marker` right after
 * the ethertype (where withMarker() looks), padded to `size` bytes.
 */
export function markerFrame(dst: Mac, src: Mac, marker = 'dives', size = 60): Buffer {
  return frame({ dst, src, payload: marker, padTo: size });
}

/** The station MAC the QEMU-protocol tests number: 02:d1:7e:00:00:n. */
export function mac(n: number): Buffer {
  return Buffer.from([0x02, 0xd1, 0x7e, 0x00, 0x00, n]);
}

/** The frames among `c.frames` (a QEMU client's, say) that carry `marker`. */
export function withMarker(c: { frames: Buffer[] }, marker: string): Buffer[] {
  return c.frames.filter((f) => f.subarray(14, 14 + marker.length).toString('latin1') === marker);
}

/**
 * The marker of a sentinel: a frame sent after one that must not arrive, along the same
 * path (the same ingress and egress, so ordered after it), whose arrival proves that the
 * other one, had it been forwarded, would have arrived first.
 */
export const SENTINEL = 'dives-sentinel';

export function isSentinel(f: Buffer): boolean {
  return f.subarray(14, 14 + SENTINEL.length).toString('latin1') === SENTINEL;
}

/** The frames of `c` that are not sentinels: what an assertion about "nothing else arrived" looks at. */
export function withoutSentinels(c: { frames: Buffer[] }): Buffer[] {
  return c.frames.filter((f) => !isSentinel(f));
}

export function ipv4(addr: string): Buffer {
  return Buffer.from(addr.split('.').map(Number));
}

/** The Internet checksum (RFC 1071) of buf[off, off + len). */
export function checksum(buf: Uint8Array, off: number, len: number): number {
  let sum = 0;
  for (let i = 0; i < len; i += 2) sum += (buf[off + i]! << 8) | (i + 1 < len ? buf[off + i + 1]! : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** An ARP request (op 1) or reply (op 2) over Ethernet for IPv4, 42 bytes, unpadded. */
export function arpFrame(op: 1 | 2, ethDst: Buffer, sha: Buffer, spa: string, tha: Buffer, tpa: string): Buffer {
  const arp = Buffer.alloc(28);
  arp.writeUInt16BE(1, 0); // Ethernet
  arp.writeUInt16BE(ETHERTYPE_IPV4, 2);
  arp[4] = 6;
  arp[5] = 4;
  arp.writeUInt16BE(op, 6);
  sha.copy(arp, 8);
  ipv4(spa).copy(arp, 14);
  tha.copy(arp, 18);
  ipv4(tpa).copy(arp, 24);
  return frame({ dst: ethDst, src: sha, ethertype: ETHERTYPE_ARP, payload: arp, padTo: 0 });
}

/** An IPv4 header (20 bytes, TTL 64, checksummed) for `total` bytes of datagram. */
export function ipv4Header(proto: number, src: string, dst: string, total: number): Buffer {
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(total, 2);
  ip[8] = 64; // TTL
  ip[9] = proto;
  ipv4(src).copy(ip, 12);
  ipv4(dst).copy(ip, 16);
  ip.writeUInt16BE(checksum(ip, 0, 20), 10);
  return ip;
}

/** An ICMP echo request (type 8) or reply (type 0) in IPv4, unpadded. */
export function icmpEcho(type: 0 | 8, dstMac: Buffer, src: string, dst: string, id: number, seq: number, payload: Buffer, srcMac: Buffer): Buffer {
  const icmp = Buffer.alloc(8 + payload.length);
  icmp[0] = type;
  icmp.writeUInt16BE(id, 4);
  icmp.writeUInt16BE(seq, 6);
  payload.copy(icmp, 8);
  icmp.writeUInt16BE(checksum(icmp, 0, icmp.length), 2);
  const ip = ipv4Header(1, src, dst, 20 + icmp.length);
  return frame({ dst: dstMac, src: srcMac, ethertype: ETHERTYPE_IPV4, payload: Buffer.concat([ip, icmp]), padTo: 0 });
}

export interface Arp { op: number; sha: Buffer; spa: string; tpa: string }
export function parseArp(f: Buffer): Arp | null {
  if (f.length < 42 || f.readUInt16BE(12) !== ETHERTYPE_ARP) return null;
  return { op: f.readUInt16BE(20), sha: f.subarray(22, 28), spa: f.subarray(28, 32).join('.'), tpa: f.subarray(38, 42).join('.') };
}

export interface Icmp { type: number; src: string; dst: string; id: number; seq: number; payload: Buffer }
export function parseIcmp(f: Buffer): Icmp | null {
  if (f.length < 42 || f.readUInt16BE(12) !== ETHERTYPE_IPV4 || f[23] !== 1) return null;
  const ihl = (f[14]! & 0x0f) * 4;
  const at = 14 + ihl;
  return {
    type: f[at]!, src: f.subarray(26, 30).join('.'), dst: f.subarray(30, 34).join('.'),
    id: f.readUInt16BE(at + 4), seq: f.readUInt16BE(at + 6), payload: f.subarray(at + 8, 14 + f.readUInt16BE(16)),
  };
}
