// A known peer that sends offloaded frames with bad virtio_net_hdrs toward a VLAN of
// TAPs: each is dropped by the peer I/O thread and counted as bad-vnet-hdr, none reaches
// the TAP (its kernel's own rx counters say so), and good offloaded frames still do.
// The peer is a UDP socket in the test; the TAP sits in a namespace. Needs root (privTest).

import test from 'ava';
import dgram from 'node:dgram';
import { Switch } from '../../src/switch/switch.js';
import { createLogger } from '../../src/core/log.js';
import { resolvePeeringOptions } from '../../src/peer/peering-options.js';
import { KEEPALIVE } from '../../src/peer/wire/keepalive.js';
import { peersLines } from '../../src/control/commands/peer.js';
import { NetnsFixture, sweepStale } from '../helpers/netns.js';
import { BCAST, ETHERTYPE_IPV4, frame, ipv4Header } from '../helpers/frames.js';
import { freeUdpPort, peersUp } from '../helpers/peer-switches.js';
import { sleep, until, within } from '../helpers/until.js';
import { privileged, privTest } from '../helpers/privileged.js';

test.before(async () => {
  if (privileged.ok) await sweepStale();
});

const VID = 10;
const MAX_FRAME = 1514;
const PEER_MAC = Buffer.from([0x02, 0xd1, 0x7e, 0x00, 0x00, 0x77]);

interface Hdr { flags?: number; gso?: number; hdrLen?: number; gsoSize?: number; start?: number; offset?: number }

/** An offloaded peer datagram: the vid word with PEER_F_VNET, the virtio_net_hdr, the frame. */
function offloaded(h: Hdr, frame: Buffer): Buffer {
  const d = Buffer.alloc(4 + 10);
  d.writeUInt32BE((0x80000000 | VID) >>> 0, 0);
  d[4] = h.flags ?? 0;
  d[5] = h.gso ?? 0;
  d.writeUInt16LE(h.hdrLen ?? 0, 6);
  d.writeUInt16LE(h.gsoSize ?? 0, 8);
  d.writeUInt16LE(h.start ?? 0, 10);
  d.writeUInt16LE(h.offset ?? 0, 12);
  return Buffer.concat([d, frame]);
}

/** A broadcast IPv4 frame of `proto` (6 TCP, 17 UDP) with an L4 header of `l4` bytes and `payload` bytes after it. */
function ipv4Frame(proto: number, l4: number, payload: number): Buffer {
  const ip = ipv4Header(proto, '10.97.0.77', '10.97.0.255', 20 + l4 + payload);
  const l4Hdr = Buffer.alloc(l4);
  if (proto === 6) l4Hdr[12] = 0x50; // TCP data offset: 5 words
  else l4Hdr.writeUInt16BE(8 + payload, 4); // UDP length
  return frame({ dst: BCAST, src: PEER_MAC, ethertype: ETHERTYPE_IPV4, payload: Buffer.concat([ip, l4Hdr, Buffer.alloc(payload, 0x61)]), padTo: 0 });
}

const TSO4: Hdr = { flags: 1, gso: 1, hdrLen: 54, gsoSize: 1448, start: 34, offset: 16 };
const UDP_CSUM: Hdr = { flags: 1, start: 34, offset: 6 };

// Each breaks one rule of src/peer/wire/vnet-hdr-check.ts. Before that check, Linux 6.18's
// tun refused the ones marked `refused` (a tap-write drop on the port) and took the others.
const BAD: [string, Buffer][] = [
  ['an unknown flags bit (taken)', offloaded({ ...UDP_CSUM, flags: 1 | 4 }, ipv4Frame(17, 8, 32))],
  ['gso_type UDP, UFO (taken)', offloaded({ ...TSO4, gso: 3, offset: 6 }, ipv4Frame(17, 8, 2896))],
  ['the ECN bit with no segment type (refused)', offloaded({ gso: 0x80 }, ipv4Frame(17, 8, 32))],
  ['a plain frame over the maximum frame (taken)', offloaded({ flags: 2 }, ipv4Frame(17, 8, 2000))],
  ['a segment without NEEDS_CSUM (taken)', offloaded({ ...TSO4, flags: 0 }, ipv4Frame(6, 20, 2896))],
  ['a segment of gso_size 0 (refused)', offloaded({ ...TSO4, gsoSize: 0 }, ipv4Frame(6, 20, 2896))],
  ['a checksum written into the IPv4 header (taken)', offloaded({ flags: 1, start: 20, offset: 10 }, ipv4Frame(6, 20, 100))],
  ['a checksum field past the frame (refused)', offloaded({ flags: 1, start: 34, offset: 200 }, ipv4Frame(17, 8, 32))],
  ['a TCP segment whose checksum is not TCP\'s (refused)', offloaded({ ...TSO4, offset: 6 }, ipv4Frame(6, 20, 2896))],
  ['hdr_len past the frame (refused)', offloaded({ hdrLen: 5000 }, ipv4Frame(17, 8, 32))],
];

