// Scale runs (`npm run bench -- scale`): aggregate iperf3 TCP over 1, 2, 4 and 8 VLANs
// (DiVES, one switch, against one vde_switch per VLAN), set-up time and RSS of a switch
// with 4094 VLANs each holding a QEMU listen port with a client on it, 64 VM connections
// over 8 VLANs at once (bench/scale-vms.ts), 32 switches finding each other
// (bench/scale-peers.ts), and fdb lookups/s with 100k MACs beside a JS Map holding the
// same keys. Runs on the bench's main thread.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Fdb } from '../src/forwarding/fdb.js';
import { DivesProcess } from '../test/helpers/dives-process.js';
import { NetnsFixture, run } from '../test/helpers/netns.js';
import { mulberry32 } from '../test/helpers/prng.js';
import { markerFrame } from '../test/helpers/frames.js';
import { QemuClient } from '../test/helpers/qemu-client.js';
import { iperf, must, SECONDS, sleep, VM_A, VM_B, writeResults } from './bench-kit.js';
import { manyPeers, printPeers, SWITCHES } from './scale-peers.js';
import { manyVms, printVms } from './scale-vms.js';

const VLAN_COUNTS = [1, 2, 4, 8];
const MANY_VLANS = 4094;
/** The issue's aim for the RSS of a switch with every VLAN. */
const RSS_AIM_MIB = 1024;
const FDB_MACS = 100_000;

interface VlanFigure { vlans: number; divesGbps: number; vdeGbps: number; divesPerVlan: number[]; vdePerVlan: number[] }

/** `n` VM pairs, pair i on TAPs a<i>/b<i> that the caller's switch attached; n iperf3 TCP runs at once. */
async function parallelTcp(fx: NetnsFixture, n: number): Promise<number[]> {
  const pairs: [string, string][] = [];
  for (let i = 0; i < n; i++) {
    const a = await fx.addNs(`a${i}`);
    const b = await fx.addNs(`b${i}`);
    await fx.moveToNs(fx.ifname(`a${i}`), a, `${VM_A}/24`);
    await fx.moveToNs(fx.ifname(`b${i}`), b, `${VM_B}/24`);
    pairs.push([a, b]);
  }
  const reports = await Promise.all(pairs.map(([a, b]) => iperf(fx, a, b, [])));
  return reports.map((r) => JSON.parse(r).end.sum_received.bits_per_second / 1e9);
}

async function makeTaps(fx: NetnsFixture, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await fx.createTap(fx.ifname(`a${i}`));
    await fx.createTap(fx.ifname(`b${i}`));
  }
}

