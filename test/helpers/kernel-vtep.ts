// The other side of the VXLAN tests, for real: a "VM" namespace behind the Linux kernel's
// own VXLAN on a host namespace of a HostsTopology (test/helpers/two-hosts.ts) — `ip link
// add vxN type vxlan id VNI (remote R local L | group G dev D) dstport P`, a bridge, and a
// veth into the VM — or behind vdeplug4's vxvde (`vde_plug tap://T vxvde://GROUP`), and a
// poll of `show vxlan`. Test code, main thread of the ava worker; everything it makes dies
// with the NetnsFixture (namespaces, links, vde_plug).

import { ip, type NetnsFixture } from './netns.js';
import { sleep, until, untilValue } from './until.js';
import type { Host } from './two-hosts.js';
import type { VxlanInfo } from '../../src/control/switch-api.js';

export interface KernelVm {
  ns: string;
  addr: string;
}

/**
 * The VM of VNI `vni` behind host `h`'s kernel VXLAN device, toward `remote` (static) or
 * `group` (multicast). The VM's interface gets `cidr` and MTU 1450: a 1500-byte underlay
 * less VXLAN's 50 bytes, the MTU Linux gives the vxlan device itself.
 */
export async function kernelVtep(fx: NetnsFixture, h: Host, o: { vni: number; remote?: string; group?: string; dstport?: number; cidr: string }): Promise<KernelVm> {
  const [vx, br] = [`vx${o.vni}`, `br${o.vni}`];
  const where = o.remote !== undefined ? ['remote', o.remote, 'local', h.addr] : ['group', o.group ?? '239.1.1.1'];
  await ip('-n', h.ns, 'link', 'add', vx, 'type', 'vxlan', 'id', String(o.vni), ...where, 'dev', h.dev, 'dstport', String(o.dstport ?? 4789));
  await ip('-n', h.ns, 'link', 'add', br, 'type', 'bridge');
  const [hostEnd, vmEnd] = [fx.ifname(`k${o.vni % 100}h`), fx.ifname(`k${o.vni % 100}v`)];
  await fx.createVeth(hostEnd, vmEnd);
  const ns = await fx.addNs(`k${o.vni}`);
  await ip('link', 'set', hostEnd, 'netns', h.ns);
  await ip('link', 'set', vmEnd, 'netns', ns);
  for (const port of [vx, hostEnd]) await ip('-n', h.ns, 'link', 'set', port, 'master', br, 'up');
  await ip('-n', h.ns, 'link', 'set', br, 'up');
  await ip('-n', ns, 'addr', 'add', o.cidr, 'dev', vmEnd);
  await ip('-n', ns, 'link', 'set', vmEnd, 'mtu', '1450', 'up');
  return { ns, addr: o.cidr.split('/')[0] };
}

/**
 * Make host `h`'s underlay veth finish checksums before sending, as a real NIC does on the
 * wire. Over veth the kernel hands its datagrams on with the inner TCP or UDP checksum left
 * for hardware that never comes; another kernel trusts the mark, but a program reading a
 * UDP socket — DiVES, vxvde — gets the unfinished sum, and the VM behind it drops the frame.
 */
export async function finishChecksums(fx: NetnsFixture, h: Host): Promise<void> {
  const r = await fx.exec(h.ns, ['ethtool', '-K', h.dev, 'tx', 'off']);
  if (r.code !== 0) throw new Error(`ethtool -K ${h.dev} tx off in ${h.ns}: ${r.stderr}`);
}

/** The VM behind `vde_plug tap://T vxvde://URL` on host `h` (the TAP made in the host, then moved into the VM). */
export async function vxvdeVm(fx: NetnsFixture, h: Host, url: string, cidr: string): Promise<KernelVm> {
  const tap = fx.ifname('xv');
  await ip('-n', h.ns, 'tuntap', 'add', 'dev', tap, 'mode', 'tap');
  const plug = fx.spawnIn(h.ns, ['vde_plug', `tap://${tap}`, `vxvde://${url}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  plug.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  // vde_plug opens the TAP at once; it keeps it when the device moves to another namespace.
  await sleep(300);
  if (plug.exitCode !== null) throw new Error(`vde_plug exited: ${err}`);
  const ns = await fx.addNs('xv');
  await ip('-n', h.ns, 'link', 'set', tap, 'netns', ns);
  await ip('-n', ns, 'addr', 'add', cidr, 'dev', tap);
  await ip('-n', ns, 'link', 'set', tap, 'mtu', '1450', 'up');
  return { ns, addr: cidr.split('/')[0] };
}

/** Poll `show vxlan` on `h` until `ok` holds; returns the last answer. */
export async function waitVxlan(h: Host, ok: (x: VxlanInfo) => boolean, timeoutMs: number, what: string): Promise<VxlanInfo> {
  return untilValue(() => h.json<VxlanInfo>('show vxlan'), ok, timeoutMs, `${what} on host ${h.index + 1}`, { everyMs: 50 });
}

/**
 * iperf3 TCP for one second from `from` to a server at `to` in `server`, and once more
 * with the server sending (-R): both directions. Returns the receivers' bits/s; throws
 * with iperf3's words when a run fails.
 */
export async function iperfBothWays(fx: NetnsFixture, from: string, server: string, to: string): Promise<[number, number]> {
  fx.spawnIn(server, ['iperf3', '-s', '-B', to]);
  await until(async () => (await fx.exec(server, ['ss', '-Hltn', 'sport = :5201'])).stdout.includes('5201'), 5000, 'the iperf3 server to listen', { everyMs: 50 });
  const out: number[] = [];
  for (const args of [[], ['-R']]) {
    const r = await fx.exec(from, ['iperf3', '-c', to, '-t', '1', '-J', ...args], { timeoutMs: 15_000 });
    if (r.code !== 0) throw new Error(`iperf3 -c ${to} ${args.join(' ')}: exit ${r.code}: ${r.stderr}${r.stdout.slice(0, 400)}`);
    const j = JSON.parse(r.stdout) as { error?: string; end: { sum_received: { bits_per_second: number } } };
    if (j.error !== undefined) throw new Error(`iperf3 -c ${to} ${args.join(' ')}: ${j.error}`);
    out.push(j.end.sum_received.bits_per_second);
  }
  return [out[0], out[1]];
}
