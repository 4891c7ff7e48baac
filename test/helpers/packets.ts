// Frames tests speak to real kernels through TAPs and the switch: ARP and ICMP
// echo over IPv4, built and parsed byte by byte. Test code, any thread.

export function ipv4(addr: string): Buffer {
  return Buffer.from(addr.split('.').map(Number));
}

export function checksum(buf: Uint8Array, off: number, len: number): number {
  let sum = 0;
  for (let i = 0; i < len; i += 2) sum += (buf[off + i]! << 8) | (i + 1 < len ? buf[off + i + 1]! : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function arpFrame(op: 1 | 2, ethDst: Buffer, sha: Buffer, spa: string, tha: Buffer, tpa: string): Buffer {
  const f = Buffer.alloc(42);
  ethDst.copy(f, 0);
  sha.copy(f, 6);
  f.writeUInt16BE(0x0806, 12);
  f.writeUInt16BE(1, 14); // Ethernet
  f.writeUInt16BE(0x0800, 16); // IPv4
  f[18] = 6;
  f[19] = 4;
  f.writeUInt16BE(op, 20);
  sha.copy(f, 22);
  ipv4(spa).copy(f, 28);
  tha.copy(f, 32);
  ipv4(tpa).copy(f, 38);
  return f;
}

export function icmpEcho(type: 0 | 8, dstMac: Buffer, src: string, dst: string, id: number, seq: number, payload: Buffer, srcMac: Buffer): Buffer {
  const f = Buffer.alloc(14 + 20 + 8 + payload.length);
  dstMac.copy(f, 0);
  srcMac.copy(f, 6);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(20 + 8 + payload.length, 16);
  f[22] = 64; // TTL
  f[23] = 1; // ICMP
  ipv4(src).copy(f, 26);
  ipv4(dst).copy(f, 30);
  f.writeUInt16BE(checksum(f, 14, 20), 24);
  f[34] = type;
  f.writeUInt16BE(id, 38);
  f.writeUInt16BE(seq, 40);
  payload.copy(f, 42);
  f.writeUInt16BE(checksum(f, 34, 8 + payload.length), 36);
  return f;
}

export interface Arp { op: number; sha: Buffer; spa: string; tpa: string }
export function parseArp(f: Buffer): Arp | null {
  if (f.length < 42 || f.readUInt16BE(12) !== 0x0806) return null;
  return { op: f.readUInt16BE(20), sha: f.subarray(22, 28), spa: f.subarray(28, 32).join('.'), tpa: f.subarray(38, 42).join('.') };
}

export interface Icmp { type: number; src: string; dst: string; id: number; seq: number; payload: Buffer }
export function parseIcmp(f: Buffer): Icmp | null {
  if (f.length < 42 || f.readUInt16BE(12) !== 0x0800 || f[23] !== 1) return null;
  const ihl = (f[14]! & 0x0f) * 4;
  const at = 14 + ihl;
  return {
    type: f[at]!, src: f.subarray(26, 30).join('.'), dst: f.subarray(30, 34).join('.'),
    id: f.readUInt16BE(at + 4), seq: f.readUInt16BE(at + 6), payload: f.subarray(at + 8, 14 + f.readUInt16BE(16)),
  };
}