async function divesVlans(n: number): Promise<number[]> {
  const fx = new NetnsFixture();
  const dir = mkdtempSync(join(tmpdir(), 'dives-bench-'));
  let sw: DivesProcess | null = null;
  try {
    await makeTaps(fx, n);
    const rc = Array.from({ length: n }, (_, i) => `vlan ${10 + i}\ntap ${fx.ifname(`a${i}`)}\ntap ${fx.ifname(`b${i}`)}\n`).join('');
    writeFileSync(join(dir, 'bench.rc'), rc);
    sw = await DivesProcess.start(['--no-console', '-c', join(dir, 'bench.rc'), '-u', dir]);
    if (!/DiVES switch up/.test(sw.stderr)) throw new Error(`dives did not start:\n${sw.stderr}`);
    return await parallelTcp(fx, n);
  } finally {
    await sw?.stop();
    await fx.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** VDE keeps separate networks in separate switches: one vde_switch per VLAN. */
async function vdeVlans(n: number): Promise<number[]> {
  const fx = new NetnsFixture();
  const dir = mkdtempSync(join(tmpdir(), 'vde-bench-'));
  try {
    await makeTaps(fx, n);
    for (let i = 0; i < n; i++) {
      await must('vde_switch', ['-t', fx.ifname(`a${i}`), '-t', fx.ifname(`b${i}`), '-s', join(dir, `ctl${i}`), '--daemon', '--pidfile', join(dir, `vde${i}.pid`)]);
    }
    await sleep(500);
    return await parallelTcp(fx, n);
  } finally {
    await run('sh', ['-c', `for f in ${dir}/vde*.pid; do kill $(cat "$f") 2>/dev/null; done`]);
    await fx.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

async function vlanScaling(): Promise<VlanFigure[]> {
  const out: VlanFigure[] = [];
  for (const n of VLAN_COUNTS) {
    const divesPerVlan = await divesVlans(n);
    const vdePerVlan = await vdeVlans(n);
    out.push({ vlans: n, divesGbps: sum(divesPerVlan), vdeGbps: sum(vdePerVlan), divesPerVlan, vdePerVlan });
    console.log(`  ${String(n).padStart(2)} VLANs: DiVES ${sum(divesPerVlan).toFixed(2)} Gbit/s, vde_switch ×${n} ${sum(vdePerVlan).toFixed(2)} Gbit/s`);
  }
  return out;
}

/** A first port of `count` consecutive TCP ports that nothing on this host listens on or uses. */
function freePortRange(count: number): number {
  const used = new Set<number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const local = line.trim().split(/\s+/)[1];
      if (local !== undefined) used.add(parseInt(local.split(':')[1] ?? '0', 16));
    }
  }
  // Below the kernel's ephemeral range (32768 and up), so no outgoing connection takes one meanwhile.
  for (let base = 20000; base + count < 32768; base += count) {
    let clear = true;
    for (let p = base; p < base + count && clear; p++) clear = !used.has(p);
    if (clear) return base;
  }
  throw new Error(`no ${count} consecutive free TCP ports below 32768`);
}

/** How many of the ports base .. base+count-1 something listens on (state 0A in /proc/net/tcp). */
function listening(base: number, count: number): number {
  let n = 0;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    const port = parseInt(f[1]?.split(':')[1] ?? '0', 16);
    if (f[3] === '0A' && port >= base && port < base + count) n++;
  }
  return n;
}

function procStatus(pid: number): { rssMiB: number; hwmMiB: number; threads: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1]);
  return { rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024, threads: Number(/^Threads:\s+(\d+)/m.exec(s)?.[1]) };
}

interface ManyFigure { vlans: number; setupMs: number; listening: number; connectMs: number; allRxMs: number; rssMiB: number; hwmMiB: number; threads: number; portsWithRx: number; idleRssMiB: number }

