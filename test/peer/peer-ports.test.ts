// Real switches peering over loopback inside the test process: static peers and
// keepalives, floods that reach each peer once, split horizon across three switches,
// VLANs only one side has, strangers, a peer that goes silent and comes back, and
// discovery over loopback multicast. Needs no privileges: VMs are QEMU-protocol clients.

import test from 'ava';
import dgram from 'node:dgram';
import { KEEPALIVE } from '../../src/peer/wire/keepalive.js';
import { OFFLOAD_ADVERT_LEN, PlainVlans, encodeOffloadAdvert, isOffloadAdvert } from '../../src/peer/wire/offload-advert.js';
import { sleep, until } from '../helpers/until.js';
import { freeUdpPort, peerSwitch, peersUp, vm } from '../helpers/peer-switches.js';
import { BCAST, markerFrame, mac, withMarker } from '../helpers/frames.js';
import { sendSentinel } from '../helpers/qemu-client.js';

type Ctx = import('ava').ExecutionContext;

/** Two switches, static peers of each other, each with a VM on VLAN 10. */
async function pair(t: Ctx, expiry?: number) {
  const flags = expiry === undefined ? {} : { expiry };
  const a = await peerSwitch(t, flags);
  const b = await peerSwitch(t, flags);
  await a.sw.addStaticPeer('127.0.0.1', b.port);
  await b.sw.addStaticPeer('127.0.0.1', a.port);
  const vmA = await vm(t, a.sw, 10);
  const vmB = await vm(t, b.sw, 10);
  await peersUp(a.sw, [`127.0.0.1:${b.port}`]);
  await peersUp(b.sw, [`127.0.0.1:${a.port}`]);
  return { a, b, vmA, vmB };
}

test('static peers find each other by keepalive and carry a broadcast and the unicast answer between VMs', async (t) => {
  const { a, b, vmA, vmB } = await pair(t);
  vmA.send(markerFrame(BCAST, mac(1), 'hello-b'));
  await until(() => withMarker(vmB, 'hello-b').length > 0, 3000, 'the broadcast at B');
  vmB.send(markerFrame(mac(1), mac(2), 'hello-a'));
  await until(() => withMarker(vmA, 'hello-a').length > 0, 3000, 'the unicast at A');
  // A copy more would take the one path there is, VM, forwarding thread, peer thread, one
  // loopback UDP flow, peer thread, forwarding thread, VM, which keeps its order: a sentinel
  // each way, sent after the frame was seen, comes after it.
  await sendSentinel(vmA, mac(1), [vmB]);
  await sendSentinel(vmB, mac(2), [vmA], { dst: mac(1) });
  t.is(withMarker(vmB, 'hello-b').length, 1, 'the broadcast arrived once');
  t.is(withMarker(vmA, 'hello-a').length, 1);

  const macs = await a.sw.showMacs(10);
  t.deepEqual(
    macs.filter((m) => m.mac === '02:d1:7e:00:00:02').map((m) => m.port),
    [`peer:127.0.0.1:${b.port}`],
    'B\'s VM is learned on the peer port',
  );
  const info = await a.sw.showPeers();
  t.is(info.local, `127.0.0.1:${a.port}`);
  t.is(info.discovery, null);
  const p = info.peers[0];
  t.like(p, { address: `127.0.0.1:${b.port}`, learned: 'static', state: 'up' });
  t.true(p.framesOut >= 1 && p.framesIn >= 1, JSON.stringify(p));
  t.true(p.bytesOut >= 60 && p.bytesIn >= 60);
  t.true(p.keepalivesIn >= 1 && p.keepalivesOut >= 1);
  t.true(p.lastHeardSeconds !== null && p.lastHeardSeconds < 1);
  const ports = await a.sw.showPorts(10);
  t.deepEqual(ports.map((x) => x.kind).sort(), ['peer', 'qemu'], 'the peer is a port of VLAN 10');
  t.deepEqual(a.sw.staticPeers(), [{ host: '127.0.0.1', port: b.port }]);
});

