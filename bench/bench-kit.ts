// What every network benchmark topology shares: the Debian tools it installs, the
// iperf3/ping measurement between two "VM" namespaces, and the table of DiVES/peer
// ratios that `npm run bench` prints and writes as JSON. Runs on the bench's main thread.

import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, type NetnsFixture } from '../test/helpers/netns.js';

/** Seconds of each iperf3 run (`DIVES_BENCH_SECONDS`, default 5). */
export const SECONDS = Number(process.env.DIVES_BENCH_SECONDS ?? 5);
const RESULTS = process.env.DIVES_BENCH_OUT ?? '.bench-results';

/** The addresses measure() expects in the two VM namespaces. */
export const VM_A = '10.99.0.1';
export const VM_B = '10.99.0.2';

/** A topology's figures; NaN where the topology cannot measure it (said in the docs). */
export interface Figures {
  tcpGbps: number;
  udpFps: number;
  udpLoss: number;
  rttUs: number;
  /** Mean RTT of back-to-back pings (`ping -A`: the next as soon as the answer is in), where the threads stay warm; absent: not measured. */
  rttBusyUs?: number;
  /** Anything else worth keeping in the JSON (set-up notes, per-VLAN figures). */
  extra?: Record<string, unknown>;
}

export interface Row { name: string; figures: Figures }

/** One block of the table: DiVES first, then the peers it is divided by. */
export interface Section {
  title: string;
  dives: Row;
  peers: Row[];
  /** What the section measures when it is not iperf3/ping between namespaces. */
  note?: string;
  /** Lines printed under the table (e.g. where DiVES's RTT goes, bench/frame-budget.ts). */
  after?: string[];
}

/** Extra `dives start` flags for every DiVES topology (DIVES_BENCH_ARGS, e.g. "--no-cpu-affinity"), for A/B runs. */
export function benchArgs(): string[] {
  return (process.env.DIVES_BENCH_ARGS ?? '').split(' ').filter(Boolean);
}

export async function must(file: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const r = await run(file, args, { timeoutMs });
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Installs the Debian packages the benchmark drives when they are missing. */
export async function ensureTools(): Promise<void> {
  const need: string[] = [];
  const tools: [string, string][] = [
    ['iperf3', 'iperf3'], ['vde_switch', 'vde2'], ['vde_plug', 'vdeplug'], ['ping', 'iputils-ping'],
    ['ethtool', 'ethtool'], ['qemu-system-x86_64', 'qemu-system-x86'], ['cpio', 'cpio'],
  ];
  for (const [cmd, pkg] of tools) {
    if ((await run('sh', ['-c', `command -v ${cmd}`])).code !== 0) need.push(pkg);
  }
  if ((await run('test', ['-x', '/bin/busybox'])).code !== 0) need.push('busybox-static');
  // vdeplug's vxvde:// and tap:// plugins live in libvdeplug2, which vdeplug pulls in.
  if (need.length === 0) return;
  console.log(`bench: installing ${need.join(' ')}`);
  await run('apt-get', ['update', '-qq'], { timeoutMs: 300_000 });
  await must('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...need], 600_000);
}

/**
 * iperf3 TCP, iperf3 UDP with 64-byte payloads at unlimited rate, and ping ×50 from
 * `vmA` to `vmB`, whose addresses are VM_A and VM_B. Returns the receiver's figures.
 */
export async function measure(fx: NetnsFixture, vmA: string, vmB: string): Promise<Figures> {
  const tcp = JSON.parse(await iperf(fx, vmA, vmB, []));
  const udp = JSON.parse(await iperf(fx, vmA, vmB, ['-u', '-l', '64', '-b', '0']));
  const sum = udp.end.sum as { packets: number; lost_packets: number; seconds: number; lost_percent: number };
  return {
    tcpGbps: tcp.end.sum_received.bits_per_second / 1e9,
    udpFps: (sum.packets - sum.lost_packets) / sum.seconds,
    udpLoss: sum.lost_percent,
    rttUs: await pingRtt(fx, vmA, VM_B),
    rttBusyUs: await pingRtt(fx, vmA, VM_B, true),
  };
}

/** One iperf3 run from `vmA` to a one-shot server in `vmB`; its JSON report. */
export async function iperf(fx: NetnsFixture, vmA: string, vmB: string, args: string[], opts: { to?: string; port?: number } = {}): Promise<string> {
  const to = opts.to ?? VM_B;
  const port = String(opts.port ?? 5201);
  const server = fx.spawnIn(vmB, ['iperf3', '-s', '-1', '-B', to, '-p', port]);
  try {
    await waitServer(fx, vmA, to, port);
    return await execIn(fx, vmA, ['iperf3', '-c', to, '-p', port, '-t', String(SECONDS), '-J', ...args]);
  } finally {
    await exited(server, 5000);
  }
}

/** Mean RTT in µs of 50 pings 20 ms apart, or (busy) of 1000 back to back. */
export async function pingRtt(fx: NetnsFixture, ns: string, to: string, busy = false): Promise<number> {
  const out = await execIn(fx, ns, ['ping', ...(busy ? ['-c', '1000', '-A'] : ['-c', '50', '-i', '0.02']), '-q', to]);
  const m = /= [\d.]+\/([\d.]+)\//.exec(out);
  return m === null ? NaN : Number(m[1]) * 1000;
}

export async function execIn(fx: NetnsFixture, ns: string, cmd: string[]): Promise<string> {
  const r = await fx.exec(ns, cmd, { timeoutMs: (SECONDS + 30) * 1000 });
  if (r.code !== 0) throw new Error(`${cmd.join(' ')} in ${ns}: exit ${r.code}: ${r.stderr}${r.stdout.slice(0, 500)}`);
  return r.stdout;
}

/** Waits until a TCP connect from `from` to addr:port succeeds (the iperf3 server listens). */
async function waitServer(fx: NetnsFixture, from: string, addr: string, port: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if ((await fx.exec(from, ['sh', '-c', `exec 3<>/dev/tcp/${addr}/${port}`])).code === 0) break;
    await sleep(100);
  }
  // The probe connection was iperf3's first client; give it a moment to drop it.
  await sleep(300);
}

/** Pings from `ns` until `to` answers, so ARP and the switches' fdbs are warm. */
export async function waitReachable(fx: NetnsFixture, ns: string, to: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await fx.exec(ns, ['ping', '-c', '1', '-W', '1', to])).code !== 0) {
    if (Date.now() > deadline) throw new Error(`${to} is not reachable from ${ns} within ${timeoutMs} ms`);
    await sleep(200);
  }
}

