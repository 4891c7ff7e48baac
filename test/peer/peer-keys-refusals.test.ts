// Keyed peering refuses what it must, for real, in network namespaces (docs/security.md):
// a switch with another key or none, datagrams forged from a peer's address, and a peer's
// datagrams and announcement replayed or with a bit flipped. Each refusal is counted and
// logged, and no refused frame reaches a VM.
// Needs root (privTest).

import test from 'ava';
import { join } from 'node:path';
import { ip, sweepStale, type NetnsFixture } from '../helpers/netns.js';
import { privileged, privTest } from '../helpers/privileged.js';
import { sleep, untilValue } from '../helpers/until.js';
import { DISCOVERY_PORT, PEER_PORT, capture, linesWithout, tapSentinel, type Host, type Vm } from '../helpers/two-hosts.js';
import { pcapCapture, sendUdpPayloads, type CapturedUdp } from '../helpers/udp-capture.js';
import { BCAST, frame, mac } from '../helpers/frames.js';
import { TIMED_KEEPALIVE_LEN } from '../../src/peer/wire/keepalive.js';
import type { PeerInfo, PeersInfo } from '../../src/control/switch-api.js';
import { SEAL_F_ENCRYPTED, SEAL_HDR_LEN, SEAL_MAC_LEN, SEAL_MAGIC, SEAL_OVERHEAD } from '../../src/crypto/sealed-datagram.js';
import { topology, keyFile, peers, type Ctx, waitPeers, key, up, peerOf, discovery, log, lit, relaunch, ping, FAST, NO_REPLY, PING_DATAGRAM } from '../helpers/keyed-hosts.js';

test.before(async () => {
  if (privileged.ok) await sweepStale();
});

privTest('a switch with another key, or with none, is never a peer of a keyed cluster: refused, counted and logged on both sides, and its VM reaches nobody', async (t) => {
  t.timeout(60_000);
  const { fx, topo, keyDir } = await topology(t, 3);
  const [h1, h2, h3] = topo.hosts;
  const k = keyFile(keyDir, 'k.key');
  const other = keyFile(keyDir, 'other.key');
  await Promise.all([
    h1.start([{ name: 'a', vid: 10, cidr: '10.98.21.1/24' }], { args: [...FAST, '--key-file', k.path] }),
    h2.start([{ name: 'b', vid: 10, cidr: '10.98.21.2/24' }], { args: [...FAST, '--key-file', k.path] }),
    h3.start([{ name: 'z', vid: 10, cidr: '10.98.21.3/24' }], { args: [...FAST, '--key-file', other.path] }),
  ]);
  const [a, b, z] = [h1.vm('a'), h2.vm('b'), h3.vm('z')];
  await waitPeers(h1, up(key(h2)), 5000, 'h2 up');
  await waitPeers(h2, up(key(h1)), 5000, 'h1 up');

  /** h3 is no peer of h1 or h2, nor they of it; z pings neither a nor b, and a's TAP sees no frame of z's. */
  const isolated = async (what: string): Promise<void> => {
    const seen = await capture(fx, a.ns, a.tap, `ether src ${z.mac}`);
    const [za, zb, ab] = await Promise.all([fx.ping(z.ns, a.addr, NO_REPLY), fx.ping(z.ns, b.addr, NO_REPLY), fx.ping(a.ns, b.addr, { count: 3 })]);
    t.deepEqual([za, zb, ab], [false, false, true], `${what}: z reaches neither a nor b; a still reaches b`);
    for (const [h, p] of [[h1, await peers(h1)], [h2, await peers(h2)]] as const) {
      t.is(peerOf(p, h3), undefined, `${what}: host ${h.index + 1} does not list h3`);
    }
    t.false((await peers(h3)).peers.some((x) => x.state === 'up'), `${what}: h3 has no peer up`);
    t.deepEqual(seen.lines(), [], `${what}: no frame from z reached a's TAP`);
  };

  // Four of h3's announcements refused by each keyed host: four intervals went by.
  const p1 = await waitPeers(h1, (p) => discovery(p, 'unknown-key') >= 4, 5000, "h3's announcements refused");
  await waitPeers(h2, (p) => discovery(p, 'unknown-key') >= 4, 5000, "h3's announcements refused");
  const p3 = await waitPeers(h3, (p) => discovery(p, 'unknown-key') >= 4, 5000, "h1's and h2's announcements refused");
  t.like(p1.discovery?.counters, { unauthenticated: 0, keyed: 0, 'bad-auth': 0 });
  t.like(p3.discovery?.counters, { unauthenticated: 0, keyed: 0, 'bad-auth': 0 });
  t.regex(log(h1), lit(`discovery: refused a sealed announcement from ${h3.addr}: it is sealed with key ${other.key.idHex}, which this switch does not hold (it holds ${k.key.idHex})`));
  await isolated('another key');

  // h3 again, with no key at all.
  await relaunch(h3, FAST);
  const q1 = await waitPeers(h1, (p) => discovery(p, 'unauthenticated') >= 4, 5000, "h3's plain announcements refused");
  const q3 = await waitPeers(h3, (p) => discovery(p, 'keyed') >= 4, 5000, 'sealed announcements refused by h3');
  t.is(discovery(q1, 'keyed'), 0);
  t.is(discovery(q3, 'unauthenticated'), 0);
  t.regex(log(h1), lit(`discovery: refused an announcement without an authenticator from ${h3.addr}: this switch has a cluster key`));
  t.regex(log(h3), lit(`discovery: refused a sealed announcement (key ${k.key.idHex}) from `));
  t.regex(log(h3), /this switch has no cluster key; start it with --key-file/);
  await isolated('no key');
});

