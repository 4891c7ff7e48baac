// DiVES across hosts, for real: each "host" is a network namespace running its own
// `dives start`, hosts meet on a veth underlay (a bridge for three), and each switch
// has TAP-holding "VM" namespaces behind it. Discovery, ping and iperf3 across, VLAN
// isolation, floods counted with tcpdump, a switch killed and restarted, static peers
// without multicast, and a stranger's datagram. Needs root (privTest).

import test from 'ava';
import { NetnsFixture, sweepStale } from '../helpers/netns.js';
import { privileged, privTest } from '../helpers/privileged.js';
import { sleep, until } from '../helpers/until.js';
import { HostsTopology, PEER_PORT, capture, key, peers, sendUdp, up, waitPeers } from '../helpers/two-hosts.js';
import type { MacEntry } from '../../src/control/switch-api.js';
import { BCAST, frame, mac } from '../helpers/frames.js';

test.before(async () => {
  if (privileged.ok) await sweepStale();
});

type Ctx = import('ava').ExecutionContext;

/** A topology torn down when its test ends: switches first, then namespaces. */
async function topology(t: Ctx, count: 2 | 3): Promise<{ fx: NetnsFixture; topo: HostsTopology }> {
  const fx = new NetnsFixture();
  t.teardown(() => fx.cleanup());
  return { fx, topo: await HostsTopology.create(t, fx, count) };
}