test('a frame for a VLAN only one side has is dropped and counted there, and reaches no VM', async (t) => {
  const { a, b, vmA, vmB } = await pair(t);
  // "up" on main comes a control message ahead of each peer thread; a frame that
  // crossed on VLAN 10 shows both threads carry the peer, so what follows can
  // only be counted as no-vlan (not as peer-down).
  vmA.send(markerFrame(BCAST, mac(1), 'crossed-10'));
  await until(() => withMarker(vmB, 'crossed-10').length > 0, 3000, 'a VLAN 10 frame at B');
  const vmA20 = await vm(t, a.sw, 20);
  // Peers join a VLAN once its first local port is wired, a moment after the port.
  await until(() => a.sw.peers.memberVlans().includes(20), 3000, 'A\'s peers in VLAN 20');
  t.deepEqual(a.sw.peers.memberVlans(), [10, 20]);
  t.deepEqual(b.sw.peers.memberVlans(), [10]);
  for (let i = 0; i < 3; i++) vmA20.send(markerFrame(BCAST, mac(20), 'vlan-20'));
  const key = `127.0.0.1:${a.port}`;
  await until(async () => ((await b.sw.showPeers()).peers.find((p) => p.address === key)?.drops['no-vlan'] ?? 0) >= 3, 3000, 'no-vlan drops at B');
  t.is(withMarker(vmB, 'vlan-20').length, 0);
  const ports = await b.sw.showPorts();
  t.false(ports.some((p) => p.vid === 20), 'B has no VLAN 20 ports at all');
});

test('across three switches a broadcast reaches each other switch once, and a learned unicast only its own', async (t) => {
  const s = [await peerSwitch(t), await peerSwitch(t), await peerSwitch(t)];
  for (const x of s) for (const y of s) if (x !== y) await x.sw.addStaticPeer('127.0.0.1', y.port);
  const vms = [await vm(t, s[0].sw, 10), await vm(t, s[1].sw, 10), await vm(t, s[2].sw, 10)];
  for (const x of s) await peersUp(x.sw, s.filter((y) => y !== x).map((y) => `127.0.0.1:${y.port}`));

  vms[0].send(markerFrame(BCAST, mac(10), 'flood-once'));
  await until(() => withMarker(vms[1], 'flood-once').length > 0 && withMarker(vms[2], 'flood-once').length > 0, 3000, 'the flood');
  await sleep(300);
  t.is(withMarker(vms[1], 'flood-once').length, 1, 'switch 2 got one copy');
  t.is(withMarker(vms[2], 'flood-once').length, 1, 'switch 3 got one copy');
  t.is(withMarker(vms[0], 'flood-once').length, 0, 'nothing came back');

  // VM 2 answers, so every switch learns it; then a unicast to it goes to switch 2 only.
  vms[1].send(markerFrame(BCAST, mac(11), 'i-am-11'));
  await until(() => withMarker(vms[0], 'i-am-11').length > 0, 3000, 'VM 2\'s announcement');
  const before = (await s[2].sw.showPeers()).peers.find((p) => p.address === `127.0.0.1:${s[0].port}`)?.framesIn ?? 0;
  for (let i = 0; i < 5; i++) vms[0].send(markerFrame(mac(11), mac(10), 'to-11'));
  await until(() => withMarker(vms[1], 'to-11').length >= 5, 3000, 'the unicasts at VM 2').catch(async (err: Error) => {
    throw new Error(`${err.message}: got ${withMarker(vms[1], 'to-11').length}; switch 1: ${JSON.stringify(await s[0].sw.showPeers())}`);
  });
  t.is(withMarker(vms[1], 'to-11').length, 5);
  await sleep(200);
  t.is(withMarker(vms[2], 'to-11').length, 0, 'switch 3 saw none of them');
  const after = (await s[2].sw.showPeers()).peers.find((p) => p.address === `127.0.0.1:${s[0].port}`)?.framesIn ?? 0;
  t.is(after, before, 'switch 1 sent switch 3 nothing');
});

test('datagrams from a stranger are dropped and counted, and a stranger\'s keepalive makes no peer', async (t) => {
  const { b, vmA, vmB } = await pair(t);
  const stranger = dgram.createSocket('udp4');
  t.teardown(() => stranger.close());
  await new Promise<void>((r) => stranger.bind(0, '127.0.0.1', () => r()));
  const datagram = Buffer.concat([Buffer.from([0, 0, 0, 10]), markerFrame(BCAST, mac(66), 'injected')]);
  for (const msg of [datagram, datagram, KEEPALIVE]) {
    await new Promise<void>((r) => stranger.send(msg, b.port, '127.0.0.1', () => r()));
  }
  await until(async () => (await b.sw.showPeers()).strangers >= 3, 3000, 'the strangers count');
  const info = await b.sw.showPeers();
  t.is(info.lastStranger, `127.0.0.1:${stranger.address().port}`);
  t.is(info.peers.length, 1, 'the keepalive made no peer');
  // B's peer thread has taken the stranger's datagrams (it counted them); a frame of theirs
  // it let in would be on VLAN 10's peer rx ring before a sentinel from A's VM, which
  // follows it through the same forwarding thread to B's VM.
  await sendSentinel(vmA, mac(1), [vmB]);
  t.is(withMarker(vmB, 'injected').length, 0);
});

