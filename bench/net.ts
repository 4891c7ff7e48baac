// bench (network): iperf3 TCP, iperf3 UDP with 64-byte payloads and ping RTT
// between two "VM" namespaces, through DiVES and through its peers measured in
// the same run: vde_switch with two TAPs, and the Linux bridge over veth (the
// in-kernel ceiling) with and without offloads. Prints a table with the ratio
// DiVES/peer on each line and writes the results as JSON.
// A benchmark, not a test. Runs on its own main thread: `npm run bench`.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetnsFixture, run, sweepStale } from '../test/helpers/netns.js';

const SECONDS = Number(process.env.DIVES_BENCH_SECONDS ?? 5);
const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url));
const RESULTS = process.env.DIVES_BENCH_OUT ?? '.bench-results';

interface Figures { tcpGbps: number; udpFps: number; udpLoss: number; rttUs: number }
interface Row { name: string; figures: Figures }

async function must(file: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const r = await run(file, args, { timeoutMs });
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Installs the Debian packages the benchmark drives when they are missing. */
async function ensureTools(): Promise<void> {
  const need: string[] = [];
  for (const [cmd, pkg] of [['iperf3', 'iperf3'], ['vde_switch', 'vde2'], ['ping', 'iputils-ping'], ['ethtool', 'ethtool']]) {
    if ((await run('sh', ['-c', `command -v ${cmd}`])).code !== 0) need.push(pkg);
  }
  if (need.length === 0) return;
  console.log(`bench: installing ${need.join(' ')}`);
  await run('apt-get', ['update', '-qq'], { timeoutMs: 300_000 });
  await must('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...need], 600_000);
}

/** Two VM namespaces, vmA 10.99.0.1 and vmB 10.99.0.2, whose links the topology provides. */
async function measure(fx: NetnsFixture, vmA: string, vmB: string): Promise<Figures> {
  const server = fx.spawnIn(vmB, ['iperf3', '-s', '-1', '-B', '10.99.0.2']);
  await waitServer(fx, vmA);
  const tcp = JSON.parse(await execIn(fx, vmA, ['iperf3', '-c', '10.99.0.2', '-t', String(SECONDS), '-J']));
  await exited(server);
  const server2 = fx.spawnIn(vmB, ['iperf3', '-s', '-1', '-B', '10.99.0.2']);
  await waitServer(fx, vmA);
  const udp = JSON.parse(await execIn(fx, vmA, ['iperf3', '-c', '10.99.0.2', '-u', '-l', '64', '-b', '0', '-t', String(SECONDS), '-J']));
  await exited(server2);
  const sum = udp.end.sum as { packets: number; lost_packets: number; seconds: number; lost_percent: number };
  const ping = await execIn(fx, vmA, ['ping', '-c', '50', '-i', '0.02', '-q', '10.99.0.2']);
  const m = /= [\d.]+\/([\d.]+)\//.exec(ping);
  return {
    tcpGbps: tcp.end.sum_received.bits_per_second / 1e9,
    udpFps: (sum.packets - sum.lost_packets) / sum.seconds,
    udpLoss: sum.lost_percent,
    rttUs: m === null ? NaN : Number(m[1]) * 1000,
  };
}

async function execIn(fx: NetnsFixture, ns: string, cmd: string[]): Promise<string> {
  const r = await fx.exec(ns, cmd, { timeoutMs: (SECONDS + 30) * 1000 });
  if (r.code !== 0) throw new Error(`${cmd.join(' ')} in ${ns}: exit ${r.code}: ${r.stderr}${r.stdout.slice(0, 500)}`);
  return r.stdout;
}

async function waitServer(fx: NetnsFixture, from: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if ((await fx.exec(from, ['sh', '-c', 'exec 3<>/dev/tcp/10.99.0.2/5201'])).code === 0) return;
    await sleep(100);
  }
  await sleep(300);
}

function exited(p: ChildProcess): Promise<void> {
  return new Promise((r) => (p.exitCode !== null ? r() : p.once('exit', () => r())));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function vmPair(fx: NetnsFixture, linkA: string, linkB: string): Promise<[string, string]> {
  const a = await fx.addNs('vmA');
  const b = await fx.addNs('vmB');
  await fx.moveToNs(linkA, a, '10.99.0.1/24');
  await fx.moveToNs(linkB, b, '10.99.0.2/24');
  return [a, b];
}

async function dives(): Promise<Figures> {
  const fx = new NetnsFixture();
  const dir = mkdtempSync(join(tmpdir(), 'dives-bench-'));
  let proc: ChildProcess | null = null;
  try {
    const ta = fx.ifname('ta');
    const tb = fx.ifname('tb');
    await fx.createTap(ta);
    await fx.createTap(tb);
    const rc = join(dir, 'bench.rc');
    writeFileSync(rc, `vlan 10\ntap ${ta}\ntap ${tb}\n`);
    proc = spawn(process.execPath, [BIN, 'start', '--no-console', '--log-level', 'warn', '-c', rc, '-u', dir], { stdio: 'inherit' });
    await sleep(1500);
    const [a, b] = await vmPair(fx, ta, tb);
    return await measure(fx, a, b);
  } finally {
    proc?.kill('SIGTERM');
    if (proc !== null) await exited(proc);
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
      for (const [ns, dev] of [[a, va], [b, vb]]) {
        await fx.exec(ns, ['ethtool', '-K', dev, 'tso', 'off', 'gso', 'off', 'gro', 'off', 'tx', 'off', 'rx', 'off']);
      }
      for (const dev of [pa, pb]) await run('ethtool', ['-K', dev, 'tso', 'off', 'gso', 'off', 'gro', 'off', 'tx', 'off', 'rx', 'off']);
    }
    return await measure(fx, a, b);
  } finally {
    await fx.cleanup();
  }
}

function fmt(f: Figures): string {
  return `${f.tcpGbps.toFixed(2).padStart(7)} Gbit/s  ${(f.udpFps / 1000).toFixed(0).padStart(6)} kfps (loss ${f.udpLoss.toFixed(0)}%)  ${f.rttUs.toFixed(0).padStart(5)} µs`;
}

function ratio(d: Figures, p: Figures): string {
  return `TCP ${(d.tcpGbps / p.tcpGbps).toFixed(2)}×  UDP-64 ${(d.udpFps / p.udpFps).toFixed(2)}×  RTT ${(d.rttUs / p.rttUs).toFixed(2)}×`;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('npm run bench needs root: it builds network namespaces and TAPs');
  await ensureTools();
  await sweepStale();
  console.log(`bench (one host): iperf3 ${SECONDS}s TCP and UDP-64, ping ×50; Node ${process.version}`);
  const rows: Row[] = [];
  const d = await dives();
  rows.push({ name: 'DiVES, 2 TAPs, one VLAN', figures: d });
  const peers: Row[] = [
    { name: 'vde_switch, 2 TAPs', figures: await vdeSwitch() },
    { name: 'Linux bridge over veth', figures: await linuxBridge(true) },
    { name: 'Linux bridge, offloads off', figures: await linuxBridge(false) },
  ];
  rows.push(...peers);
  console.log(`${'topology'.padEnd(30)} ${'TCP'.padStart(14)}  ${'UDP-64 received'.padStart(22)}  RTT      DiVES/peer`);
  console.log(`${rows[0].name.padEnd(30)} ${fmt(d)}`);
  for (const p of peers) console.log(`${p.name.padEnd(30)} ${fmt(p.figures)}  ${ratio(d, p.figures)}`);
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `net-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ node: process.version, seconds: SECONDS, rows }, null, 2));
  console.log(`results: ${file}`);
}

await main();
