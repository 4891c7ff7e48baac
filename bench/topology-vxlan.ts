// Bench topology: DiVES as a VXLAN VTEP beside the Linux kernel's. Two host namespaces on
// the two-hosts underlay (bench/topologies-two-hosts.ts), a VM behind each; host 1 runs
// DiVES (the VM's TAP on VLAN 10, `vxlan remote` host 2) and host 2 the kernel's `vxlan`
// device and a bridge; against the same with the kernel's VXLAN on both hosts. Runs on
// the bench's main thread; every topology removes its namespaces and processes, even on
// failure.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DivesProcess } from '../test/helpers/dives-process.js';
import { ip, NetnsFixture } from '../test/helpers/netns.js';
import { benchArgs, measure, row, waitReachable, type Figures, type Section } from './bench-kit.js';
import { handToVm, underlay, UNDERLAY_MTU, VM_MTU, type HostNs } from './topologies-two-hosts.js';

const VNI = '10';

/** The kernel's VTEP on host `h` toward `remote`, a bridge, and the VM on a veth. */
async function kernelSide(fx: NetnsFixture, h: HostNs, remote: string, n: number): Promise<void> {
  const [hostEnd, vmEnd] = [fx.ifname(`p${n}`), fx.ifname(`v${n}`)];
  await fx.createVeth(hostEnd, vmEnd);
  await ip('link', 'set', hostEnd, 'netns', h.ns);
  await ip('link', 'set', vmEnd, 'netns', h.ns);
  await ip('-n', h.ns, 'link', 'add', 'vx0', 'type', 'vxlan', 'id', VNI, 'remote', remote, 'local', h.addr, 'dev', h.dev, 'dstport', '4789');
  await ip('-n', h.ns, 'link', 'add', 'br0', 'type', 'bridge');
  for (const port of ['vx0', hostEnd]) await ip('-n', h.ns, 'link', 'set', port, 'master', 'br0', 'up');
  await ip('-n', h.ns, 'link', 'set', 'br0', 'up');
  await handToVm(h, vmEnd);
}

async function divesToKernel(): Promise<Figures> {
  const fx = new NetnsFixture();
  const dir = mkdtempSync(join(tmpdir(), 'dives-bench-vx-'));
  let sw: DivesProcess | null = null;
  try {
    const [a, b] = await underlay(fx);
    // Over veth the kernel leaves the inner checksum of what it sends for a NIC to finish;
    // a program reading a UDP socket gets it unfinished. A real NIC finishes it on the wire:
    // so does host 2's veth here (test/helpers/kernel-vtep.ts says more).
    if ((await fx.exec(b.ns, ['ethtool', '-K', b.dev, 'tx', 'off'])).code !== 0) throw new Error('ethtool -K tx off failed');
    await kernelSide(fx, b, a.addr, 2);
    const tap = fx.ifname('t1');
    await ip('-n', a.ns, 'tuntap', 'add', 'dev', tap, 'mode', 'tap');
    const rc = join(dir, 'dives.rc');
    writeFileSync(rc, `vlan ${VNI}\ntap ${tap}\nvxlan remote ${b.addr}\n`);
    sw = await DivesProcess.start([...benchArgs(), '--no-console', '--no-discovery', '-h', a.addr, '-u', dir, '-c', rc], { netns: a.ns, cwd: dir });
    if (!/DiVES switch up/.test(sw.stderr)) throw new Error(`dives on host 1 did not start:\n${sw.stderr}`);
    await handToVm(a, tap);
    await waitReachable(fx, a.vm, b.vmAddr);
    return await measure(fx, a.vm, b.vm);
  } finally {
    await sw?.stop();
    await fx.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function kernelToKernel(): Promise<Figures> {
  const fx = new NetnsFixture();
  try {
    const [a, b] = await underlay(fx);
    await kernelSide(fx, a, b.addr, 1);
    await kernelSide(fx, b, a.addr, 2);
    await waitReachable(fx, a.vm, b.vmAddr);
    return await measure(fx, a.vm, b.vm);
  } finally {
    await fx.cleanup();
  }
}

/** DiVES ↔ kernel VXLAN against kernel VXLAN ↔ kernel VXLAN, one after the other. */
export async function vxlan(): Promise<Section> {
  return {
    title: `VXLAN: VM ↔ VM over a veth underlay (MTU ${UNDERLAY_MTU}, VM MTU ${VM_MTU}), VNI ${VNI}, static remotes`,
    dives: await row('DiVES ↔ kernel VXLAN + bridge', divesToKernel),
    peers: [await row('kernel VXLAN ↔ kernel VXLAN, bridges', kernelToKernel)],
  };
}
