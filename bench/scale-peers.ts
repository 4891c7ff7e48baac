// Scale run: 32 switches, one per host namespace on one Linux bridge (the LAN), found by
// multicast discovery with the defaults. It measures how long after the last switch is up
// every switch has brought the 31 others up (from the times on the switches' own log
// lines, so polling costs nothing), checks with `dives ctl show peers` that each lists 31
// up peers, and whether a broadcast from a VM on one host reaches the VM of every other
// host exactly once. Each switch's VM is a QEMU-protocol
// client on a UNIX listener (a UNIX socket path reaches across namespaces). Bench main
// thread; every namespace, process and directory is removed, even on failure.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeersInfo } from '../src/peer/peer-info.js';
import { runCtl } from '../test/helpers/ctl-process.js';
import { DivesProcess } from '../test/helpers/dives-process.js';
import { ip, NetnsFixture } from '../test/helpers/netns.js';
import { markerFrame } from '../test/helpers/frames.js';
import { QemuClient } from '../test/helpers/qemu-client.js';
import { benchArgs, sleep } from './bench-kit.js';

export const SWITCHES = Number(process.env.DIVES_BENCH_SWITCHES ?? 32);
/** The aim: every switch lists every other within this long. */
export const CONVERGE_AIM_MS = 5000;

export interface PeersFigure {
  switches: number;
  /** From the last switch up to every switch listing all others up (ms); NaN if never within the wait. */
  convergeMs: number;
  /** Up peers each switch listed at the end (the fewest, for a switch that missed some). */
  fewestUpPeers: number;
  /** Copies of the one broadcast each other VM received: all 1 when each host got it once. */
  copies: number[];
  rssMiB: number;
}

interface Host { ns: string; addr: string; dir: string; sw?: DivesProcess; vm?: QemuClient }

/** The LAN: a bridge in its own namespace, and per host a namespace on a veth to it. */
async function lan(fx: NetnsFixture, n: number): Promise<Host[]> {
  const lanNs = await fx.addNs('lan');
  await ip('-n', lanNs, 'link', 'add', 'br0', 'type', 'bridge');
  await ip('-n', lanNs, 'link', 'set', 'br0', 'up');
  const hosts: Host[] = [];
  for (let i = 0; i < n; i++) {
    const [hostEnd, lanEnd] = [fx.ifname(`h${i}`), fx.ifname(`l${i}`)];
    await fx.createVeth(hostEnd, lanEnd);
    await ip('link', 'set', lanEnd, 'netns', lanNs);
    await ip('-n', lanNs, 'link', 'set', lanEnd, 'master', 'br0', 'up');
    const ns = await fx.addNs(`h${i}`);
    const addr = `10.97.0.${i + 1}`;
    await ip('link', 'set', hostEnd, 'netns', ns);
    await ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', hostEnd);
    await ip('-n', ns, 'link', 'set', hostEnd, 'up');
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
    await ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', hostEnd);
    hosts.push({ ns, addr, dir: mkdtempSync(join(tmpdir(), `dvs-p${i}-`)) });
  }
  return hosts;
}

/** The times (ms since the epoch) of the switch's log lines that match `re`, in order. */
function logTimes(h: Host, re: RegExp): number[] {
  return (h.sw?.stderr ?? '')
    .split('\n')
    .filter((l) => re.test(l))
    .map((l) => Date.parse(l.slice(0, 24)))
    .sort((a, b) => a - b);
}

/** When each distinct peer first went up on this switch, in order. */
function firstUps(h: Host): number[] {
  const first = new Map<string, number>();
  for (const l of (h.sw?.stderr ?? '').split('\n')) {
    const m = /peer (\S+) up/.exec(l);
    if (m !== null && !first.has(m[1])) first.set(m[1], Date.parse(l.slice(0, 24)));
  }
  return [...first.values()].sort((a, b) => a - b);
}

async function upPeers(h: Host): Promise<number> {
  const r = await runCtl(['-u', h.dir, '--json', 'show peers']);
  if (r.code !== 0) return 0;
  return (JSON.parse(r.stdout) as PeersInfo).peers.filter((p) => p.state === 'up').length;
}

function rssMiB(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
}

export async function manyPeers(n = SWITCHES): Promise<PeersFigure> {
  const fx = new NetnsFixture();
  let hosts: Host[] = [];
  try {
    hosts = await lan(fx, n);
    for (const h of hosts) {
      const rc = join(h.dir, 'dives.rc');
      writeFileSync(rc, `vlan 10\nlisten unix ${join(h.dir, 'vm.sock')}\n`);
      h.sw = await DivesProcess.start([...benchArgs(), '--no-console', '-h', h.addr, '-u', h.dir, '-c', rc], { netns: h.ns, cwd: h.dir });
      if (!/DiVES switch up/.test(h.sw.stderr)) throw new Error(`dives on ${h.addr} did not start:\n${h.sw.stderr}`);
    }
    const lastUp = Math.max(...hosts.map((h) => logTimes(h, /DiVES switch up/)[0] ?? NaN));
    let convergeMs = NaN;
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(200)) {
      const full = hosts.map(firstUps);
      if (full.every((t) => t.length >= n - 1)) {
        convergeMs = Math.max(...full.map((t) => t[n - 2])) - lastUp;
        break;
      }
    }
    const counts = [];
    for (const h of hosts) counts.push(await upPeers(h));
    for (const h of hosts) h.vm = await QemuClient.connect({ path: join(h.dir, 'vm.sock') });
    // The VMs' ports must exist before the broadcast; a port is made as a VM connects.
    await sleep(1000);
    const marker = 'dives-scale-bcast';
    hosts[0].vm?.send(markerFrame('ff:ff:ff:ff:ff:ff', '02:5c:a1:e0:00:01', marker));
    await sleep(2000);
    const copies = hosts.slice(1).map((h) => h.vm?.frames.filter((f) => f.subarray(14, 14 + marker.length).toString() === marker).length ?? 0);
    return { switches: n, convergeMs, fewestUpPeers: Math.min(...counts), copies, rssMiB: rssMiB(hosts[0].sw?.child.pid) };
  } finally {
    for (const h of hosts) h.vm?.close();
    await Promise.all(hosts.map((h) => h.sw?.stop()));
    await fx.cleanup();
    for (const h of hosts) rmSync(h.dir, { recursive: true, force: true });
  }
}

export function printPeers(p: PeersFigure): void {
  const once = p.copies.filter((c) => c === 1).length;
  const converge = Number.isFinite(p.convergeMs)
    ? `${(p.convergeMs / 1000).toFixed(1)} s after the last switch was up (${(p.convergeMs / CONVERGE_AIM_MS).toFixed(2)}× the ${CONVERGE_AIM_MS / 1000} s aim)`
    : 'not within 30 s of the last switch being up';
  console.log(`  every switch had its ${p.switches - 1} peers up ${converge}; at the end the fewest any listed up was ${p.fewestUpPeers}`);
  console.log(`  one broadcast reached ${once}/${p.copies.length} other hosts exactly once (copies: ${[...new Set(p.copies)].sort().join(', ')}); RSS of one switch ${p.rssMiB.toFixed(0)} MiB`);
}
