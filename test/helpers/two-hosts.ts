// HostsTopology: two or three "hosts" for multi-host tests, each a network namespace
// running its own `dives start`, joined by a veth underlay (through a bridge in one
// more namespace when there are three) with addresses and a multicast route, and
// behind each switch one or more "VMs": namespaces holding a TAP the switch attached.
// Test code, main thread of the ava worker; everything it makes dies with its NetnsFixture.
//
// A TAP is created (persistent, with a fixed MAC) inside its host's namespace, the
// switch attaches it from its rc file, and only then is it moved into the VM's
// namespace and addressed, because a switch can open a TAP only in its own namespace.
// restart() does the same again after a kill, with the same MAC, so the other VMs'
// ARP caches stay right.

import type { ExecutionContext } from 'ava';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DivesProcess } from './dives-process.js';
import { ip, type NetnsFixture } from './netns.js';
import { until, untilValue } from './until.js';
import { BCAST, SENTINEL, frame } from './frames.js';
import { sendRawFrames } from './raw-frames.js';
import type { PeersInfo } from '../../src/control/switch-api.js';

export const PEER_PORT = 3333;
export const DISCOVERY_PORT = 3535;

export interface VmSpec {
  /** Short name, unique in the topology: 'a', 'b20'. */
  name: string;
  vid: number;
  /** Address with prefix, '10.98.10.1/24'. */
  cidr: string;
  /** Interface MTU inside the VM (default 1454: a full frame then fits a 1500-byte underlay). */
  mtu?: number;
}

export interface Vm extends VmSpec {
  ns: string;
  tap: string;
  mac: string;
  addr: string;
}

export class Host {
  dives: DivesProcess | null = null;
  readonly vms: Vm[] = [];
  private extraArgs: string[] = [];
  private rcLines: string[] = [];

  constructor(
    private readonly topo: HostsTopology,
    readonly index: number,
    /** The host namespace. */
    readonly ns: string,
    /** Its underlay interface and address. */
    readonly dev: string,
    readonly addr: string,
    /** -u directory for this host's switch. */
    readonly dir: string,
  ) {}

  vm(name: string): Vm {
    const v = this.vms.find((x) => x.name === name);
    if (v === undefined) throw new Error(`host ${this.index} has no VM ${name}`);
    return v;
  }

  /**
   * Start this host's switch with its VMs' TAPs attached, then hand the TAPs to the VMs.
   * `args` are extra `dives start` flags; `rc` extra rc lines (e.g. `peer HOST PORT`).
   */
  async start(vms: VmSpec[], opts: { args?: string[]; rc?: string[] } = {}): Promise<DivesProcess> {
    for (const spec of vms) {
      const n = this.topo.vmCount++;
      const tap = this.topo.fx.ifname(`t${n}`);
      const mac = `02:d1:7e:00:${(0x10 + this.index).toString(16)}:${n.toString(16).padStart(2, '0')}`;
      const ns = await this.topo.fx.addNs(`v${n}`);
      this.vms.push({ ...spec, ns, tap, mac, addr: spec.cidr.split('/')[0] });
    }
    this.extraArgs = opts.args ?? [];
    this.rcLines = opts.rc ?? [];
    return this.launch();
  }

  /** Start the switch again after a kill: the TAPs are made anew in the host with the same MACs. */
  async restart(): Promise<DivesProcess> {
    for (const v of this.vms) await ip('-n', v.ns, 'link', 'del', v.tap).catch(() => undefined);
    return this.launch();
  }

