// Bench topology for QEMU ports at VM line rate: qemu-load endpoints (bench/qemu-load.c,
// the socket netdev protocol as fast as the loopback allows, standing in for KVM guests)
// through DiVES (two `listen` ports of one VLAN), through QEMU's own hub (`-netdev
// socket,listen` twice joined by `-netdev hubport`), and as a direct TCP pair (the limit
// of one hop). Frames/s delivered at 64, 1514 and 9014 bytes, request/response latency,
// and 8 sender/receiver pairs at once (over 4 VLANs for DiVES). Bench main thread.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DivesProcess } from '../test/helpers/dives-process.js';
import { freeTcpPort, waitForListening } from '../test/helpers/guest.js';
import { buildQemuLoad } from './build-qemu-load.js';
import { benchArgs, exited, SECONDS, sleep } from './bench-kit.js';
import { budgetLines, traceDuring, type FrameBudget } from './frame-budget.js';

export const SIZES = [64, 1514, 9014] as const;
const PAIRS = 8;
const PINGS = 20_000;
/** One frame is traced at a time, so a traced run needs fewer. */
const TRACED_PINGS = 2000;

/** One topology's figures: delivered frames/s per size, median RTT, and the 8-pair aggregate at 1514 bytes. */
export interface LoadFigures {
  fps: Record<(typeof SIZES)[number], number>;
  rttUs: number;
  pairsFps: number;
  /** The slowest pair's rate over the fastest's, 0..1 (1 is fair). */
  pairsFairness: number;
  /** Where a traced ping's time went inside DiVES (bench/frame-budget.ts). */
  budget?: FrameBudget;
  error?: string;
}

export interface LoadRow { name: string; figures: LoadFigures }

/** Two endpoints' addresses: where A and B connect, or where B listens for the direct pair. */
export interface Pair {
  a: string;
  b: string;
  /** B listens on b (the direct pair) instead of connecting to it. */
  bListens?: boolean;
}

function run(bin: string, args: string[]): { child: ChildProcess; json: Promise<Record<string, number>> } {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  // An endpoint that can no longer write (a switch that stopped reading) must not hang the bench.
  const watchdog = setTimeout(() => child.kill('SIGKILL'), (SECONDS + 60) * 1000);
  const json = new Promise<Record<string, number>>((resolve, reject) => {
    // 'close', not 'exit': the exit can come before the last of stdout.
    child.once('close', (code) => {
      clearTimeout(watchdog);
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) reject(new Error(`qemu-load ${args.join(' ')}: exit ${code}: ${err}${out}`));
      else resolve(JSON.parse(last) as Record<string, number>);
    });
  });
  // Callers may await it late (receivers after senders): never an unhandled rejection meanwhile.
  json.catch(() => undefined);
  return { child, json };
}

function endpoint(mode: string, addr: string, listens: boolean, extra: string[] = []): string[] {
  return [mode, listens ? '--listen' : '--connect', addr, ...extra];
}

/** Pair i's two MACs: A sends from the first to the second, where B is. */
function pairMacs(i: number): [string, string] {
  const h = (i & 0xff).toString(16).padStart(2, '0');
  return [`02:00:00:01:${h}:01`, `02:00:00:01:${h}:02`];
}

/**
 * Frames/s B received from A sending `size`-byte frames for SECONDS, for each pair at
 * once. Each pair has its own MACs and B announces its own first, so a switch forwards
 * each pair's frames to its receiver only, as it would between VMs that have talked;
 * B counts only frames addressed to it, and the rate is over the sender's time.
 */
export async function throughput(bin: string, pairs: Pair[], size: number): Promise<number[]> {
  // A receiver stops 2 s after its last frame: with many endpoints on two cores, one can wait that long for its turn.
  const recv = pairs.map((p, i) => run(bin, endpoint('recv', p.b, p.bListens === true, ['--src', pairMacs(i)[1], '--idle-ms', '2000'])));
  if (pairs.some((p) => p.bListens)) await Promise.all(pairs.map((p) => waitForListening(Number(p.b.split(':').pop()), 10_000)));
  else await sleep(300 + 20 * pairs.length);
  const send = pairs.map((p, i) => run(bin, endpoint('send', p.a, false, ['--size', String(size), '--seconds', String(SECONDS), '--src', pairMacs(i)[0], '--dst', pairMacs(i)[1]])));
  const sent = await Promise.all(send.map((s) => s.json));
  const got = await Promise.all(recv.map((r) => r.json));
  // Frames delivered over the time the sender sent: a receiver's own first-to-last span
  // would make a pair that got a handful of frames at once look fast.
  return got.map((g, i) => g.frames / sent[i].seconds);
}

