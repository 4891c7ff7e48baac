// Bench topologies across two hosts: two host namespaces joined by a veth underlay
// (MTU 9000, a multicast route), each with one "VM" namespace behind DiVES (peering over
// the underlay, found by discovery), behind vdeplug4's vxvde, or behind kernel VXLAN and
// a bridge (the in-kernel ceiling). Runs on the bench's main thread; every topology
// removes its namespaces and processes, even on failure.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DivesProcess } from '../test/helpers/dives-process.js';
import { ip, NetnsFixture } from '../test/helpers/netns.js';
import { benchArgs, measure, row, sleep, VM_A, VM_B, waitReachable, type Figures, type Section } from './bench-kit.js';
import { budgetAfter, tracedPing } from './frame-budget.js';
import { generateKey, writeKeyFile } from '../src/crypto/cluster-key.js';

export const UNDERLAY_MTU = '9000';
/** VMs keep the usual 1500: a full frame plus any of the three encapsulations fits 9000. */
export const VM_MTU = '1500';
const VXVDE_GROUP = '239.1.2.3';
const VXLAN_GROUP = '239.1.2.4';

export interface HostNs { ns: string; dev: string; addr: string; vm: string; vmAddr: string }

/** Two hosts 10.98.0.1 and .2 on one veth, each with an empty VM namespace. */
export async function underlay(fx: NetnsFixture): Promise<[HostNs, HostNs]> {
  const [ua, ub] = [fx.ifname('u1'), fx.ifname('u2')];
  await fx.createVeth(ua, ub);
  const hosts: HostNs[] = [];
  for (const [i, dev] of [ua, ub].entries()) {
    const ns = await fx.addNs(`h${i + 1}`);
    const addr = `10.98.0.${i + 1}`;
    await ip('link', 'set', dev, 'netns', ns);
    await ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', dev);
    await ip('-n', ns, 'link', 'set', dev, 'mtu', UNDERLAY_MTU, 'up');
    await ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', dev);
    hosts.push({ ns, dev, addr, vm: await fx.addNs(`vm${i + 1}`), vmAddr: i === 0 ? VM_A : VM_B });
  }
  return [hosts[0], hosts[1]];
}

/** Moves a link from its host namespace into the host's VM namespace and addresses it. */
export async function handToVm(h: HostNs, link: string): Promise<void> {
  await ip('-n', h.ns, 'link', 'set', 'dev', link, 'netns', h.vm);
  await ip('-n', h.vm, 'addr', 'add', `${h.vmAddr}/24`, 'dev', link);
  await ip('-n', h.vm, 'link', 'set', 'dev', link, 'mtu', VM_MTU, 'up');
}