/** A switch with `vlans` VLANs, each with one QEMU listen port and one client that sends a frame on it. */
export async function manyVlans(vlans: number): Promise<ManyFigure> {
  const dir = mkdtempSync(join(tmpdir(), 'dives-bench-'));
  const base = freePortRange(vlans);
  const clients: QemuClient[] = [];
  let sw: DivesProcess | null = null;
  try {
    const rc = Array.from({ length: vlans }, (_, i) => `vlan ${i + 1}\nlisten 127.0.0.1 ${base + i}\n`).join('');
    writeFileSync(join(dir, 'bench.rc'), rc);
    const t0 = performance.now();
    sw = await DivesProcess.start(['-c', join(dir, 'bench.rc'), '-u', dir], { waitUp: false });
    await sw.waitStderr(/DiVES switch up|not starting/, 300_000);
    if (!/DiVES switch up/.test(sw.stderr)) throw new Error(`dives did not start:\n${sw.stderr.slice(-2000)}`);
    const setupMs = performance.now() - t0;
    const listeners = listening(base, vlans);
    const pid = sw.child.pid ?? 0;
    const idle = procStatus(pid);
    const t1 = performance.now();
    for (let i = 0; i < vlans; i += 100) {
      const batch = await Promise.all(Array.from({ length: Math.min(100, vlans - i) }, (_, j) => QemuClient.connect({ port: base + i + j })));
      clients.push(...batch);
    }
    for (const [i, c] of clients.entries()) {
      const mac = `02:be:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
      c.send(markerFrame('ff:ff:ff:ff:ff:ff', mac));
    }
    const connectMs = performance.now() - t1;
    // Every VM's port is placed as it connects; wait until each has forwarded its frame.
    let portsWithRx = 0;
    let allRxMs = NaN;
    for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(1000)) {
      const reply = await sw.command('json show ports', /\}\s*$/m, 30_000);
      const ports = JSON.parse(reply.slice(reply.indexOf('{'), reply.lastIndexOf('}') + 1)).ports as { rxFrames: number }[];
      portsWithRx = ports.filter((p) => p.rxFrames >= 1).length;
      if (portsWithRx === vlans) {
        allRxMs = performance.now() - t1;
        break;
      }
    }
    return { vlans, setupMs, listening: listeners, connectMs, allRxMs, ...procStatus(pid), portsWithRx, idleRssMiB: idle.rssMiB };
  } finally {
    for (const c of clients) c.close();
    await sw?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface FdbFigure { macs: number; fdbLookupsPerS: number; mapLookupsPerS: number; fdbLearnsPerS: number; mapSetsPerS: number }

/** Best of three ~1 s rounds of `pass` (one pass over every key); returns operations/s. */
function rate(keys: Float64Array, pass: () => number): number {
  let best = 0;
  let sink = 0;
  for (let round = 0; round < 3; round++) {
    let ops = 0;
    const start = process.hrtime.bigint();
    let ns = 0n;
    while (ns < 1_000_000_000n) {
      sink += pass();
      ops += keys.length;
      ns = process.hrtime.bigint() - start;
    }
    best = Math.max(best, ops / (Number(ns) / 1e9));
  }
  // Using the sink keeps the optimiser from dropping the lookups as dead code.
  if (sink === -1) console.log('');
  return best;
}

/** Lookups of 100k learned MACs, in a shuffled order, in the fdb and in a Map with the same keys. */
function fdbLookups(): FdbFigure {
  const rand = mulberry32(0xd17e5);
  const seen = new Set<number>();
  while (seen.size < FDB_MACS) seen.add(Math.floor(rand() * 0x10000) * 0x1_0000_0000 + Math.floor(rand() * 0x1_0000_0000));
  const keys = Float64Array.from(seen);
  for (let i = keys.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [keys[i], keys[j]] = [keys[j], keys[i]];
  }
  const fdb = new Fdb({ capacity: FDB_MACS, ageingTimeMs: Infinity });
  const map = new Map<number, number>();
  const fdbLearnsPerS = rate(keys, () => {
    for (let i = 0; i < keys.length; i++) fdb.learn(keys[i], i & 63, 0);
    return fdb.size;
  });
  const mapSetsPerS = rate(keys, () => {
    for (let i = 0; i < keys.length; i++) map.set(keys[i], i & 63);
    return map.size;
  });
  const fdbLookupsPerS = rate(keys, () => {
    let s = 0;
    for (let i = 0; i < keys.length; i++) s += fdb.lookup(keys[i], 0);
    return s;
  });
  const mapLookupsPerS = rate(keys, () => {
    let s = 0;
    for (let i = 0; i < keys.length; i++) s += map.get(keys[i]) ?? -1;
    return s;
  });
  if (fdb.size !== FDB_MACS) throw new Error(`the fdb holds ${fdb.size} MACs, not ${FDB_MACS}`);
  return { macs: FDB_MACS, fdbLookupsPerS, mapLookupsPerS, fdbLearnsPerS, mapSetsPerS };
}

/** Runs one part; a failure is printed and kept in the JSON instead of ending the other parts. */
async function part<T>(name: string, fn: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await fn();
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    console.error(`bench scale: ${name} failed: ${error}`);
    return { error };
  }
}

function printVlans(vlans: VlanFigure[]): void {
  console.log(`\n${'VLANs'.padStart(5)}  ${'DiVES'.padStart(13)}  ${'vde_switch ×N'.padStart(13)}  DiVES/peer  DiVES vs 1 VLAN`);
  for (const v of vlans) {
    console.log(`${String(v.vlans).padStart(5)}  ${v.divesGbps.toFixed(2).padStart(6)} Gbit/s  ${v.vdeGbps.toFixed(2).padStart(6)} Gbit/s  ${(v.divesGbps / v.vdeGbps).toFixed(2).padStart(9)}×  ${(v.divesGbps / vlans[0].divesGbps).toFixed(2).padStart(14)}×`);
  }
}

function printMany(many: ManyFigure, one: ManyFigure): void {
  for (const m of [many, one]) {
    console.log(`  ${String(m.vlans).padStart(4)} VLANs: set-up ${(m.setupMs / 1000).toFixed(1)} s (${m.listening} listening), clients connected in ${(m.connectMs / 1000).toFixed(1)} s, ` +
      `every port forwarded its frame ${(m.allRxMs / 1000).toFixed(1)} s after the first connect (${m.portsWithRx}/${m.vlans}), ` +
      `RSS ${m.rssMiB.toFixed(0)} MiB (before clients ${m.idleRssMiB.toFixed(0)}, peak ${m.hwmMiB.toFixed(0)}), ${m.threads} threads`);
  }
  console.log(`  RSS ${MANY_VLANS} VLANs / 1 VLAN: ${(many.rssMiB / one.rssMiB).toFixed(2)}×; against the ${RSS_AIM_MIB / 1024} GiB aim: ${(many.rssMiB / RSS_AIM_MIB).toFixed(2)}×`);
}

function printFdb(f: FdbFigure): void {
  console.log(`  lookups: fdb ${(f.fdbLookupsPerS / 1e6).toFixed(1)} M/s, Map ${(f.mapLookupsPerS / 1e6).toFixed(1)} M/s, fdb/Map ${(f.fdbLookupsPerS / f.mapLookupsPerS).toFixed(2)}×`);
  console.log(`  learns (refresh): fdb ${(f.fdbLearnsPerS / 1e6).toFixed(1)} M/s, Map set ${(f.mapSetsPerS / 1e6).toFixed(1)} M/s, fdb/Map ${(f.fdbLearnsPerS / f.mapSetsPerS).toFixed(2)}×`);
}

export async function scale(): Promise<void> {
  console.log(`bench scale: iperf3 ${SECONDS} s TCP per VLAN; Node ${process.version}; ${new Date().toISOString()}`);
  console.log('\nVLANs, each with its own VM pair and iperf3 TCP stream (aggregate received):');
  const vlans = await part('VLAN scaling', vlanScaling);
  if (Array.isArray(vlans)) printVlans(vlans);

  console.log(`\n${MANY_VLANS} VLANs, each with a QEMU listen port and one client sending a frame:`);
  const many = await part(`${MANY_VLANS} VLANs`, async () => [await manyVlans(MANY_VLANS), await manyVlans(1)] as const);
  if (Array.isArray(many)) printMany(many[0], many[1]);

  console.log(`\n64 VM connections over 8 VLANs at once (32 qemu-load pairs, 1514 B), beside 32 QEMU hubs:`);
  const vms = await part('64 VMs', manyVms);
  if (!('error' in vms)) printVms(vms);

  console.log(`\n${SWITCHES} switches, one per host namespace on one bridge, found by discovery:`);
  const peers = await part(`${SWITCHES} switches`, () => manyPeers());
  if (!('error' in peers)) printPeers(peers);

  console.log(`\nfdb with ${FDB_MACS / 1000}k MACs (src/forwarding/fdb.ts) beside a JS Map with the same keys:`);
  const fdb = await part('fdb', async () => fdbLookups());
  if (!('error' in fdb)) printFdb(fdb);

  console.log(`\nresults: ${writeResults('scale', { vlans, many, vms, peers, fdb })}`);
}