/** Median request/response time: A sends a frame, B answers it, PINGS times. */
async function latency(bin: string, p: Pair, count = PINGS): Promise<number> {
  const echo = run(bin, endpoint('echo', p.b, p.bListens === true));
  if (p.bListens) await waitForListening(Number(p.b.split(':').pop()), 10_000);
  else await sleep(300);
  const ping = run(bin, endpoint('ping', p.a, false, ['--size', '64', '--count', String(count)]));
  // Through a switch the echo side never sees the pinger hang up: end it once the pings are done.
  echo.json.catch(() => undefined);
  try {
    return (await ping.json).medianUs;
  } finally {
    echo.child.kill('SIGTERM');
    await exited(echo.child, 5000);
  }
}

/**
 * Every figure of one topology. `setUp(n)` makes n fresh pairs (a new switch, hub or
 * port set each time, so no measurement inherits another's state) and returns them with
 * a tear-down.
 */
async function measure(bin: string, setUp: (n: number) => Promise<{ pairs: Pair[]; done: () => Promise<void>; dir?: string }>): Promise<LoadFigures> {
  const fps = {} as LoadFigures['fps'];
  for (const size of SIZES) {
    const t = await setUp(1);
    try {
      [fps[size]] = await throughput(bin, t.pairs, size);
    } finally {
      await t.done();
    }
  }
  const l = await setUp(1);
  let rttUs: number;
  let budget: FrameBudget | undefined;
  try {
    rttUs = await latency(bin, l.pairs[0]);
    // A switch (one with a socket directory) is traced once more, after the figure is taken.
    const dir = l.dir;
    if (dir !== undefined) budget = await traceDuring([dir], () => latency(bin, l.pairs[0], TRACED_PINGS));
  } finally {
    await l.done();
  }
  const m = await setUp(PAIRS);
  let each: number[];
  try {
    each = await throughput(bin, m.pairs, 1514);
  } finally {
    await m.done();
  }
  const sum = each.reduce((a, b) => a + b, 0);
  return { fps, rttUs, pairsFps: sum, pairsFairness: Math.min(...each) / Math.max(...each), budget };
}

/** `n` distinct free TCP ports (a port just freed can come back from the kernel twice). */
async function ports(n: number): Promise<number[]> {
  const out = new Set<number>();
  while (out.size < n) out.add(await freeTcpPort());
  return [...out];
}

/** DiVES: each pair on two listen ports of one VLAN; pairs spread over `vlans` VLANs (8 pairs over 4). */
export function dives(dir: string, vlans = 4) {
  return async (n: number) => {
    const ps = await ports(2 * n);
    const byVlan = new Map<number, string[]>();
    for (let i = 0; i < n; i++) {
      const vid = 10 + (i % vlans);
      byVlan.set(vid, [...(byVlan.get(vid) ?? []), `  listen 127.0.0.1 ${ps[2 * i]}`, `  listen 127.0.0.1 ${ps[2 * i + 1]}`]);
    }
    const rc = join(dir, 'dives.rc');
    writeFileSync(rc, [...byVlan].map(([vid, lines]) => `vlan ${vid}\n${lines.join('\n')}\nexit\n`).join(''));
    const sw = await DivesProcess.start([...benchArgs(), '--no-console', '--no-discovery', '-p', String(await freeTcpPort()), '-c', rc, '-u', dir]);
    if (!/DiVES switch up/.test(sw.stderr)) throw new Error(`dives did not start:\n${sw.stderr}`);
    const pairs = Array.from({ length: n }, (_, i) => ({ a: `127.0.0.1:${ps[2 * i]}`, b: `127.0.0.1:${ps[2 * i + 1]}` }));
    return { pairs, dir, done: () => sw.stop().then(() => undefined) };
  };
}

