// Bench topologies on one host: two "VM" namespaces joined by DiVES (two TAPs on one
// VLAN, alone and with a capture running on another VLAN), by vde_switch (the same two TAPs), and by the Linux bridge over veth with and
// without offloads (the in-kernel ceiling). Each builds, measures and removes its
// namespaces and processes, even on failure. Runs on the bench's main thread.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DivesProcess } from '../test/helpers/dives-process.js';
import { BIN } from '../test/helpers/ctl-process.js';
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

/**
 * DiVES with two TAPs on VLAN 10; with `captureOther`, a capture runs on VLAN 20 (a third
 * TAP, a capture to a file through `dives ctl`) the whole time: the row that shows a
 * capture costs the VLANs it does not watch nothing (docs/performance.md).
 */
async function dives(captureOther = false): Promise<Figures> {
  const fx = new NetnsFixture();
  const dir = mkdtempSync(join(tmpdir(), 'dives-bench-'));
  let sw: DivesProcess | null = null;
  let capture: ChildProcess | null = null;
  try {
    const ta = fx.ifname('ta');
    const tb = fx.ifname('tb');
    await fx.createTap(ta);
    await fx.createTap(tb);
    const rc = join(dir, 'bench.rc');
    writeFileSync(rc, `vlan 10\ntap ${ta}\ntap ${tb}\n${captureOther ? `vlan 20\ntap ${fx.ifname('tc')}\n` : ''}`);
    // DivesProcess gives the switch free peer and discovery ports, so it never peers
    // with a switch of a test running beside the bench.
    sw = await DivesProcess.start([...benchArgs(), '--no-console', '-c', rc, '-u', dir]);
    if (!/DiVES switch up/.test(sw.stderr)) throw new Error(`dives did not start:\n${sw.stderr}`);
    if (captureOther) capture = await captureRunning(dir, 20);
    const [a, b] = await vmPair(fx, ta, tb);
    const figures = await measure(fx, a, b);
    return { ...figures, extra: { budget: await tracedPing(fx, a, VM_B, [dir]) } };
  } finally {
    capture?.kill('SIGKILL');
    await sw?.stop();
    await fx.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `dives ctl capture vlan VID seconds 3600 FILE`, running once `show captures` lists it. */
async function captureRunning(dir: string, vid: number): Promise<ChildProcess> {
  const p = spawn(process.execPath, [BIN, 'ctl', '-u', dir, 'capture', 'vlan', String(vid), 'seconds', '3600', join(dir, 'other.pcap')], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const r = await run(process.execPath, [BIN, 'ctl', '-u', dir, '--json', 'show', 'captures']);
    if (r.code === 0 && (JSON.parse(r.stdout) as { captures: unknown[] }).captures.length === 1) return p;
    await sleep(50);
  }
  p.kill('SIGKILL');
  throw new Error('the capture on the other VLAN did not start');
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
  const d = await row('DiVES, 2 TAPs, one VLAN', () => dives());
  return {
    title: 'one host: TAP ↔ TAP',
    dives: d,
    after: budgetAfter(d),
    peers: [
      // Its ratio is DiVES without a capture over DiVES with one on another VLAN: 1.0 within noise.
      await row('DiVES, the same, a capture running on VLAN 20', () => dives(true)),
      await row('vde_switch, 2 TAPs', vdeSwitch),
      await row('Linux bridge over veth', () => linuxBridge(true)),
      await row('Linux bridge, offloads off', () => linuxBridge(false)),
    ],
  };
}
