// sendRawFrames: puts exact Ethernet frames (802.1Q tags and all, built with
// test/helpers/frames.ts) on a network device through an AF_PACKET socket, as a trunk's
// far end would: run inside a namespace, since the device is there. Used by the trunk tests, whose kernel may lack VLAN devices (8021q).
// Runs in the ava test process; as a script (`--dvt-raw IFNAME HEX...`) it is the sender.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadLibc } from '../../src/linux/libc.js';
import type { NetnsFixture } from './netns.js';

const THIS_FILE = fileURLToPath(import.meta.url);
const AF_PACKET = 17;
const SOCK_RAW = 3;

/** Send each frame out of `ifname` in `ns`; resolves once they were handed to the kernel. */
export async function sendRawFrames(fx: NetnsFixture, ns: string, ifname: string, frames: Buffer[]): Promise<void> {
  const r = await fx.exec(ns, [process.execPath, THIS_FILE, '--dvt-raw', ifname, ...frames.map((f) => f.toString('hex'))]);
  if (r.code !== 0) throw new Error(`raw send on ${ifname} in ${ns}: ${r.stderr}`);
}

function rawMain(ifname: string, hex: string[]): number {
  const c = loadLibc();
  const ifindex = Number(readFileSync(`/sys/class/net/${ifname}/ifindex`, 'utf8'));
  const fd = c.socket(AF_PACKET, SOCK_RAW, 0);
  if (fd < 0) {
    process.stderr.write(`socket(AF_PACKET): errno ${c.errno()}\n`);
    return 2;
  }
  // struct sockaddr_ll: family, protocol (network order), ifindex, hatype, pkttype, halen, addr[8].
  const sll = Buffer.alloc(20);
  sll.writeUInt16LE(AF_PACKET, 0);
  sll.writeInt32LE(ifindex, 4);
  sll[11] = 6;
  for (const h of hex) {
    const f = Buffer.from(h, 'hex');
    f.copy(sll, 12, 0, 6);
    if (c.sendto(fd, f, f.length, 0, sll, sll.length) !== f.length) {
      process.stderr.write(`sendto: errno ${c.errno()}\n`);
      return 2;
    }
  }
  c.close(fd);
  return 0;
}

if (process.argv[1] === THIS_FILE && process.argv[2] === '--dvt-raw') process.exitCode = rawMain(process.argv[3], process.argv.slice(4));