privTest('two switches on two hosts discover each other within 3 s, ping and iperf3 cross on VLAN 10, and nothing crosses on a VLAN only one has', async (t) => {
  t.timeout(60_000);
  const { fx, topo } = await topology(t, 2);
  const [h1, h2] = topo.hosts;
  await h1.start([
    { name: 'a', vid: 10, cidr: '10.98.10.1/24' },
    // Same subnet as b, but VLAN 20: if VLANs leaked, it would reach b.
    { name: 'c', vid: 20, cidr: '10.98.10.3/24' },
  ]);
  await h2.start([{ name: 'b', vid: 10, cidr: '10.98.10.2/24' }]);
  const bothUp = Date.now();
  const p1 = await waitPeers(h1, up(key(h2)), 3000, 'peer up');
  await waitPeers(h2, up(key(h1)), 3000, 'peer up');
  t.true(Date.now() - bothUp < 3000, 'discovered within 3 s');
  t.like(p1, { local: key(h1), intervalSeconds: 1, expiryIntervals: 3, discovery: { group: '239.13.13.13', port: 3535, interface: h1.addr, ttl: 1 } });
  t.like(p1.peers[0], { learned: 'discovered', state: 'up' });
  const text = await h1.dives?.command('show peers', /strangers:/);
  t.regex(text ?? '', new RegExp(`${h2.addr}:${PEER_PORT} +discovered +up `), 'the text form lists the peer');

  t.true(await fx.ping(h1.vm('a').ns, h2.vm('b').addr, { count: 5 }), 'a pings b across the hosts');
  t.false(await fx.ping(h1.vm('c').ns, h2.vm('b').addr, { count: 2 }), 'VLAN 20 does not reach VLAN 10');
  const p2 = await peers(h2);
  t.true(p2.peers[0].drops['no-vlan'] > 0, 'host 2 dropped and counted VLAN 20 frames');
  t.true(p2.peers[0].framesIn > 0 && p2.peers[0].framesOut > 0);
  const macs = await h2.json<{ macs: MacEntry[] }>('vlan 10 show macs');
  t.true(macs.macs.some((m) => m.mac === h1.vm('a').mac && m.port === `peer:${key(h1)}`), 'a is learned on the peer port');

  // iperf3, TCP, between the VMs, through both switches and the peer link.
  const server = fx.spawnIn(h2.vm('b').ns, ['iperf3', '-s', '-1', '-B', h2.vm('b').addr]);
  await until(async () => (await fx.exec(h2.vm('b').ns, ['ss', '-Hltn', 'sport = :5201'])).stdout.includes('5201'), 5000, 'the iperf3 server to listen', { everyMs: 50 });
  const r = await fx.exec(h1.vm('a').ns, ['iperf3', '-c', h2.vm('b').addr, '-t', '2', '-J'], { timeoutMs: 30_000 });
  t.is(r.code, 0, r.stderr + r.stdout.slice(0, 500));
  const bps = (JSON.parse(r.stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second;
  t.log(`iperf3 across two hosts: ${(bps / 1e6).toFixed(0)} Mbit/s`);
  t.true(bps > 10e6, `${bps} bit/s`);
  server.kill();
});

privTest('a datagram from a non-peer address is dropped and counted, and its frame reaches no VM', async (t) => {
  const { fx, topo } = await topology(t, 2);
  const [h1, h2] = topo.hosts;
  await h1.start([]);
  await h2.start([{ name: 'b', vid: 10, cidr: '10.98.11.2/24' }]);
  await waitPeers(h2, up(key(h1)), 3000, 'peer up');
  const cap = await capture(fx, h2.vm('b').ns, h2.vm('b').tap, 'ether proto 0x88b5');
  // vid 10, then a broadcast frame of a local experimental ethertype, from host 1's
  // address but not from its switch's port: a stranger.
  const datagram = Buffer.concat([Buffer.from('0000000a', 'hex'), frame({ dst: BCAST, src: mac(0xee), fill: 0x5a })]);
  await sendUdp(fx, h1.ns, { to: h2.addr, port: PEER_PORT, payloadHex: datagram.toString('hex'), count: 3, bind: { address: h1.addr, port: 40000 } });
  const p = await waitPeers(h2, (x) => x.strangers >= 3, 3000, 'strangers counted');
  t.is(p.lastStranger, `${h1.addr}:40000`);
  t.is(p.peers.length, 1, 'the stranger did not become a peer');
  await sleep(300);
  t.deepEqual(cap.lines(), [], 'no injected frame reached the VM');
});

privTest('three hosts: a broadcast reaches each other host exactly once, a learned unicast only its own host, and a killed switch expires within 3 intervals and comes back', async (t) => {
  t.timeout(60_000);
  const { fx, topo } = await topology(t, 3);
  const [h1, h2, h3] = topo.hosts;
  const args = ['--discovery-interval', '0.5'];
  await h1.start([{ name: 'x', vid: 10, cidr: '10.98.30.1/24' }], { args });
  await h2.start([{ name: 'y', vid: 10, cidr: '10.98.30.2/24' }], { args });
  await h3.start([{ name: 'z', vid: 10, cidr: '10.98.30.3/24' }], { args });
  for (const h of topo.hosts) {
    const others = topo.hosts.filter((o) => o !== h).map(key);
    await waitPeers(h, (p) => others.every((k) => up(k)(p)), 3000, 'both peers up');
  }
  const [x, y, z] = [h1.vm('x'), h2.vm('y'), h3.vm('z')];

  // c. A broadcast from x, captured as it arrives in every VM.
  const caps = await Promise.all([x, y, z].map((v) => capture(fx, v.ns, v.tap, 'udp and dst port 47001')));
  await sendUdp(fx, x.ns, { to: '10.98.30.255', port: 47001, payloadHex: '6272', broadcast: true });
  await sleep(800);
  t.deepEqual(caps.map((c) => c.lines().length), [0, 1, 1], 'y and z got it once each, x nothing back');

  // After a ping x -> y every switch on the way knows both; a unicast then goes to host 2 only.
  t.true(await fx.ping(x.ns, y.addr, { count: 5 }));
  const ucaps = await Promise.all([y, z].map((v) => capture(fx, v.ns, v.tap, 'udp and dst port 47002')));
  await sendUdp(fx, x.ns, { to: y.addr, port: 47002, payloadHex: '7563', count: 5 });
  await sleep(500);
  t.deepEqual(ucaps.map((c) => c.lines().length), [5, 0], 'all five at y, none at z');
  const macsBefore = await h1.json<{ macs: MacEntry[] }>('vlan 10 show macs');
  t.true(macsBefore.macs.some((m) => m.mac === y.mac && m.port === `peer:${key(h2)}`), 'y is learned on host 2\'s peer port');

  // d. Kill host 2's switch outright; hosts 1 and 3 expire it within 3 intervals.
  const killedAt = Date.now();
  h2.dives?.child.kill('SIGKILL');
  await h2.dives?.exited;
  for (const h of [h1, h3]) {
    await waitPeers(h, (p) => !p.peers.some((q) => q.address === key(h2)), 4000, 'host 2 expired');
    const m = new RegExp(`^(\\S+) info +peer ${key(h2).replace(/\./g, '\\.')} expired`, 'm').exec(h.dives?.stderr ?? '');
    t.truthy(m, 'the expiry is logged');
    const after = Date.parse(m?.[1] ?? '') - killedAt;
    t.log(`host ${h.index + 1} expired host 2 ${after} ms after the kill`);
    // Three intervals of 0.5 s, plus the expiry check's granularity (0.1 s).
    t.true(after <= 3 * 500 + 150, `host ${h.index + 1} expired host 2 ${after} ms after the kill`);
  }
  const macsAfter = await h1.json<{ macs: MacEntry[] }>('vlan 10 show macs');
  t.false(macsAfter.macs.some((m) => m.port === `peer:${key(h2)}`), 'its MACs were flushed');
  t.false(await fx.ping(x.ns, y.addr, { count: 1 }));

  // Start it again: it is rediscovered and traffic resumes with no manual step.
  await h2.restart();
  t.true(await fx.ping(x.ns, y.addr, { count: 10 }), 'x pings y again');
  t.true(await fx.ping(z.ns, y.addr, { count: 10 }), 'z pings y again');
  await waitPeers(h2, (p) => up(key(h1))(p) && up(key(h3))(p), 3000, 'both peers up again');
});

privTest('with --no-discovery and static peers only, a ping crosses on VLAN 10 and nothing crosses on a VLAN only one side has', async (t) => {
  const { fx, topo } = await topology(t, 2);
  const [h1, h2] = topo.hosts;
  const args = ['--no-discovery'];
  await h1.start(
    [
      { name: 'a', vid: 10, cidr: '10.98.40.1/24' },
      { name: 'c', vid: 20, cidr: '10.98.40.3/24' },
    ],
    { args, rc: [`peer ${h2.addr} ${PEER_PORT}`] },
  );
  await h2.start([{ name: 'b', vid: 10, cidr: '10.98.40.2/24' }], { args, rc: [`peer ${h1.addr} ${PEER_PORT}`] });
  const p1 = await waitPeers(h1, up(key(h2)), 3000, 'static peer up');
  t.is(p1.discovery, null);
  t.like(p1.peers[0], { learned: 'static', state: 'up' });
  const ok = await fx.ping(h1.vm('a').ns, h2.vm('b').addr, { count: 5 });
  if (!ok) {
    t.log(JSON.stringify(await peers(h1)), JSON.stringify(await peers(h2)));
    t.log(h1.dives?.stderr, h2.dives?.stderr);
    t.log(JSON.stringify(await h1.json('show ports')), JSON.stringify(await h2.json('show ports')));
  }
  t.true(ok, 'a pings b over static peers');
  t.false(await fx.ping(h1.vm('c').ns, h2.vm('b').addr, { count: 2 }), 'VLAN 20 does not reach VLAN 10');
  const p2 = await peers(h2);
  t.true(p2.peers[0].keepalivesIn > 0 && p2.peers[0].keepalivesOut > 0, 'keepalives go both ways');
  t.true(p2.peers[0].drops['no-vlan'] > 0);
});