/** A vid-10 broadcast frame of the local experimental ethertype 0x88b5, as a peer datagram (vid word first). */
function injectedFrame(marker: number): Buffer {
  return Buffer.concat([Buffer.from('0000000a', 'hex'), frame({ dst: BCAST, src: mac(0xee), fill: marker })]);
}

/** A datagram that looks sealed (magic, flags, key id, session, counter), around `payload`, with a made-up MAC. */
function forgedSeal(keyId: number, flags: number, payload: Buffer): Buffer {
  const hdr = Buffer.alloc(SEAL_HDR_LEN);
  hdr[0] = SEAL_MAGIC;
  hdr[1] = flags;
  hdr.writeUInt32BE(keyId, 4);
  hdr.fill(0x42, 8, 16);
  hdr.writeUInt32BE(7, 20);
  return Buffer.concat([hdr, payload, Buffer.alloc(SEAL_MAC_LEN, 0x99)]);
}

privTest("datagrams forged from a peer's address, plain, sealed-looking, or its own sent again too late, are counted on that peer and reach no VM", async (t) => {
  t.timeout(60_000);
  const { fx, topo, keyDir } = await topology(t, 3);
  const [h1, h2, h3] = topo.hosts;
  const k = keyFile(keyDir, 'k.key');
  const other = keyFile(keyDir, 'other.key');
  // h1 allows 1 s of clock skew, so what h2 sent a little while ago is stale there; h1 and
  // h2 are each other's static peers too, so keepalives go between them.
  await Promise.all([
    h1.start([{ name: 'a', vid: 10, cidr: '10.98.22.1/24' }], { args: ['--key-file', k.path, '--max-clock-skew', '1'], rc: [`peer ${h2.addr} ${PEER_PORT}`] }),
    h2.start([{ name: 'b', vid: 10, cidr: '10.98.22.2/24' }], { args: ['--key-file', k.path], rc: [`peer ${h1.addr} ${PEER_PORT}`] }),
    h3.start([], { args: ['--key-file', other.path] }),
  ]);
  await waitPeers(h1, up(key(h2)), 5000, 'h2 up');
  await waitPeers(h2, up(key(h1)), 5000, 'h1 up');
  const a = h1.vm('a');
  const seen = await capture(fx, a.ns, a.tap, 'ether proto 0x88b5');
  // A keepalive and an announcement of h2's, genuine, recorded as they reach h1.
  const cap = await pcapCapture(fx, h1.ns, h1.dev, `src host ${h2.addr} and (udp dst port ${PEER_PORT} or udp dst port ${DISCOVERY_PORT})`, join(keyDir, 'h2.pcap'));
  const isKeepalive = (d: CapturedUdp): boolean => d.dport === PEER_PORT && d.payload.length === TIMED_KEEPALIVE_LEN + SEAL_OVERHEAD;
  const both = (ds: CapturedUdp[]): boolean => ds.some(isKeepalive) && ds.some((d) => d.dport === DISCOVERY_PORT);
  await untilValue(() => cap.peek(), both, 3000, "a keepalive and an announcement of h2's", { everyMs: 50 });
  const h2Said = await cap.stop();
  const recordedAt = Date.now();

  // h3 takes h2's address too and sends to h1's peer port from h2's: h1 takes them for h2's.
  // Quietly: h3 neither asks for h1's MAC (an ARP request from h2's address would point
  // h1's neighbour entry for h2 at h3) nor answers for h2's address.
  const h1Mac = (await ip('-n', h1.ns, '-br', 'link', 'show', 'dev', h1.dev)).trim().split(/\s+/)[2];
  const h2Mac = (await ip('-n', h2.ns, '-br', 'link', 'show', 'dev', h2.dev)).trim().split(/\s+/)[2];
  await ip('-n', h3.ns, 'neigh', 'replace', h1.addr, 'lladdr', h1Mac, 'dev', h3.dev, 'nud', 'permanent');
  const sysctl = await fx.exec(h3.ns, ['sysctl', '-qw', `net.ipv4.conf.${h3.dev}.arp_ignore=8`]);
  t.is(sysctl.code, 0, sysctl.stderr);
  await ip('-n', h3.ns, 'addr', 'add', `${h2.addr}/32`, 'dev', h3.dev);
  const before = await peers(h1);
  const forged = [
    injectedFrame(0x51), // plain: unauthenticated
    forgedSeal(k.key.id, SEAL_F_ENCRYPTED, Buffer.alloc(64, 0x52)), // the cluster's key id, garbage: bad-auth
    forgedSeal(k.key.id, 0, injectedFrame(0x53)), // authenticated-only, the frame in clear, a made-up MAC: bad-auth
    forgedSeal(k.key.id, 0x80, injectedFrame(0x54)), // flags this version never writes: bad-auth
    forgedSeal(other.key.id, SEAL_F_ENCRYPTED, Buffer.alloc(64, 0x55)), // a key h1 does not hold: unknown-key
  ];
  const times = 3;
  await sendUdpPayloads(fx, h3.ns, { to: h1.addr, port: PEER_PORT, payloads: forged.flatMap((f) => Array<Buffer>(times).fill(f)), bind: { address: h2.addr, port: PEER_PORT } });
  await ip('-n', h3.ns, 'addr', 'del', `${h2.addr}/32`, 'dev', h3.dev);

  const grew = (p: PeersInfo, c: keyof PeerInfo['drops']): number => (peerOf(p, h2)?.drops[c] ?? 0) - (peerOf(before, h2)?.drops[c] ?? 0);
  const after = await waitPeers(h1, (p) => grew(p, 'unauthenticated') + grew(p, 'bad-auth') + grew(p, 'unknown-key') >= 5 * times, 3000, 'the forgeries counted');
  t.deepEqual(
    { unauthenticated: grew(after, 'unauthenticated'), 'bad-auth': grew(after, 'bad-auth'), 'unknown-key': grew(after, 'unknown-key'), replay: grew(after, 'replay'), 'unknown-session': grew(after, 'unknown-session') },
    { unauthenticated: times, 'bad-auth': 3 * times, 'unknown-key': times, replay: 0, 'unknown-session': 0 },
  );
  t.is(after.strangers, before.strangers, 'counted on the peer whose address they bore, not as strangers');
  t.regex(log(h1), lit(`peer ${key(h2)} sent a datagram without an authenticator`));
  t.regex(log(h1), lit(`peer ${key(h2)} sent a datagram that failed authentication`));
  t.regex(log(h1), lit(`peer ${key(h2)} sealed a datagram with key ${other.key.idHex}, which this switch does not hold`));

  // h2's own keepalive and announcement, sent again once they are older than h1's skew: stale.
  await sleep(Math.max(0, recordedAt + 1500 - Date.now()));
  const old = await peers(h1);
  await ip('-n', h3.ns, 'addr', 'add', `${h2.addr}/32`, 'dev', h3.dev);
  await sendUdpPayloads(fx, h3.ns, { to: h1.addr, port: PEER_PORT, payloads: h2Said.filter(isKeepalive).slice(-1).map((d) => d.payload), bind: { address: h2.addr, port: PEER_PORT } });
  await ip('-n', h3.ns, 'addr', 'del', `${h2.addr}/32`, 'dev', h3.dev);
  const announcement = h2Said.filter((d) => d.dport === DISCOVERY_PORT).slice(-1).map((d) => d.payload);
  await sendUdpPayloads(fx, h3.ns, { to: '239.13.13.13', port: DISCOVERY_PORT, payloads: announcement, bind: { address: h3.addr, port: 0 } });
  const grewSince = (p: PeersInfo, c: keyof PeerInfo['drops']): number => (peerOf(p, h2)?.drops[c] ?? 0) - (peerOf(old, h2)?.drops[c] ?? 0);
  const last = await waitPeers(h1, (p) => grewSince(p, 'stale') >= 1 && discovery(p, 'stale') > discovery(old, 'stale'), 3000, 'the stale keepalive and announcement counted');
  t.deepEqual([grewSince(last, 'stale'), grewSince(last, 'replay'), discovery(last, 'stale') - discovery(old, 'stale')], [1, 0, 1], 'stale, replay, discovery stale');
  t.regex(log(h1), new RegExp(`${lit(`peer ${key(h2)} sent a keepalive `).source}.*stamped .*\\(counted as stale\\)`));
  t.regex(log(h1), new RegExp(`${lit(`discovery: refused a sealed announcement from ${h3.addr}: `).source}.*stamped .*\\(counted as stale\\)`));
  // The real h2 is still a peer, and its frames still arrive.
  t.regex(await ip('-n', h1.ns, 'neigh', 'show', h2.addr), lit(h2Mac), "h1 still knows h2's MAC: the test did not divert h2's traffic");
  t.true(await fx.ping(a.ns, h2.vm('b').addr, { count: 3 }), 'a still pings b');
  t.true(up(key(h2))(await peers(h1)));
  // h1 has taken every forged datagram (it counted them); a frame of theirs it let in would be
  // on VLAN 10's peer rx ring, forwarding thread and a's TAP before a sentinel from b, which
  // comes from h2's own peer port to the same socket, and before it in the same capture.
  await tapSentinel(fx, h2.vm('b'), seen);
  t.deepEqual(linesWithout(seen.lines(), h2.vm('b').mac), [], 'no forged frame reached a');
});