/** DiVES on both hosts with `args` added (e.g. a key file); `trace`: also trace a ping through it (bench/frame-budget.ts). */
async function dives(args: string[] = [], trace = true): Promise<Figures> {
  const fx = new NetnsFixture();
  const dirs: string[] = [];
  const switches: DivesProcess[] = [];
  try {
    const hosts = await underlay(fx);
    const taps: string[] = [];
    for (const [i, h] of hosts.entries()) {
      const dir = mkdtempSync(join(tmpdir(), `dives-bench-h${i + 1}-`));
      dirs.push(dir);
      // A switch opens a TAP only in its own namespace: make it there, move it after.
      const tap = fx.ifname(`t${i + 1}`);
      taps.push(tap);
      await ip('-n', h.ns, 'tuntap', 'add', 'dev', tap, 'mode', 'tap');
      const rc = join(dir, 'dives.rc');
      writeFileSync(rc, `vlan 10\ntap ${tap}\n`);
      const sw = await DivesProcess.start([...benchArgs(), ...args, '--no-console', '-h', h.addr, '-p', '3333', '-d', '3535', '-u', dir, '-c', rc], { netns: h.ns, cwd: dir });
      switches.push(sw);
      if (!/DiVES switch up/.test(sw.stderr)) throw new Error(`dives on host ${i + 1} did not start:\n${sw.stderr}`);
    }
    for (const [i, h] of hosts.entries()) await handToVm(h, taps[i]);
    // Discovery announces every second; both must have heard the other before measuring.
    await Promise.all(switches.map((s) => s.waitStderr(/peer \S+ up/, 15_000)));
    await waitReachable(fx, hosts[0].vm, VM_B);
    const figures = await measure(fx, hosts[0].vm, hosts[1].vm);
    return trace ? { ...figures, extra: { budget: await tracedPing(fx, hosts[0].vm, VM_B, dirs) } } : figures;
  } finally {
    await Promise.all(switches.map((s) => s.stop()));
    await fx.cleanup();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

async function vxvde(): Promise<Figures> {
  const fx = new NetnsFixture();
  try {
    const hosts = await underlay(fx);
    for (const [i, h] of hosts.entries()) {
      const tap = fx.ifname(`t${i + 1}`);
      await ip('-n', h.ns, 'tuntap', 'add', 'dev', tap, 'mode', 'tap');
      const plug = fx.spawnIn(h.ns, ['vde_plug', `tap://${tap}`, `vxvde://${VXVDE_GROUP}/if=${h.dev}`], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      plug.stderr?.on('data', (d: Buffer) => (err += d.toString()));
      await sleep(300);
      if (plug.exitCode !== null) throw new Error(`vde_plug on host ${i + 1} exited: ${err}`);
      await handToVm(h, tap);
    }
    await waitReachable(fx, hosts[0].vm, VM_B);
    return await measure(fx, hosts[0].vm, hosts[1].vm);
  } finally {
    await fx.cleanup();
  }
}

async function kernelVxlan(): Promise<Figures> {
  const fx = new NetnsFixture();
  try {
    const hosts = await underlay(fx);
    for (const [i, h] of hosts.entries()) {
      const [hostEnd, vmEnd] = [fx.ifname(`p${i + 1}`), fx.ifname(`v${i + 1}`)];
      await fx.createVeth(hostEnd, vmEnd);
      await ip('link', 'set', hostEnd, 'netns', h.ns);
      await ip('link', 'set', vmEnd, 'netns', h.ns);
      await ip('-n', h.ns, 'link', 'add', 'vx0', 'type', 'vxlan', 'id', '42', 'group', VXLAN_GROUP, 'dev', h.dev, 'dstport', '4789');
      await ip('-n', h.ns, 'link', 'add', 'br0', 'type', 'bridge');
      for (const port of ['vx0', hostEnd]) await ip('-n', h.ns, 'link', 'set', port, 'master', 'br0', 'up');
      await ip('-n', h.ns, 'link', 'set', 'br0', 'up');
      await handToVm(h, vmEnd);
    }
    await waitReachable(fx, hosts[0].vm, VM_B);
    return await measure(fx, hosts[0].vm, hosts[1].vm);
  } finally {
    await fx.cleanup();
  }
}

/** DiVES peering across two hosts against vxvde and kernel VXLAN, one after the other. */
export async function twoHosts(): Promise<Section> {
  const d = await row('DiVES, one switch per host, peered', () => dives());
  return {
    title: `two hosts: VM ↔ VM over a veth underlay (MTU ${UNDERLAY_MTU}, VM MTU ${VM_MTU})`,
    dives: d,
    after: budgetAfter(d),
    peers: [
      await row('vxvde (vde_plug tap:// vxvde://)', vxvde),
      await row('kernel VXLAN + bridge per host', kernelVxlan),
    ],
  };
}

/**
 * DiVES with a cluster key (docs/security.md) against the same two hosts without one, with
 * the key but frames only authenticated (--no-encrypt), and vxvde: what sealing costs.
 */
export async function twoHostsKeyed(): Promise<Section> {
  const dir = mkdtempSync(join(tmpdir(), 'dives-bench-key-'));
  try {
    const key = join(dir, 'cluster.key');
    writeKeyFile(key, generateKey());
    const encrypted = await row('DiVES with a key, frames encrypted', () => dives(['--key-file', key], false));
    const plain = await row('DiVES without a key (the same hosts)', () => dives([], false));
    const authenticated = await row('DiVES with a key, --no-encrypt', () => dives(['--key-file', key, '--no-encrypt'], false));
    const a = authenticated.figures;
    const p = plain.figures;
    return {
      title: `two hosts with a cluster key: VM ↔ VM over a veth underlay (MTU ${UNDERLAY_MTU}, VM MTU ${VM_MTU})`,
      dives: encrypted,
      peers: [plain, authenticated, await row('vxvde (vde_plug tap:// vxvde://)', vxvde)],
      after: [`  authenticated only / without a key: TCP ${(a.tcpGbps / p.tcpGbps).toFixed(2)}×  UDP-64 ${(a.udpFps / p.udpFps).toFixed(2)}×  RTT ${(a.rttUs / p.rttUs).toFixed(2)}×`],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
