// DiVES beside vdeplug4's vxvde, for real: host 1 runs `dives start --vxlan-port 14789`
// with VLAN 10 carried as VNI 1 on vxvde's group 239.0.0.1, learning VTEPs at their
// source port; host 2 runs `vde_plug tap://T vxvde://239.0.0.1` (Debian's vdeplug) with a
// VM behind the TAP. Ping both ways. Needs root (privTest) and vde_plug.

import test from 'ava';
import { NetnsFixture, sweepStale } from '../helpers/netns.js';
import { privileged, privTest } from '../helpers/privileged.js';
import { HostsTopology } from '../helpers/two-hosts.js';
import { finishChecksums, vxvdeVm, waitVxlan } from '../helpers/kernel-vtep.js';

test.before(async () => {
  if (privileged.ok) await sweepStale();
});

privTest('DiVES and vde_plug vxvde:// ping each other both ways on vxvde\'s group, port and VNI, the vxvde learned at its own source port', async (t) => {
  t.timeout(30_000);
  const fx = new NetnsFixture();
  t.teardown(() => fx.cleanup());
  const [h1, h2] = (await HostsTopology.create(t, fx, 2)).hosts;
  // vxvde's defaults: group 239.0.0.1, port 14789, VNI 1; it takes unicast only at the port it sends from.
  await h1.start([{ name: 'a', vid: 10, cidr: '10.97.20.1/24', mtu: 1450 }], {
    args: ['--no-discovery', '--vxlan-port', '14789'],
    rc: ['vlan 10 vxlan vni 1', 'vlan 10 vxlan group 239.0.0.1 reply-to-source'],
  });
  await finishChecksums(fx, h2);
  const b = await vxvdeVm(fx, h2, `239.0.0.1/if=${h2.dev}`, '10.97.20.2/24');
  const a = h1.vm('a');
  t.true(await fx.ping(a.ns, b.addr, { count: 5 }), 'DiVES\'s VM pings vxvde\'s');
  t.true(await fx.ping(b.ns, a.addr, { count: 3 }), 'vxvde\'s VM pings DiVES\'s');
  const x = await waitVxlan(h1, (v) => v.learnedVteps === 1, 3000, 'the vxvde learned');
  const learned = x.vlans[0].vteps.find((v) => v.kind === 'learned');
  t.regex(learned?.address ?? '', /^10\.99\.0\.2:\d+$/);
  t.not(learned?.address, '10.99.0.2:14789', 'answered at its sending port, where vxvde reads unicast');
  // Its first frames came in as the group's while its port was made; the answers since went to it.
  t.true((learned?.framesIn ?? 0) > 0 && (learned?.framesOut ?? 0) > 0, JSON.stringify(x));
  t.like(x.counters, { 'bad-header': 0, 'unknown-vni': 0, runt: 0 });
});
