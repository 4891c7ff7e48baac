// Split horizon across kinds of peer, for real, on three hosts: host 1's switch has a VM,
// a static DiVES peer (host 3's switch, with a VM) and a VXLAN remote (host 2, the
// Linux kernel's vxlan with a VM). Host 1's VM reaches both; a frame from the VTEP never
// goes on to the DiVES peer nor the other way, so the VMs of hosts 2 and 3 never meet and
// a broadcast of either reaches host 1's VM only. Needs root (privTest).

import test from 'ava';
import { NetnsFixture, sweepStale } from '../helpers/netns.js';
import { privileged, privTest } from '../helpers/privileged.js';
import { sleep, until } from '../helpers/until.js';
import { HostsTopology, PEER_PORT, capture, sendUdp } from '../helpers/two-hosts.js';
import { finishChecksums, kernelVtep } from '../helpers/kernel-vtep.js';
import type { PeersInfo } from '../../src/control/switch-api.js';

test.before(async () => {
  if (privileged.ok) await sweepStale();
});

privTest('a frame from a VXLAN VTEP never reaches a DiVES peer and one from a DiVES peer never reaches a VTEP, while the switch\'s own VM reaches both', async (t) => {
  t.timeout(40_000);
  const fx = new NetnsFixture();
  t.teardown(() => fx.cleanup());
  const [h1, h2, h3] = (await HostsTopology.create(t, fx, 3)).hosts;
  const args = ['--no-discovery'];
  await h1.start([{ name: 'x', vid: 10, cidr: '10.97.40.1/24', mtu: 1450 }], { args, rc: [`peer ${h3.addr} ${PEER_PORT}`, `vlan 10 vxlan remote ${h2.addr}`] });
  await h3.start([{ name: 'z', vid: 10, cidr: '10.97.40.3/24', mtu: 1450 }], { args, rc: [`peer ${h1.addr} ${PEER_PORT}`] });
  await finishChecksums(fx, h2);
  const y = await kernelVtep(fx, h2, { vni: 10, remote: h1.addr, cidr: '10.97.40.2/24' });
  const [x, z] = [h1.vm('x'), h3.vm('z')];
  await until(async () => (await h1.json<PeersInfo>('show peers')).peers.some((q) => q.state === 'up'), 5000, 'the DiVES peer up on host 1', { everyMs: 50 });
  t.true(await fx.ping(x.ns, y.addr, { count: 5 }), 'x reaches the VTEP\'s VM');
  t.true(await fx.ping(x.ns, z.addr, { count: 5 }), 'x reaches the DiVES peer\'s VM');
  t.false(await fx.ping(y.ns, z.addr, { count: 2 }), 'the VTEP\'s VM does not reach the peer\'s through host 1');
  t.false(await fx.ping(z.ns, y.addr, { count: 2 }), 'nor the other way');

  const caps = await Promise.all([x, { ns: y.ns, tap: fx.ifname('k10v') }, z].map((v) => capture(fx, v.ns, v.tap, 'udp and dst port 47001')));
  await sendUdp(fx, y.ns, { to: '10.97.40.255', port: 47001, payloadHex: '7931', broadcast: true });
  await sendUdp(fx, z.ns, { to: '10.97.40.255', port: 47001, payloadHex: '7a31', broadcast: true });
  await sleep(500);
  t.deepEqual(caps.map((c) => c.lines().length), [2, 0, 0], 'each broadcast reached x once, and neither crossed to the other kind of peer');
});