/** Two keyed hosts, static peers both ways, and what h1 sent (to h2, and announced) while a pinged b: recorded with tcpdump on h1's underlay. */
async function recordedPair(t: Ctx) {
  const { fx, topo, keyDir } = await topology(t, 2);
  const [h1, h2] = topo.hosts;
  const k = keyFile(keyDir, 'k.key');
  // Discovered, and static peers too, so keepalives go between them and h2 keeps h1 listed (down) once it expires.
  await Promise.all([
    h1.start([{ name: 'a', vid: 10, cidr: '10.98.23.1/24' }], { args: ['--key-file', k.path], rc: [`peer ${h2.addr} ${PEER_PORT}`] }),
    h2.start([{ name: 'b', vid: 10, cidr: '10.98.23.2/24' }], { args: ['--key-file', k.path], rc: [`peer ${h1.addr} ${PEER_PORT}`] }),
  ]);
  await waitPeers(h1, up(key(h2)), 5000, 'h2 up');
  await waitPeers(h2, up(key(h1)), 5000, 'h1 up');
  const [a, b] = [h1.vm('a'), h2.vm('b')];

  // Record what h1 sends while a pings b: peer datagrams to h2 and announcements.
  const cap = await pcapCapture(fx, h1.ns, h1.dev, `src host ${h1.addr} and (udp dst port ${PEER_PORT} or udp dst port ${DISCOVERY_PORT})`, join(keyDir, 'h1.pcap'));
  const pinged = await ping(fx, a, b.addr, ['-c', '5', '-i', '0.1']);
  t.true(pinged.ok, pinged.out);
  await untilValue(() => cap.peek(), (ds) => ds.some((d) => d.dport === DISCOVERY_PORT), 3000, 'an announcement of h1 in the capture', { everyMs: 50 });
  const got = await cap.stop();
  const recorded = got.filter((d) => d.dport === PEER_PORT && d.dst === h2.addr).map((d) => d.payload);
  const announcement = got.filter((d) => d.dport === DISCOVERY_PORT).at(-1)?.payload;
  const echo = recorded.find((d) => d.length === PING_DATAGRAM);
  t.true(recorded.filter((d) => d.length === PING_DATAGRAM).length >= 5, 'the echoes were recorded');
  return { fx, h1, h2, b, recorded, announcement, echo };
}