test('offloaded datagrams from a peer: a checksum still to do never reaches a QEMU port (counted), a header that asks for nothing is stripped, a short one and one whose header does not fit its frame are counted, and the switch says VLAN 10 needs plain frames', async (t) => {
  const b = await peerSwitch(t);
  const vmB = await vm(t, b.sw, 10);
  // A hand-made peer: a UDP socket the switch has as a static peer.
  const fake = dgram.createSocket('udp4');
  t.teardown(() => fake.close());
  const heard: Buffer[] = [];
  fake.on('message', (m) => heard.push(m));
  await new Promise<void>((r) => fake.bind(0, '127.0.0.1', () => r()));
  const fakeKey = `127.0.0.1:${fake.address().port}`;
  await b.sw.addStaticPeer('127.0.0.1', fake.address().port);
  const send = (msg: Buffer): Promise<void> => new Promise<void>((r) => fake.send(msg, b.port, '127.0.0.1', () => r()));
  await send(KEEPALIVE);
  await peersUp(b.sw, [fakeKey]);

  // Coming up, it is told VLAN 10 needs plain frames (a QEMU port is there).
  await until(() => heard.some((m) => isOffloadAdvert(m, m.length)), 3000, 'an offload advertisement');
  const advert = heard.find((m) => isOffloadAdvert(m, m.length)) as Buffer;
  t.is(advert.length, OFFLOAD_ADVERT_LEN);
  const view = new PlainVlans();
  view.update(advert);
  t.deepEqual(view.plainVids(), [10]);
  await send(encodeOffloadAdvert([]));
  await until(async () => (await b.sw.showPeers()).peers[0]?.plainVids?.length === 0, 3000, 'our advertisement heard');

  // flags, then csum_start and csum_offset (little-endian); gso_type, hdr_len and gso_size 0.
  const vnet = (flags: number, start = 0, offset = 0): Buffer => Buffer.from([flags, 0, 0, 0, 0, 0, start, 0, offset, 0]);
  const word = Buffer.from([0x80, 0, 0, 10]);
  // NEEDS_CSUM (1) over bytes 34.. of the 60-byte frame: a QEMU port cannot finish the checksum.
  await send(Buffer.concat([word, vnet(1, 34, 6), markerFrame(BCAST, mac(61), 'needs-csum')]));
  // A checksum to write into the Ethernet header: not a header DiVES forwards.
  await send(Buffer.concat([word, vnet(1, 0, 0), markerFrame(BCAST, mac(64), 'bad-vnet')]));
  // DATA_VALID (2) only: a complete frame, delivered bare.
  await send(Buffer.concat([word, vnet(2), markerFrame(BCAST, mac(62), 'plain-vnet')]));
  // Flagged, but too short to hold the header and an Ethernet header.
  await send(Buffer.concat([word, vnet(0), Buffer.alloc(10)]));
  await until(() => withMarker(vmB, 'plain-vnet').length > 0, 3000, 'the plain flagged frame');
  t.deepEqual(withMarker(vmB, 'plain-vnet')[0], markerFrame(BCAST, mac(62), 'plain-vnet'), 'the header was stripped');
  await until(async () => (await b.sw.showPorts(10)).some((p) => p.kind === 'qemu' && p.drops.offload === 1), 3000, 'the offload drop');
  t.is(withMarker(vmB, 'needs-csum').length, 0);
  const peer = (await b.sw.showPeers()).peers[0];
  t.is(peer.drops.short, 1);
  t.is(peer.drops['bad-vnet-hdr'], 1);
  t.is(withMarker(vmB, 'bad-vnet').length, 0);
  t.is(peer.offloadedIn, 2);
  // The switch still forwards: a plain frame crosses as before.
  await send(Buffer.concat([Buffer.from([0, 0, 0, 10]), markerFrame(BCAST, mac(63), 'after')]));
  await until(() => withMarker(vmB, 'after').length > 0, 3000, 'a frame after the bad ones');
});

test('a peer I/O thread that dies is restarted on the same socket with every peer, port and VLAN, and frames cross again both ways', async (t) => {
  const { a, b, vmA, vmB } = await pair(t);
  vmA.send(markerFrame(BCAST, mac(1), 'before'));
  await until(() => withMarker(vmB, 'before').length > 0, 3000, 'a frame before');
  await b.sw.crashPeerIo();
  await until(() => b.sw.peers.io.supervisor.status().restarts === 1, 5000, 'the restart');
  // Both ways across b's new thread: into b's VM, and b's VM's answer out to a's.
  vmA.send(markerFrame(BCAST, mac(1), 'after-in'));
  await until(() => withMarker(vmB, 'after-in').length > 0, 3000, 'a frame into b after the restart');
  vmB.send(markerFrame(mac(1), mac(2), 'after-out'));
  await until(() => withMarker(vmA, 'after-out').length > 0, 3000, 'a frame out of b after the restart');
  const p = (await b.sw.showPeers()).peers[0];
  t.like(p, { address: `127.0.0.1:${a.port}`, state: 'up' });
  t.true(p.framesIn >= 1 && p.framesOut >= 1, 'the new thread counts from zero, and counted these');
  t.is(b.sw.peers.bound?.port, b.port, 'the same socket');
  // It keeps the offload advertisement too: VLAN 10 has a QEMU port, so it says plain.
  await until(async () => JSON.stringify((await a.sw.showPeers()).peers[0]?.plainVids) === '[10]', 3000, 'the advertisement from the new thread');
});