  private async launch(): Promise<DivesProcess> {
    const rc: string[] = [];
    for (const v of this.vms) {
      await ip('-n', this.ns, 'tuntap', 'add', 'dev', v.tap, 'mode', 'tap');
      await ip('-n', this.ns, 'link', 'set', 'dev', v.tap, 'address', v.mac);
      rc.push(`vlan ${v.vid} tap ${v.tap}`);
    }
    rc.push(...this.rcLines);
    const rcFile = join(this.dir, 'dives.rc');
    writeFileSync(rcFile, `${rc.join('\n')}\n`);
    const args = ['-h', this.addr, '-p', String(PEER_PORT), '-d', String(DISCOVERY_PORT), '-u', this.dir, '-c', rcFile, ...this.extraArgs];
    const p = await DivesProcess.start(args, { netns: this.ns, cwd: this.dir });
    this.dives = p;
    this.topo.t.teardown(() => p.stop('SIGKILL'));
    if (!/DiVES switch up/.test(p.stderr)) throw new Error(`the switch of host ${this.index} did not start:\n${p.stderr}`);
    for (const v of this.vms) {
      await ip('-n', this.ns, 'link', 'set', 'dev', v.tap, 'netns', v.ns);
      await ip('-n', v.ns, 'addr', 'add', v.cidr, 'dev', v.tap);
      await ip('-n', v.ns, 'link', 'set', 'dev', v.tap, 'mtu', String(v.mtu ?? 1454), 'up');
    }
    return p;
  }