/**
 * Kill h1's switch, then send h2 `payloads` from h1's address and peer port (before h2
 * expires h1, 3 intervals, that port is ours to send from): h2's record of h1 before and
 * after, what b's TAP captured of ICMP meanwhile, and when h1 stopped.
 */
async function killAndSendAs(fx: NetnsFixture, h1: Host, h2: Host, b: Vm, payloads: Buffer[]) {
  const atB = await capture(fx, b.ns, b.tap, 'icmp');
  await h1.dives?.stop('SIGKILL');
  const stoppedAt = Date.now();
  // Counted from here: h1 sends nothing more, and what it sent last has been read by now.
  await sleep(50);
  const before = peerOf(await peers(h2), h1);
  await sendUdpPayloads(fx, h1.ns, { to: h2.addr, port: PEER_PORT, payloads, bind: { address: h1.addr, port: PEER_PORT } });
  const after = peerOf(await peers(h2), h1);
  return { atB, stoppedAt, before, after };
}

privTest("a peer's datagrams recorded and replayed, or with one bit flipped, are dropped and counted, and its replayed announcement brings no expired peer back", async (t) => {
  t.timeout(60_000);
  const { fx, h1, h2, b, recorded, announcement, echo } = await recordedPair(t);
  if (echo === undefined || announcement === undefined) return;
  const flip = (at: number): Buffer => {
    const d = Buffer.from(echo);
    d[at] ^= 0x04;
    return d;
  };
  // One bit each in the encrypted frame, the MAC and the counter (in the header the MAC covers).
  const flipped = [flip(SEAL_HDR_LEN + 40), flip(echo.length - 3), flip(SEAL_HDR_LEN - 1)];

  // h1 stops; its recorded datagrams and the flipped ones come from its address and port.
  const { atB, stoppedAt, before, after } = await killAndSendAs(fx, h1, h2, b, [...recorded, ...flipped]);
  t.log(`${recorded.length} recorded datagrams and ${flipped.length} flipped ones sent and counted ${Date.now() - stoppedAt} ms after h1 stopped`);
  t.like(after, { state: 'up' }, 'h1 has not expired yet');
  t.is((after?.drops.replay ?? 0) - (before?.drops.replay ?? 0), recorded.length, 'every replayed datagram counted as replay');
  t.is((after?.drops['bad-auth'] ?? 0) - (before?.drops['bad-auth'] ?? 0), flipped.length, 'every flipped one counted as bad-auth');
  t.is(after?.framesIn, before?.framesIn, 'no frame taken');
  t.is(after?.keepalivesIn, before?.keepalivesIn, 'no replayed keepalive taken');
  t.regex(log(h2), lit(`peer ${key(h1)} sent a datagram that failed authentication`));
  await sleep(200);
  t.deepEqual(atB.lines(), [], 'no replayed echo reached b');

  // The replayed keepalives kept nothing alive: h1 expires on time. Then its announcement, replayed, is refused.
  await waitPeers(h2, (p) => peerOf(p, h1)?.state === 'down', 4000, 'h1 expired');
  const replaysBefore = discovery(await peers(h2), 'replay');
  await sendUdpPayloads(fx, h1.ns, { to: '239.13.13.13', port: DISCOVERY_PORT, payloads: [announcement], bind: { address: h1.addr, port: 0 } });
  const p2 = await waitPeers(h2, (p) => discovery(p, 'replay') > replaysBefore, 3000, 'the replayed announcement counted');
  t.like(peerOf(p2, h1), { state: 'down' }, 'h1 did not come back');
  t.regex(log(h2), lit(`discovery: refused an announcement of ${key(h1)} from ${h1.addr}: not newer than the last one taken from it`));
  await sleep(300);
  t.like(peerOf(await peers(h2), h1), { state: 'down' }, 'h1 is still down');

  // h1 comes back, in a new session; what was recorded of the old one is refused as such:
  // its frames and advertisements as unknown-session, its keepalives (not newer than the new session's) as stale.
  await h1.restart();
  await waitPeers(h2, up(key(h1)), 5000, 'h1 up again');
  t.true(await fx.ping(h1.vm('a').ns, b.addr, { count: 3 }), 'a pings b again: the new session was taken');
  const { atB: atB2, before: before2, after: after2 } = await killAndSendAs(fx, h1, h2, b, recorded);
  const keepalives = recorded.filter((d) => d.length === TIMED_KEEPALIVE_LEN + SEAL_OVERHEAD).length;
  t.true(keepalives > 0, 'keepalives were recorded');
  const grew = (c: keyof PeerInfo['drops']): number => (after2?.drops[c] ?? 0) - (before2?.drops[c] ?? 0);
  t.deepEqual({ 'unknown-session': grew('unknown-session'), stale: grew('stale'), replay: grew('replay') }, { 'unknown-session': recorded.length - keepalives, stale: keepalives, replay: 0 });
  t.is(after2?.framesIn, before2?.framesIn, 'no frame of the old session taken');
  await sleep(200);
  t.deepEqual(atB2.lines(), [], 'no echo of the old session reached b');
});
