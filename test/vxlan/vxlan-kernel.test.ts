// DiVES beside the Linux kernel's own VXLAN, for real: host 1 runs `dives start` with a
// VM behind a TAP on each of two VLANs; host 2 runs no DiVES, only `ip link add ... type
// vxlan` and a bridge per VNI, with a VM behind each. Over a static remote and over a
// multicast group: ping and iperf3 TCP both ways on both VLANs (VLAN 10 as VNI 10, VLAN
// 20 as VNI 5020), and nothing crosses between them. Needs root (privTest).

import test, { type ExecutionContext } from 'ava';
import { NetnsFixture, sweepStale } from '../helpers/netns.js';
import { privileged, privTest } from '../helpers/privileged.js';
import { HostsTopology } from '../helpers/two-hosts.js';
import { finishChecksums, iperfBothWays, kernelVtep, waitVxlan, type KernelVm } from '../helpers/kernel-vtep.js';
import type { PortInfo, VxlanInfo } from '../../src/control/switch-api.js';

test.before(async () => {
  if (privileged.ok) await sweepStale();
});

const GROUP = '239.1.1.1';

/** Host 1 with DiVES and VMs a10 (VLAN 10) and a20 (VLAN 20), host 2 with the kernel's VTEPs; `rc` says how DiVES reaches them. */
async function setUp(t: ExecutionContext, rc: string[], kernel: { remote?: string; group?: string }) {
  const fx = new NetnsFixture();
  t.teardown(() => fx.cleanup());
  const topo = await HostsTopology.create(t, fx, 2);
  const [h1, h2] = topo.hosts;
  // One subnet for both VLANs: were they to leak into each other, a ping would cross.
  await h1.start(
    [
      { name: 'a10', vid: 10, cidr: '10.97.10.1/24', mtu: 1450 },
      { name: 'a20', vid: 20, cidr: '10.97.10.3/24', mtu: 1450 },
    ],
    { args: ['--no-discovery'], rc },
  );
  await finishChecksums(fx, h2);
  const b10 = await kernelVtep(fx, h2, { vni: 10, ...kernel, cidr: '10.97.10.2/24' });
  const b20 = await kernelVtep(fx, h2, { vni: 5020, ...kernel, cidr: '10.97.10.4/24' });
  return { fx, h1, h2, a10: h1.vm('a10'), a20: h1.vm('a20'), b10, b20 };
}

/** Ping both ways and iperf3 both ways between a and b; returns the two throughputs. */
async function carries(t: ExecutionContext, fx: NetnsFixture, a: { ns: string; addr: string }, b: KernelVm, what: string): Promise<void> {
  t.true(await fx.ping(a.ns, b.addr, { count: 5 }), `${what}: DiVES's VM pings the kernel's`);
  t.true(await fx.ping(b.ns, a.addr, { count: 3 }), `${what}: the kernel's VM pings DiVES's`);
  const [up, down] = await iperfBothWays(fx, a.ns, b.ns, b.addr);
  t.log(`${what}: iperf3 TCP ${(up / 1e6).toFixed(0)} Mbit/s to the kernel, ${(down / 1e6).toFixed(0)} Mbit/s back`);
  t.true(up > 0 && down > 0, `${up} and ${down} bit/s`);
}

privTest('over a static remote, DiVES and a kernel vxlan device carry ping and iperf3 TCP both ways on two VLANs as two VNIs, which stay apart', async (t) => {
  t.timeout(40_000);
  const rc = ['vlan 10 vxlan remote 10.99.0.2', 'vlan 20 vxlan vni 5020', 'vlan 20 vxlan remote 10.99.0.2'];
  const { fx, h1, a10, a20, b10, b20 } = await setUp(t, rc, { remote: '10.99.0.1' });
  await carries(t, fx, a10, b10, 'VLAN 10 / VNI 10');
  await carries(t, fx, a20, b20, 'VLAN 20 / VNI 5020');
  t.false(await fx.ping(a10.ns, b20.addr, { count: 2 }), 'VLAN 10 does not reach VNI 5020');
  t.false(await fx.ping(a20.ns, b10.addr, { count: 2 }), 'VLAN 20 does not reach VNI 10');

  const x = await h1.json<VxlanInfo>('show vxlan');
  t.deepEqual(x.vlans.map((v) => [v.vid, v.vni, v.vteps.map((p) => `${p.kind} ${p.address}`)]), [
    [10, 10, ['static 10.99.0.2:4789']],
    [20, 5020, ['static 10.99.0.2:4789']],
  ]);
  t.true(x.counters['datagrams-in'] > 1000 && x.counters['datagrams-out'] > 1000 && x.counters.flooded > 0);
  t.like(x.counters, { short: 0, 'bad-header': 0, runt: 0, giant: 0, strangers: 0 });
  const ports = (await h1.json<{ ports: PortInfo[] }>('show ports')).ports.filter((p) => p.kind === 'vxlan');
  t.deepEqual(ports.map((p) => [p.vid, p.name]), [[10, 'vxlan:10.99.0.2:4789'], [20, 'vxlan:10.99.0.2:4789']]);
  // Frames to a VTEP are plain Ethernet, so the VLAN's TAPs hand over no offloaded segments.
  const k = await fx.exec(a10.ns, ['ethtool', '-k', a10.tap]);
  t.regex(k.stdout, /tcp-segmentation-offload: off/);
});

privTest('over a multicast group, DiVES learns the kernel\'s VTEP and carries ping and iperf3 TCP both ways on two VLANs as two VNIs, which stay apart', async (t) => {
  t.timeout(40_000);
  const rc = [`vlan 10 vxlan group ${GROUP}`, 'vlan 20 vxlan vni 5020', `vlan 20 vxlan group ${GROUP}`];
  const { fx, h1, a10, a20, b10, b20 } = await setUp(t, rc, { group: GROUP });
  await carries(t, fx, a10, b10, 'VLAN 10 / VNI 10');
  await carries(t, fx, a20, b20, 'VLAN 20 / VNI 5020');
  t.false(await fx.ping(a10.ns, b20.addr, { count: 2 }), 'VLAN 10 does not reach VNI 5020');
  const x = await waitVxlan(h1, (v) => v.learnedVteps === 2, 3000, 'two learned VTEPs');
  // The kernel sends each flow from its own hashed port and takes datagrams only on 4789: learned by address.
  t.deepEqual(x.vlans.map((v) => [v.vid, v.vni, v.group, v.vteps.map((p) => `${p.kind} ${p.address}`)]), [
    [10, 10, GROUP, [`group ${GROUP}:4789`, 'learned 10.99.0.2:4789']],
    [20, 5020, GROUP, [`group ${GROUP}:4789`, 'learned 10.99.0.2:4789']],
  ]);
  t.true(x.vlans.every((v) => v.vteps[0].framesOut > 0), 'floods went to the group');
  t.true(x.vlans.every((v) => v.vteps[1].framesIn > 100 && v.vteps[1].framesOut > 100), 'unicast went to the learned VTEP');
});