  /** Run a console command on this host's switch and return its JSON reply. */
  async json<T>(line: string): Promise<T> {
    const p = this.dives;
    if (p === null) throw new Error(`host ${this.index} runs no switch`);
    const reply = await p.command(`json ${line}`, /^[{[].*\n/m);
    const text = reply.split('\n').find((l) => /^[{[]/.test(l.replace(/^dives[^>]*> /, '')));
    if (text === undefined) throw new Error(`no JSON in reply to ${line}: ${reply}`);
    return JSON.parse(text.replace(/^dives[^>]*> /, '')) as T;
  }
}

/** `show peers` on h's switch. */
export const peers = (h: Host): Promise<PeersInfo> => h.json<PeersInfo>('show peers');

/** Poll `show peers` on `h` until `ok` holds; returns the last answer. */
export async function waitPeers(h: Host, ok: (p: PeersInfo) => boolean, timeoutMs: number, what: string): Promise<PeersInfo> {
  return untilValue(() => peers(h), ok, timeoutMs, `${what} on host ${h.index + 1}`, { everyMs: 50 });
}

/** The address other switches know h's switch by. */
export const key = (h: Host): string => `${h.addr}:${PEER_PORT}`;
/** `show peers` lists the peer `k` up. */
export const up = (k: string) => (p: PeersInfo): boolean => p.peers.some((x) => x.address === k && x.state === 'up');

export class HostsTopology {
  readonly hosts: Host[] = [];
  vmCount = 0;

  private constructor(
    readonly t: ExecutionContext,
    readonly fx: NetnsFixture,
  ) {}

  /**
   * `count` host namespaces on the underlay 10.99.0.0/24 (host i is 10.99.0.i+1), each
   * with a route for 224.0.0.0/4 on its underlay link. Two hosts share a veth pair;
   * three meet on a bridge (multicast snooping off) in a namespace of its own.
   */
  static async create(t: ExecutionContext, fx: NetnsFixture, count: 2 | 3, opts: { underlayMtu?: number } = {}): Promise<HostsTopology> {
    const topo = new HostsTopology(t, fx);
    const mtu = String(opts.underlayMtu ?? 1500);
    let bridgeNs: string | null = null;
    if (count === 3) {
      bridgeNs = await fx.addNs('br');
      await ip('-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0');
      await ip('-n', bridgeNs, 'link', 'set', 'br0', 'up');
    }
    const hostNs: string[] = [];
    for (let i = 0; i < count; i++) hostNs.push(await fx.addNs(`h${i + 1}`));
    const devs: string[] = [];
    if (bridgeNs === null) {
      const [a, b] = [fx.ifname('u1'), fx.ifname('u2')];
      await fx.createVeth(a, b);
      devs.push(a, b);
    } else {
      for (let i = 0; i < count; i++) {
        const [h, s] = [fx.ifname(`u${i + 1}`), fx.ifname(`s${i + 1}`)];
        await fx.createVeth(h, s);
        await ip('link', 'set', s, 'netns', bridgeNs);
        await ip('-n', bridgeNs, 'link', 'set', s, 'master', 'br0', 'mtu', mtu, 'up');
        devs.push(h);
      }
    }
    for (let i = 0; i < count; i++) {
      const ns = hostNs[i];
      const addr = `10.99.0.${i + 1}`;
      await ip('link', 'set', devs[i], 'netns', ns);
      await ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', devs[i]);
      await ip('-n', ns, 'link', 'set', devs[i], 'mtu', mtu, 'up');
      await ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', devs[i]);
      const dir = mkdtempSync(join(tmpdir(), `dvh${i + 1}-`));
      t.teardown(() => rmSync(dir, { recursive: true, force: true }));
      topo.hosts.push(new Host(topo, i, ns, devs[i], addr, dir));
    }
    return topo;
  }
}

/**
 * A tcpdump of inbound frames on `dev` in `ns` matching `filter`; `lines` holds one
 * line per frame. Resolves once tcpdump is listening. Killed by the fixture's cleanup.
 */
export async function capture(fx: NetnsFixture, ns: string, dev: string, filter: string): Promise<{ lines: () => string[]; proc: ChildProcess }> {
  const proc = fx.spawnIn(ns, ['tcpdump', '-i', dev, '-n', '-l', '-Q', 'in', '-e', filter], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  await until(() => /listening on/.test(err), 5000, `tcpdump in ${ns} to start`, { detail: () => err, giveUp: () => (proc.exitCode !== null ? `it exited (${proc.exitCode}): ${err}` : undefined) });
  return { lines: () => out.split('\n').filter((l) => l.trim() !== ''), proc };
}

/**
 * A capture's lines without the frames from `mac`: each frame is its header line (tcpdump
 * -e names the source MAC first) and the hex lines tcpdump prints after it.
 */
export function linesWithout(lines: string[], mac: string): string[] {
  const out: string[] = [];
  let skipping = false;
  for (const l of lines) {
    if (!/^\s/.test(l)) skipping = l.includes(` ${mac} > `);
    if (!skipping) out.push(l);
  }
  return out;
}

/**
 * Put a sentinel (SENTINEL in test/helpers/frames.ts, the experimental ethertype, broadcast)
 * on `from`'s TAP in its namespace, so that `from`'s switch takes it, and wait until `cap`
 * (whose filter lets it through) shows it; sent again each poll in case a copy is dropped.
 * The caller says why it follows the frames it stands for; linesWithout(lines, from.mac)
 * leaves it out of what the test checks.
 */
export async function tapSentinel(fx: NetnsFixture, from: Vm, cap: { lines: () => string[] }, timeoutMs = 5000): Promise<void> {
  const f = frame({ dst: BCAST, src: from.mac, payload: SENTINEL });
  let sent = false;
  await until(async () => {
    if (sent && cap.lines().some((l) => l.includes(` ${from.mac} > `))) return true;
    await sendRawFrames(fx, from.ns, from.tap, [f]);
    sent = true;
    return false;
  }, timeoutMs, `a sentinel from ${from.name} in the capture`, { everyMs: 100, detail: () => cap.lines().join('\n') });
}

/** Send UDP datagrams from inside `ns` (a VM or a host), with Node, as a script argument. */
export async function sendUdp(
  fx: NetnsFixture,
  ns: string,
  opts: { to: string; port: number; payloadHex: string; count?: number; broadcast?: boolean; bind?: { address: string; port: number } },
): Promise<void> {
  const script = `
    const dgram = require('node:dgram');
    const o = JSON.parse(process.argv[1]);
    const s = dgram.createSocket('udp4');
    s.bind(o.bind ?? 0, async () => {
      if (o.broadcast) s.setBroadcast(true);
      const msg = Buffer.from(o.payloadHex, 'hex');
      for (let i = 0; i < (o.count ?? 1); i++) await new Promise((r) => s.send(msg, o.port, o.to, r));
      s.close();
    });`;
  const r = await fx.exec(ns, [process.execPath, '-e', script, JSON.stringify(opts)], { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`sending UDP from ${ns}: ${r.stderr}`);
}
