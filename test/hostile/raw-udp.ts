// RawUdp: sends IPv4 UDP datagrams from any source address and port, through a raw socket
// whose caller writes the IP header (IPPROTO_RAW implies IP_HDRINCL), bound through libc
// (src/linux/libc.ts). The robustness suite speaks with it as the known peer (its address
// and port, while that peer runs) and as many hosts on the discovery group. Needs
// CAP_NET_RAW. Runs on the hostile runner's main thread, inside the switch's namespace: a
// datagram to a local address loops back with its route already attached, so no
// reverse-path check drops a source the namespace has no route to.

import { AF_INET, LITTLE_ENDIAN, SOCK_CLOEXEC, SOCK_RAW, describeErrno, loadLibc, type Libc } from '../../src/linux/libc.js';

const IPPROTO_RAW = 255;
const IPPROTO_UDP = 17;
const IP_HDR = 20;
const UDP_HDR = 8;
/** The largest UDP payload over IPv4: 65535 less the IP and UDP headers. */
export const MAX_UDP_PAYLOAD = 65535 - IP_HDR - UDP_HDR;

export interface Endpoint {
  address: string;
  port: number;
}

export class RawUdp {
  private readonly libc: Libc;
  private readonly fd: number;
  private readonly pkt = Buffer.alloc(65535);
  private readonly sa = Buffer.alloc(16);
  private id = 1;
  /** Datagrams the kernel refused (errno), which a caller does not count as sent. */
  refused = 0;
  lastError = '';

  constructor() {
    this.libc = loadLibc();
    this.fd = this.libc.socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    if (this.fd < 0) throw new Error(`raw socket: ${describeErrno(this.libc.errno())} (the suite needs CAP_NET_RAW: run it as root)`);
  }

  /**
   * Send payload[0..len) from `src` to `dst`; false when the kernel refused it. The IP
   * checksum and total length are the kernel's to fill in; the UDP checksum is left 0,
   * which over IPv4 means "none".
   */
  send(src: Endpoint, dst: Endpoint, payload: Uint8Array, len: number): boolean {
    if (len > MAX_UDP_PAYLOAD) throw new Error(`a UDP payload over IPv4 is at most ${MAX_UDP_PAYLOAD} bytes, not ${len}`);
    const p = this.pkt;
    p.fill(0, 0, IP_HDR + UDP_HDR);
    p[0] = 0x45;
    p.writeUInt16BE(IP_HDR + UDP_HDR + len, 2);
    p.writeUInt16BE(this.id, 4);
    this.id = (this.id + 1) & 0xffff || 1;
    p[8] = 64;
    p[9] = IPPROTO_UDP;
    writeIpv4(src.address, p, 12);
    writeIpv4(dst.address, p, 16);
    p.writeUInt16BE(src.port, 20);
    p.writeUInt16BE(dst.port, 22);
    p.writeUInt16BE(UDP_HDR + len, 24);
    p.set(payload.subarray(0, len), IP_HDR + UDP_HDR);
    this.sa.fill(0);
    // struct sockaddr_in: the family in host order, then the port (unused here) and address.
    if (LITTLE_ENDIAN) this.sa.writeUInt16LE(AF_INET, 0);
    else this.sa.writeUInt16BE(AF_INET, 0);
    writeIpv4(dst.address, this.sa, 4);
    const total = IP_HDR + UDP_HDR + len;
    if (this.libc.sendto(this.fd, p, total, 0, this.sa, this.sa.length) === total) return true;
    this.refused++;
    this.lastError = describeErrno(this.libc.errno());
    return false;
  }

  close(): void {
    this.libc.close(this.fd);
  }
}

function writeIpv4(address: string, out: Buffer, off: number): void {
  const parts = address.split('.');
  if (parts.length !== 4) throw new Error(`not an IPv4 address: ${address}`);
  for (let i = 0; i < 4; i++) out[off + i] = Number(parts[i]);
}
