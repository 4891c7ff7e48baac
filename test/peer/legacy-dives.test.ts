// DiVES and the original DiVES (Ruby, 2011) in one cluster, for real: each "host" a network
// namespace on a veth underlay, one running `dives start`, the other the hand-written
// original of test/helpers/legacy-dives.ts, which speaks the original's sockaddr
// announcements and dies on a datagram it cannot parse, as the Ruby switch does. Discovery
// both ways, ping both ways between the VMs behind them, nothing the original would misread,
// frames too big for it dropped and counted, its expiry; and the text announcement that
// kills it. Needs root (privTest).

import test from 'ava';
import { NetnsFixture, sweepStale } from '../helpers/netns.js';
import { privileged, privTest } from '../helpers/privileged.js';
import { sleep } from '../helpers/until.js';
import { HostsTopology, key, sendUdp, waitPeers } from '../helpers/two-hosts.js';
import { LegacyDives } from '../helpers/legacy-dives.js';
import type { MacEntry } from '../../src/control/switch-api.js';

test.before(async () => {
  if (privileged.ok) await sweepStale();
});

type Ctx = import('ava').ExecutionContext;

async function topology(t: Ctx): Promise<{ fx: NetnsFixture; topo: HostsTopology }> {
  const fx = new NetnsFixture();
  t.teardown(() => fx.cleanup());
  return { fx, topo: await HostsTopology.create(t, fx, 2) };
}

privTest('with --discovery-format sockaddr, DiVES and the original find each other, ping crosses both ways, and the original gets nothing it would misread and nothing too big to read', async (t) => {
  t.timeout(90_000);
  const { fx, topo } = await topology(t);
  const [h1, h2] = topo.hosts;
  const legacy = await LegacyDives.on(topo, h2, { name: 'b', vid: 10, cidr: '10.98.50.2/24' });
  // VM a can send frames larger than the original reads from a peer.
  await h1.start([{ name: 'a', vid: 10, cidr: '10.98.50.1/24', mtu: 20_000 }], { args: ['--discovery-format', 'sockaddr'] });
  const [a, b] = [h1.vm('a'), h2.vm('b')];

  // Up, and its announcements counted as sockaddrs (one `show peers` may come between the two).
  const p1 = await waitPeers(h1, (p) => p.peers.some((x) => x.address === key(h2) && x.state === 'up') && (p.discovery?.counters.sockaddr ?? 0) > 0, 3000, 'the original up');
  t.like(p1.peers[0], { address: key(h2), learned: 'discovered', legacy: true });
  t.like(p1.discovery, { format: 'sockaddr', malformed: 0 });
  t.true((p1.discovery?.counters.sockaddr ?? 0) > 0, 'its announcements were taken as sockaddrs');
  await legacy.wait(() => /peer up 10\.99\.0\.1:3333/.test(legacy.stdout), 3000, 'DiVES discovered');
  t.regex((await h1.dives?.command('show peers', /strangers:/)) ?? '', /legacy: the original DiVES/);

  t.true(await fx.ping(a.ns, b.addr, { count: 5 }), 'a (DiVES) pings b (the original)');
  t.true(await fx.ping(b.ns, a.addr, { count: 5 }), 'b (the original) pings a (DiVES)');
  const macs = await h1.json<{ macs: MacEntry[] }>('vlan 10 show macs');
  t.true(macs.macs.some((m) => m.mac === b.mac && m.port === `peer:${key(h2)}`), 'b is learned on the original\'s peer port');

  // Two broadcasts: a 15042-byte frame fits the 16 KiB the original reads, a 17042-byte one does not.
  for (const size of [15_000, 17_000]) await sendUdp(fx, a.ns, { to: '10.98.50.255', port: 47010, payloadHex: '5a'.repeat(size), broadcast: true });
  const p2 = await waitPeers(h1, (p) => p.peers[0]?.drops['legacy-too-big'] === 1, 3000, 'the frame too big for the original counted');
  const s = await legacy.stats();
  t.is(s.largestIn, 14 + 20 + 8 + 15_000, 'the frame that fits arrived whole');
  t.like(s, { junk: 0, oversized: 0, otherVlan: 0, peers: [key(h1)] });
  t.true(s.framesIn > 0 && s.framesOut > 0);
  t.like(p2.peers[0], { keepalivesOut: 0, offloadedOut: 0 });
  t.true(legacy.alive, 'the original is alive: DiVES sent nothing on the group it cannot parse');

  // It stops announcing: after 3 s it is gone from DiVES, and so are its MACs.
  legacy.child.kill('SIGKILL');
  await legacy.exited;
  await waitPeers(h1, (p) => p.peers.length === 0, 5000, 'the original expired');
  const after = await h1.json<{ macs: MacEntry[] }>('vlan 10 show macs');
  t.false(after.macs.some((m) => m.port === `peer:${key(h2)}`), 'its MACs were flushed');
});

privTest('a DiVES switch announcing text kills the original within a second — the reason for --discovery-format sockaddr — though it takes the original\'s own announcement', async (t) => {
  t.timeout(60_000);
  const { topo } = await topology(t);
  const [h1, h2] = topo.hosts;
  await h1.start([{ name: 'a', vid: 10, cidr: '10.98.51.1/24' }]);
  const legacy = await LegacyDives.on(topo, h2, { name: 'b', vid: 10, cidr: '10.98.51.2/24' });
  const code = await Promise.race([legacy.exited, sleep(3000).then(() => 'still alive')]);
  t.is(code, 3, 'it exited on the text announcement');
  t.regex(legacy.stderr, /cannot parse a 14-byte datagram from 10\.99\.0\.1:\d+ on the group/);
  // Its announcement on joining reached DiVES before it died, and was taken, not counted malformed.
  const p = await waitPeers(h1, (x) => (x.discovery?.counters.sockaddr ?? 0) > 0, 3000, 'the original\'s announcement taken');
  t.like(p.discovery, { format: 'text', malformed: 0 });
});