test('a static peer that goes silent goes down within its expiry, its MACs are flushed, and it comes back when heard', async (t) => {
  const { a, b, vmA, vmB } = await pair(t, 3);
  vmB.send(markerFrame(BCAST, mac(2), 'learn-me'));
  await until(() => withMarker(vmA, 'learn-me').length > 0, 3000, 'the frame at A');
  const key = `127.0.0.1:${b.port}`;
  t.true((await a.sw.showMacs(10)).some((m) => m.port === `peer:${key}`));

  const stopped = Date.now();
  await b.sw.close();
  await until(async () => (await a.sw.showPeers()).peers[0].state === 'down', 3000, 'the peer to go down');
  const took = Date.now() - stopped;
  // 3 intervals of 200 ms, plus the expiry check (40 ms) and this poll (20 ms).
  t.true(took <= 3 * 200 + 200, `went down after ${took} ms`);
  t.false((await a.sw.showMacs(10)).some((m) => m.port === `peer:${key}`), 'its MACs are gone');
  t.false((await a.sw.showPorts(10)).some((p) => p.kind === 'peer'), 'its port is gone');
  t.like((await a.sw.showPeers()).peers[0], { learned: 'static', state: 'down', portId: null });

  // The same address comes back (a restarted switch) and is heard again.
  const b2 = await peerSwitch(t, { port: b.port });
  await b2.sw.addStaticPeer('127.0.0.1', a.port);
  const vmB2 = await vm(t, b2.sw, 10);
  await peersUp(a.sw, [key]);
  await peersUp(b2.sw, [`127.0.0.1:${a.port}`]);
  // Up is not yet a member: b2's peer port joins VLAN 10 once its VM's port is there.
  await until(async () => (await b2.sw.showPorts(10)).some((p) => p.kind === 'peer'), 3000, 'b2\'s peer port to join VLAN 10');
  vmA.send(markerFrame(BCAST, mac(1), 'welcome-back'));
  await until(() => withMarker(vmB2, 'welcome-back').length > 0, 3000, 'traffic to resume');
  t.pass();
});

test('no peer forgets a static peer and its port at once; repeating either command is refused', async (t) => {
  const { a, b } = await pair(t);
  await t.throwsAsync(a.sw.addStaticPeer('127.0.0.1', b.port), { code: 'EATTACHED' });
  await a.sw.removeStaticPeer('127.0.0.1', b.port);
  t.deepEqual((await a.sw.showPeers()).peers, []);
  t.false((await a.sw.showPorts()).some((p) => p.kind === 'peer'));
  t.deepEqual(a.sw.staticPeers(), []);
  await t.throwsAsync(a.sw.removeStaticPeer('127.0.0.1', b.port), { code: 'ENOTATTACHED' });
  await t.throwsAsync(a.sw.addStaticPeer('127.0.0.1', a.port), { code: 'EBADARG', message: /own address/ });
  await t.throwsAsync(a.sw.addStaticPeer('0.0.0.0', 3333), { code: 'EBADARG', message: /wildcard/ });
});

test('two switches on one host find each other by multicast on loopback and ignore their own announcements', async (t) => {
  const discoveryPort = await freeUdpPort();
  const flags = { discovery: true, discoveryPort, group: '239.13.13.77', ttl: 0, interval: 0.2 };
  const a = await peerSwitch(t, flags);
  const b = await peerSwitch(t, flags);
  await peersUp(a.sw, [`127.0.0.1:${b.port}`], 3000);
  await peersUp(b.sw, [`127.0.0.1:${a.port}`], 3000);
  const info = await a.sw.showPeers();
  t.like(info.peers[0], { learned: 'discovered', state: 'up', keepalivesIn: 0 });
  t.like(info.discovery, { group: '239.13.13.77', port: discoveryPort, interface: '127.0.0.1', ttl: 0, malformed: 0 });
  t.true((info.discovery?.own ?? 0) >= 1, 'its own announcements came back and were ignored');
  t.true((info.discovery?.accepted ?? 0) >= 1);
  t.is(info.peers.length, 1, 'it did not make itself a peer');
});
