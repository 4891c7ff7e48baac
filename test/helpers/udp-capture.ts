// UDP datagrams on an underlay, captured whole and sent again: a tcpdump writing a pcap
// file inside a namespace, a reader that turns the file into the UDP datagrams it holds
// (IPv4 over Ethernet), and a sender that replays a list of payloads from one socket.
// For the keyed-peering tests (test/peer/peer-keys.test.ts), which look at the bytes
// on the wire and play an attacker who recorded them. Test code, main thread of the ava
// worker; the tcpdump and the sender are child processes the NetnsFixture kills.

import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { NetnsFixture } from './netns.js';
import { until } from './until.js';

/** One UDP datagram from a capture; `payload` is whole unless `fragment`. */
export interface CapturedUdp {
  src: string;
  sport: number;
  dst: string;
  dport: number;
  payload: Buffer;
  /** The first fragment of a fragmented datagram: `payload` is its start only. */
  fragment: boolean;
}

export interface PcapCapture {
  proc: ChildProcess;
  /** The datagrams written so far, tcpdump still running (it writes each frame as it comes). */
  peek(): CapturedUdp[];
  /** Stop tcpdump (it flushes the file as it exits) and read the UDP datagrams it wrote. */
  stop(): Promise<CapturedUdp[]>;
}

const LINKTYPE_ETHERNET = 1;
const ETH_HDR = 14;
const ETHERTYPE_IPV4 = 0x0800;
const IPPROTO_UDP = 17;
const UDP_HDR = 8;

/**
 * tcpdump on `dev` in `ns`, both directions, frames matching `filter` written to `file`
 * as they come (-U). Resolves once tcpdump is listening. `-Z root` because tcpdump
 * otherwise drops to its own user before it opens `file`, in a directory only root may write.
 */
export async function pcapCapture(fx: NetnsFixture, ns: string, dev: string, filter: string, file: string): Promise<PcapCapture> {
  const proc = fx.spawnIn(ns, ['tcpdump', '-i', dev, '-n', '-U', '-Z', 'root', '-s', '0', '-w', file, filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  await until(() => /listening on/.test(err), 5000, `tcpdump -w in ${ns} to start`, { detail: () => err, giveUp: () => (proc.exitCode !== null ? `it exited (${proc.exitCode}): ${err}` : undefined) });
  return {
    proc,
    peek: () => readPcapUdp(file),
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGINT');
      await exited;
      return readPcapUdp(file);
    },
  };
}

/** The UDP-over-IPv4 datagrams in a pcap file of Ethernet frames; later fragments (no UDP header) are left out. */
export function readPcapUdp(file: string): CapturedUdp[] {
  const buf = readFileSync(file);
  if (buf.length < 24) return [];
  const magic = buf.readUInt32LE(0);
  // 0xa1b2c3d4 (microseconds) or 0xa1b23c4d (nanoseconds), written in this host's order or the other.
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && buf.readUInt32BE(0) !== 0xa1b2c3d4 && buf.readUInt32BE(0) !== 0xa1b23c4d) throw new Error(`${file} is not a pcap file`);
  const u32 = (at: number): number => (le ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
  if (u32(20) !== LINKTYPE_ETHERNET) throw new Error(`${file}: link type ${u32(20)}, not Ethernet`);
  const out: CapturedUdp[] = [];
  for (let at = 24; at + 16 <= buf.length; ) {
    const incl = u32(at + 8);
    // A frame tcpdump is still writing (peek) is left for the next read.
    if (at + 16 + incl > buf.length) break;
    const f = buf.subarray(at + 16, at + 16 + incl);
    at += 16 + incl;
    const d = udpOf(f);
    if (d !== null) out.push(d);
  }
  return out;
}

function udpOf(f: Buffer): CapturedUdp | null {
  if (f.length < ETH_HDR + 20 || f.readUInt16BE(12) !== ETHERTYPE_IPV4) return null;
  const ip = f.subarray(ETH_HDR);
  const ihl = (ip[0] & 0x0f) * 4;
  const total = Math.min(ip.readUInt16BE(2), ip.length);
  const frag = ip.readUInt16BE(6);
  const more = (frag & 0x2000) !== 0;
  if (ip[9] !== IPPROTO_UDP || (frag & 0x1fff) !== 0 || total < ihl + UDP_HDR) return null;
  const udp = ip.subarray(ihl, total);
  const udpLen = udp.readUInt16BE(4);
  const addr = (o: number): string => [...ip.subarray(o, o + 4)].join('.');
  return {
    src: addr(12),
    sport: udp.readUInt16BE(0),
    dst: addr(16),
    dport: udp.readUInt16BE(2),
    payload: Buffer.from(udp.subarray(UDP_HDR, Math.min(udpLen, udp.length))),
    fragment: more || udpLen > udp.length,
  };
}

/**
 * Send `payloads`, in order, from one UDP socket bound to `bind` inside `ns` to to:port:
 * an attacker replaying what it recorded (or forging it) from a chosen source.
 */
export async function sendUdpPayloads(
  fx: NetnsFixture,
  ns: string,
  opts: { to: string; port: number; payloads: Buffer[]; bind: { address: string; port: number } },
): Promise<void> {
  const script = `
    const dgram = require('node:dgram');
    const o = JSON.parse(process.argv[1]);
    const s = dgram.createSocket('udp4');
    s.bind(o.bind, async () => {
      for (const hex of o.payloads) await new Promise((r) => s.send(Buffer.from(hex, 'hex'), o.port, o.to, r));
      s.close();
    });`;
  const args = JSON.stringify({ ...opts, payloads: opts.payloads.map((p) => p.toString('hex')) });
  // One argument may hold 128 KiB at most (the kernel's MAX_ARG_STRLEN).
  if (args.length > 120_000) throw new Error(`sendUdpPayloads: ${opts.payloads.length} payloads are too many for one command line`);
  const r = await fx.exec(ns, [process.execPath, '-e', script, args], { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`sending UDP from ${ns}: ${r.stderr}`);
}
