// Bench topologies on one host: two "VM" namespaces joined by DiVES (two TAPs on one
// VLAN), by vde_switch (the same two TAPs), and by the Linux bridge over veth with and
// without offloads (the in-kernel ceiling). Each builds, measures and removes its
// namespaces and processes, even on failure. Runs on the bench's main thread.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DivesProcess } from '../test/helpers/dives-process.js';
import { NetnsFixture, run } from '../test/helpers/netns.js';
import { benchArgs, measure, must, row, sleep, VM_A, VM_B, type Section, type Figures } from './bench-kit.js';
import { budgetAfter, tracedPing } from './frame-budget.js';

async function vmPair(fx: NetnsFixture, linkA: string, linkB: string): Promise<[string, string]> {
  const a = await fx.addNs('vmA');
  const b = await fx.addNs('vmB');
  await fx.moveToNs(linkA, a, `${VM_A}/24`);
  await fx.moveToNs(linkB, b, `${VM_B}/24`);
  return [a, b];
}

async function dives(): Promise<Figures> {
  const fx = new NetnsFixture();
  const dir = mkdtempSync(join(tmpdir(), 'dives-bench-'));
  let sw: DivesProcess | null = null;
  try {
    const ta = fx.ifname('ta');
    const tb = fx.ifname('tb');
    await fx.createTap(ta);
    await fx.createTap(tb);
    const rc = join(dir, 'bench.rc');
    writeFileSync(rc, `vlan 10\ntap ${ta}\ntap ${tb}\n`);
    // DivesProcess gives the switch free peer and discovery ports, so it never peers
    // with a switch of a test running beside the bench.
    sw = await DivesProcess.start([...benchArgs(), '--no-console', '-c', rc, '-u', dir]);
    if (!/DiVES switch up/.test(sw.stderr)) throw new Error(`dives did not start:\n${sw.stderr}`);
    const [a, b] = await vmPair(fx, ta, tb);
    const figures = await measure(fx, a, b);
    return { ...figures, extra: { budget: await tracedPing(fx, a, VM_B, [dir]) } };
  } finally {
    await sw?.stop();
    await fx.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function vdeSwitch(): Promise<Figures> {
  const fx = new NetnsFixture();
  const dir = mkdtempSync(join(tmpdir(), 'vde-bench-'));
  const pid = join(dir, 'vde.pid');
  try {
    const ta = fx.ifname('ta');
    const tb = fx.ifname('tb');
    await fx.createTap(ta);
    await fx.createTap(tb);
    // --daemon: vde_switch exits on EOF of stdin otherwise.
    await must('vde_switch', ['-t', ta, '-t', tb, '-s', join(dir, 'ctl'), '--daemon', '--pidfile', pid]);
    await sleep(500);
    const [a, b] = await vmPair(fx, ta, tb);
    return await measure(fx, a, b);
  } finally {
    await run('sh', ['-c', `kill $(cat ${pid}) 2>/dev/null`]);
    await fx.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function linuxBridge(offloads: boolean): Promise<Figures> {
  const fx = new NetnsFixture();
  try {
    const br = fx.ifname('br');
    const [va, pa, vb, pb] = ['va', 'pa', 'vb', 'pb'].map((s) => fx.ifname(s));
    fx.trackLink(br);
    await must('ip', ['link', 'add', br, 'type', 'bridge']);
    await fx.createVeth(va, pa);
    await fx.createVeth(vb, pb);
    for (const p of [pa, pb]) {
      await must('ip', ['link', 'set', p, 'master', br]);
      await must('ip', ['link', 'set', p, 'up']);
    }
    await must('ip', ['link', 'set', br, 'up']);
    const [a, b] = await vmPair(fx, va, vb);
    if (!offloads) {
      const off = ['tso', 'off', 'gso', 'off', 'gro', 'off', 'tx', 'off', 'rx', 'off'];
      for (const [ns, dev] of [[a, va], [b, vb]]) await fx.exec(ns, ['ethtool', '-K', dev, ...off]);
      for (const dev of [pa, pb]) await run('ethtool', ['-K', dev, ...off]);
    }
    return await measure(fx, a, b);
  } finally {
    await fx.cleanup();
  }
}

/** DiVES with two TAPs against vde_switch and the Linux bridge, measured one after the other. */
export async function oneHost(): Promise<Section> {
  const d = await row('DiVES, 2 TAPs, one VLAN', dives);
  return {
    title: 'one host: TAP ↔ TAP',
    dives: d,
    after: budgetAfter(d),
    peers: [
      await row('vde_switch, 2 TAPs', vdeSwitch),
      await row('Linux bridge over veth', () => linuxBridge(true)),
      await row('Linux bridge, offloads off', () => linuxBridge(false)),
    ],
  };
}