const GOOD: [string, Buffer][] = [
  ['a TCP segment of two 1448-byte segments', offloaded(TSO4, ipv4Frame(6, 20, 2896))],
  ['a UDP checksum to do', offloaded(UDP_CSUM, ipv4Frame(17, 8, 32))],
  ['a complete frame marked DATA_VALID', offloaded({ flags: 2 }, ipv4Frame(17, 8, 32))],
];

/** Frames the TAP's kernel took from DiVES (its rx_packets, read in its namespace). */
async function tapRx(fx: NetnsFixture, ns: string, tap: string): Promise<number> {
  const r = await fx.exec(ns, ['cat', `/sys/class/net/${tap}/statistics/rx_packets`]);
  const n = Number.parseInt(r.stdout, 10);
  if (r.code !== 0 || !Number.isFinite(n)) throw new Error(`${tap} rx_packets: ${r.stderr}${r.stdout}`);
  return n;
}

privTest('offloaded frames from a peer with bad virtio_net_hdrs are counted as bad-vnet-hdr and never reach a TAP; good ones still do', async (t) => {
  t.timeout(60_000);
  const fx = new NetnsFixture();
  const sw = new Switch({ log: createLogger('error'), forwardingThreads: 1, maxFrame: MAX_FRAME });
  t.teardown(() => fx.cleanup());
  t.teardown(() => sw.close());
  const port = await freeUdpPort();
  await sw.startPeering(await resolvePeeringOptions({
    host: '127.0.0.1', port, discovery: false, group: '239.13.13.13', discoveryPort: 3535, interval: 0.2, expiry: 10, ttl: 0,
  }));
  const tap = fx.ifname('v');
  await fx.createTap(tap);
  await sw.attachTap(VID, tap);
  const ns = await fx.addNs('v');
  await fx.moveToNs(tap, ns, '10.97.0.1/24');

  // The peer: a UDP socket the switch knows as a static peer, kept up by keepalives.
  const peer = dgram.createSocket('udp4');
  await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
  const send = (msg: Buffer): Promise<void> => new Promise<void>((r) => peer.send(msg, port, '127.0.0.1', () => r()));
  const keepalive = setInterval(() => void send(KEEPALIVE), 200);
  t.teardown(() => {
    clearInterval(keepalive);
    peer.close();
  });
  const key = `127.0.0.1:${peer.address().port}`;
  await sw.addStaticPeer('127.0.0.1', peer.address().port);
  await send(KEEPALIVE);
  await peersUp(sw, [key]);
  // A plain frame that reaches the TAP shows the peer is a port of the VLAN on every thread.
  const probe = Buffer.concat([Buffer.from([0, 0, 0, VID]), ipv4Frame(17, 8, 32)]);
  await until(async () => {
    await send(probe);
    return (await tapRx(fx, ns, tap)) > 0;
  }, 5000, 'a plain frame at the TAP');
  await sleep(100);
  const before = await tapRx(fx, ns, tap);

  for (const [, d] of BAD) await send(d);
  for (const [, d] of GOOD) await send(d);
  const drops = async (): Promise<Record<string, number> | undefined> => (await sw.showPeers()).peers.find((p) => p.address === key)?.drops;
  await until(async () => (await tapRx(fx, ns, tap)) >= before + GOOD.length, 5000, 'the good frames at the TAP');
  // `within`, not `until`: should the drops not come, the assertions below say what happened instead.
  await within(async () => ((await drops())?.['bad-vnet-hdr'] ?? 0) >= BAD.length, 5000, { everyMs: 50 });
  await sleep(200);

  const after = await tapRx(fx, ns, tap);
  const tapPort = (await sw.showPorts(VID)).find((p) => p.kind === 'tap');
  t.log(`TAP rx: ${after - before} frames; tap-write drops: ${tapPort?.drops['tap-write']}; peer drops: ${JSON.stringify(await drops())}`);
  t.is((await drops())?.['bad-vnet-hdr'], BAD.length, 'each bad header counted once');
  t.is(after - before, GOOD.length, 'the TAP took the good frames and nothing else');
  t.is(tapPort?.drops['tap-write'], 0, 'the TAP\'s kernel refused nothing');
  t.is(tapPort?.drops.giant, 0);
  const info = (await sw.showPeers()).peers.find((p) => p.address === key);
  t.is(info?.offloadedIn, GOOD.length);
  t.true(peersLines(await sw.showPeers()).some((l) => l.includes(`bad-vnet-hdr=${BAD.length}`)), '`show peers` prints the count');
});