/** Resolves when `p` has exited, or after `timeoutMs` (then SIGKILLs it). */
export function exited(p: ChildProcess, timeoutMs = 10_000): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      resolve();
    }, timeoutMs);
    p.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function num(v: number, digits: number, unit: string, width: number): string {
  return (Number.isFinite(v) ? `${v.toFixed(digits)} ${unit}` : '—').padStart(width);
}

function fmt(f: Figures): string {
  const loss = Number.isFinite(f.udpLoss) ? ` (${f.udpLoss.toFixed(0)}% lost)` : '';
  return `${num(f.tcpGbps, f.tcpGbps < 1 ? 3 : 2, 'Gbit/s', 13)}  ${(num(f.udpFps / 1000, 0, 'kfps', 9) + loss).padEnd(22)} ${num(f.rttUs, 0, 'µs', 8)} ${num(f.rttBusyUs ?? NaN, 0, 'µs', 9)}`;
}

function quotient(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(2)}×` : '—';
}

/** DiVES/peer for each figure, as the table prints and the JSON keeps them. */
export function ratios(d: Figures, p: Figures): { tcp: number; udp: number; rtt: number; rttBusy: number } {
  return { tcp: d.tcpGbps / p.tcpGbps, udp: d.udpFps / p.udpFps, rtt: d.rttUs / p.rttUs, rttBusy: (d.rttBusyUs ?? NaN) / (p.rttBusyUs ?? NaN) };
}

export function printSection(s: Section): void {
  console.log(`\n${s.title}${s.note === undefined ? '' : `\n  (${s.note})`}`);
  console.log(`${'topology'.padEnd(38)} ${'TCP'.padStart(13)}  ${'UDP-64 received'.padEnd(22)} ${'RTT'.padStart(8)} ${'RTT busy'.padStart(9)}   DiVES/peer`);
  console.log(`${s.dives.name.padEnd(38)} ${fmt(s.dives.figures)}`);
  const d = s.dives.figures;
  for (const p of s.peers) {
    const f = p.figures;
    const r = `TCP ${quotient(d.tcpGbps, f.tcpGbps)}  UDP-64 ${quotient(d.udpFps, f.udpFps)}  RTT ${quotient(d.rttUs, f.rttUs)}  busy ${quotient(d.rttBusyUs ?? NaN, f.rttBusyUs ?? NaN)}`;
    console.log(`${p.name.padEnd(38)} ${fmt(f)}   ${r}`);
  }
  for (const line of s.after ?? []) console.log(line);
}

/** A section whose measurement failed: printed and kept in the JSON, so one broken topology does not hide the rest. */
export function failedRow(name: string, err: unknown): Row {
  const message = err instanceof Error ? err.message : String(err);
  console.error(`bench: ${name} failed: ${message}`);
  return { name: `${name} (failed)`, figures: { tcpGbps: NaN, udpFps: NaN, udpLoss: NaN, rttUs: NaN, extra: { error: message } } };
}

/** Measures `fn`, turning a failure into a failedRow. */
export async function row(name: string, fn: () => Promise<Figures>): Promise<Row> {
  try {
    return { name, figures: await fn() };
  } catch (err) {
    return failedRow(name, err);
  }
}

/** Writes `data` as JSON under the results directory; returns the file name. */
export function writeResults(kind: string, data: Record<string, unknown>): string {
  mkdirSync(RESULTS, { recursive: true });
  const date = new Date().toISOString();
  const file = join(RESULTS, `${kind}-${date.replace(/[:.]/g, '-')}.json`);
  // JSON has no NaN; null marks a figure the topology does not measure.
  writeFileSync(file, JSON.stringify({ date, node: process.version, seconds: SECONDS, ...data }, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2));
  return file;
}