/** QEMU's own hub: per pair, two `-netdev socket,listen` joined by `hubport`s of one hub. */
export function qemuHub() {
  return async (n: number) => {
    const ps = await ports(2 * n);
    const args = ['-nodefaults', '-display', 'none', '-M', 'none'];
    for (let i = 0; i < n; i++) {
      args.push('-netdev', `socket,id=a${i},listen=127.0.0.1:${ps[2 * i]}`, '-netdev', `socket,id=b${i},listen=127.0.0.1:${ps[2 * i + 1]}`);
      args.push('-netdev', `hubport,id=ha${i},hubid=${i},netdev=a${i}`, '-netdev', `hubport,id=hb${i},hubid=${i},netdev=b${i}`);
    }
    const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    await Promise.all(ps.map((p) => waitForListening(p, 20_000)));
    const pairs = Array.from({ length: n }, (_, i) => ({ a: `127.0.0.1:${ps[2 * i]}`, b: `127.0.0.1:${ps[2 * i + 1]}` }));
    return {
      pairs,
      done: async () => {
        qemu.kill('SIGTERM');
        await exited(qemu, 5000);
      },
    };
  };
}

/** The direct pair: B listens, A connects to it: one hop, nothing in between. */
function directPair() {
  return async (n: number) => {
    const ps = await ports(n);
    return { pairs: ps.map((p) => ({ a: `127.0.0.1:${p}`, b: `127.0.0.1:${p}`, bListens: true })), done: async () => {} };
  };
}

async function row(name: string, fn: () => Promise<LoadFigures>): Promise<LoadRow> {
  try {
    return { name, figures: await fn() };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    console.error(`bench: ${name} failed: ${error}`);
    return { name: `${name} (failed)`, figures: { fps: { 64: NaN, 1514: NaN, 9014: NaN }, rttUs: NaN, pairsFps: NaN, pairsFairness: NaN, error } };
  }
}

export interface LoadSection {
  title: string;
  dives: LoadRow;
  peers: LoadRow[];
}

/** DiVES, QEMU's hub and the direct pair, one after the other, with the same endpoints. */
export async function qemuLoad(): Promise<LoadSection> {
  const bin = await buildQemuLoad();
  const dir = mkdtempSync(join(tmpdir(), 'dives-bench-load-'));
  try {
    return {
      title: `QEMU ports at VM line rate: qemu-load endpoints, ${SECONDS} s per size, RTT median of ${PINGS}, ${PAIRS} pairs at 1514 B`,
      dives: await row('DiVES, 2 listen ports per VLAN', () => measure(bin, dives(dir))),
      peers: [await row('QEMU hub (socket listen ×2 + hubport)', () => measure(bin, qemuHub())), await row('direct TCP pair (one hop)', () => measure(bin, directPair()))],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function kfps(n: number): string {
  return Number.isFinite(n) ? `${(n / 1000).toFixed(0)} k` : '—';
}

function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(2)}×` : '—';
}

export function printLoadSection(s: LoadSection): void {
  console.log(`\n${s.title}`);
  const head = ['topology'.padEnd(38), ...SIZES.map((z) => `${z} B fps`.padStart(12)), 'RTT'.padStart(9), '8 pairs fps'.padStart(12), 'fair'.padStart(5)];
  console.log(head.join(' '));
  const line = (r: LoadRow): string => {
    const f = r.figures;
    return [r.name.padEnd(38), ...SIZES.map((z) => kfps(f.fps[z]).padStart(12)), (Number.isFinite(f.rttUs) ? `${f.rttUs.toFixed(0)} µs` : '—').padStart(9), kfps(f.pairsFps).padStart(12), (Number.isFinite(f.pairsFairness) ? f.pairsFairness.toFixed(2) : '—').padStart(5)].join(' ');
  };
  console.log(line(s.dives));
  const d = s.dives.figures;
  for (const p of s.peers) {
    const f = p.figures;
    const r = [...SIZES.map((z) => `${z} B ${ratio(d.fps[z], f.fps[z])}`), `RTT ${ratio(d.rttUs, f.rttUs)}`, `8 pairs ${ratio(d.pairsFps, f.pairsFps)}`].join('  ');
    console.log(`${line(p)}   DiVES/peer: ${r}`);
  }
  if (d.budget !== undefined) for (const l of budgetLines(d.budget)) console.log(l);
}
