// LegacyDives: a stand-in for the original DiVES (Ruby, 2011), written by hand from what
// that switch puts on the wire (docs/wire-protocol.md, "The original DiVES's format") and
// sharing no code with DiVES's own codecs, so a DiVES switch in a test meets what it would
// meet in a mixed cluster. Run as a script (`--legacy-dives OPTIONS`) inside a namespace,
// one process, main thread; LegacyDives.start() runs it from the ava test process.
//
// Like the original it bridges one TAP on one VLAN: it multicasts the raw 16-byte
// sockaddr_in of its unicast socket (family in host order) every second, from that
// socket; parses every datagram on the group as a sockaddr and exits (code 3) on one it
// cannot parse, as the Ruby switch dies of its uncaught exception; knows a peer while its
// announcements come (expiry 5 s), with no keepalives and no static peers; takes
// `4-byte vid + frame` from anyone on its unicast port, reading at most 16 KiB; and sends
// what it reads from its TAP (at most 9000 bytes) to the peer that MAC was learned from,
// or to every peer. What the original would misread — a datagram whose vid is 0 or over
// 4094, or that is too short to hold a frame — is counted as junk, for tests to assert none.

import type { ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { endianness } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { TapDevice, tapRead, tapWrite } from '../../src/tap/tap-device.js';
import { ip, type NetnsFixture } from './netns.js';
import { until } from './until.js';
import { DISCOVERY_PORT, PEER_PORT, type Host, type HostsTopology, type VmSpec } from './two-hosts.js';

const THIS_FILE = fileURLToPath(import.meta.url);
const ANNOUNCE_MS = 1000;
const EXPIRY_MS = 5000;
const TAP_READ_MAX = 9000;
const PEER_READ_MAX = 16384;
const AF_INET = 2;
const AF_INET6 = 10;

export interface LegacyOptions {
  /** -h and -p of the original: its unicast socket, which it announces. */
  host: string;
  port: number;
  /** -m and -d. */
  group: string;
  discoveryPort: number;
  /** The address of the interface it joins the group on. */
  multicastIf: string;
  /** The TAP it bridges (persistent, in its namespace) and the VLAN it puts it in. */
  tap: string;
  vid: number;
}

export interface LegacyStats {
  /** "address:port" of every peer it knows now. */
  peers: string[];
  announcementsIn: number;
  datagramsIn: number;
  /** Frames for its VLAN, written to its TAP, and the longest. */
  framesIn: number;
  largestIn: number;
  /** Datagrams it would misread (vid 0 or over 4094, or no room for a frame), and the first bytes of the last. */
  junk: number;
  lastJunk: string;
  /** Datagrams over the 16 KiB it reads, which it would have cut short. */
  oversized: number;
  /** Frames for a VLAN it does not bridge. */
  otherVlan: number;
  /** Datagrams it sent to peers. */
  framesOut: number;
}

// --- the switch itself (run as a script) ---------------------------------------------

/** struct sockaddr_in as getsockname() gives it: family in this host's order, port and address in network order. */
function sockaddrIn(host: string, port: number): Buffer {
  const sa = Buffer.alloc(16);
  if (endianness() === 'LE') sa.writeUInt16LE(AF_INET, 0);
  else sa.writeUInt16BE(AF_INET, 0);
  sa.writeUInt16BE(port, 2);
  host.split('.').forEach((o, i) => (sa[4 + i] = Number(o)));
  return sa;
}

/** What Ruby's Socket.unpack_sockaddr_in makes of a datagram: "address:port", or null where it raises. */
function unpackSockaddr(msg: Buffer): string | null {
  if (msg.length < 2) return null;
  const family = endianness() === 'LE' ? msg.readUInt16LE(0) : msg.readUInt16BE(0);
  if (family === AF_INET && msg.length === 16) return `${msg[4]}.${msg[5]}.${msg[6]}.${msg[7]}:${msg.readUInt16BE(2)}`;
  if (family === AF_INET6 && msg.length === 28) {
    const groups: string[] = [];
    for (let i = 8; i < 24; i += 2) groups.push(msg.readUInt16BE(i).toString(16));
    return `[${groups.join(':')}]:${msg.readUInt16BE(2)}`;
  }
  return null;
}

/** The original switch: one TAP on one VLAN, its peers known by their announcements. */
class LegacySwitch {
  readonly stats: LegacyStats = { peers: [], announcementsIn: 0, datagramsIn: 0, framesIn: 0, largestIn: 0, junk: 0, lastJunk: '', oversized: 0, otherVlan: 0, framesOut: 0 };
  private readonly peers = new Map<string, { address: string; port: number; lastMs: number }>();
  /** MAC (hex) → the "address:port" of the peer it was learned from. */
  private readonly macs = new Map<string, string>();
  private readonly self: string;
  private readonly tap: TapDevice;
  private readonly uni = dgram.createSocket('udp4');
  private readonly disc = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  private readonly rx = Buffer.alloc(4 + TAP_READ_MAX);

  constructor(private readonly o: LegacyOptions) {
    this.self = `${o.host}:${o.port}`;
    this.tap = TapDevice.open(o.tap, { create: false });
    this.rx.writeUInt32BE(o.vid, 0);
    this.disc.on('message', (msg, rinfo) => this.announcement(msg, `${rinfo.address}:${rinfo.port}`));
    this.uni.on('message', (msg, rinfo) => this.datagram(msg, `${rinfo.address}:${rinfo.port}`));
  }

  /** Bind, join, announce now and every second; `ready` once it listens. */
  start(ready: () => void): void {
    const o = this.o;
    this.uni.bind(o.port, o.host, () => {
      this.uni.setMulticastInterface(o.multicastIf);
      this.uni.setMulticastTTL(1);
      this.disc.bind(o.discoveryPort, o.group, () => {
        this.disc.addMembership(o.group, o.multicastIf);
        this.disc.setMulticastLoopback(true);
        const own = sockaddrIn(o.host, o.port);
        const announce = (): void => void this.uni.send(own, o.discoveryPort, o.group);
        announce();
        setInterval(announce, ANNOUNCE_MS);
        setInterval(() => this.pump(), 2);
        setInterval(() => this.expire(), 250);
        ready();
      });
    });
  }

  /** Every datagram on the group is a sockaddr to it; anything else kills it. */
  private announcement(msg: Buffer, from: string): void {
    const who = unpackSockaddr(msg);
    if (who === null) {
      process.stderr.write(`legacy-dives: cannot parse a ${msg.length}-byte datagram from ${from} on the group as a sockaddr (${msg.subarray(0, 32).toString('hex')}); exiting as the original does\n`);
      process.exit(3);
    }
    this.stats.announcementsIn++;
    if (who === this.self) return;
    const colon = who.lastIndexOf(':');
    if (!this.peers.has(who)) say(`peer up ${who}`);
    this.peers.set(who, { address: who.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(who.slice(colon + 1)), lastMs: Date.now() });
  }

  /** A datagram on its unicast port, from anyone: a vid and a frame, read up to 16 KiB. */
  private datagram(whole: Buffer, from: string): void {
    const s = this.stats;
    s.datagramsIn++;
    if (whole.length > PEER_READ_MAX) s.oversized++;
    const msg = whole.subarray(0, PEER_READ_MAX);
    const vid = msg.length >= 4 ? msg.readUInt32BE(0) : 0;
    if (msg.length < 4 + 14 || vid === 0 || vid > 4094) {
      s.junk++;
      s.lastJunk = msg.subarray(0, 16).toString('hex');
      return;
    }
    if (vid !== this.o.vid) {
      s.otherVlan++;
      return;
    }
    this.macs.set(msg.subarray(10, 16).toString('hex'), from);
    s.framesIn++;
    s.largestIn = Math.max(s.largestIn, msg.length - 4);
    tapWrite(this.tap.fd, msg, 4, msg.length - 4);
  }

  /** Frames from the TAP (at most 9000 bytes each) to the peer their MAC was learned from, or to every peer. */
  private pump(): void {
    for (;;) {
      const n = tapRead(this.tap.fd, this.rx, 4, TAP_READ_MAX);
      if (n <= 0) return;
      const to = this.peers.get(this.macs.get(this.rx.subarray(4, 10).toString('hex')) ?? '');
      for (const p of to !== undefined ? [to] : [...this.peers.values()]) {
        this.uni.send(Buffer.from(this.rx.subarray(0, 4 + n)), p.port, p.address);
        this.stats.framesOut++;
      }
    }
  }

  private expire(): void {
    for (const [k, p] of this.peers) {
      if (Date.now() - p.lastMs <= EXPIRY_MS) continue;
      this.peers.delete(k);
      say(`peer expired ${k}`);
    }
  }

  report(): LegacyStats {
    return { ...this.stats, peers: [...this.peers.keys()].sort() };
  }
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function legacyMain(o: LegacyOptions): void {
  const sw = new LegacySwitch(o);
  sw.start(() => say('legacy-dives up'));
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() === 'stats') say(JSON.stringify({ stats: sw.report() }));
  });
}

if (process.argv[1] === THIS_FILE && process.argv[2] === '--legacy-dives') legacyMain(JSON.parse(process.argv[3] ?? '{}') as LegacyOptions);

// --- the test's side -----------------------------------------------------------------

export class LegacyDives {
  stdout = '';
  stderr = '';
  /** Its exit code once it has ended and all its output is read. */
  readonly exited: Promise<number | null>;
  #alive = true;

  private constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => (this.stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) =>
      child.once('close', (code) => {
        this.#alive = false;
        resolve(code);
      }),
    );
  }

  /**
   * Start one inside namespace `ns` (the fixture's cleanup kills it) and wait until it
   * announces itself; throws with its stderr when it does not.
   */
  static async start(fx: NetnsFixture, ns: string, o: LegacyOptions): Promise<LegacyDives> {
    const l = new LegacyDives(fx.spawnIn(ns, [process.execPath, THIS_FILE, '--legacy-dives', JSON.stringify(o)], { stdio: ['pipe', 'pipe', 'pipe'] }));
    await l.wait(() => /legacy-dives up/.test(l.stdout), 10_000, 'it to start');
    return l;
  }

  /**
   * Run an original on `host` of a HostsTopology in place of a DiVES switch, on the usual
   * ports, bridging one VM's TAP: made in the host, opened by the original, then handed to
   * the VM's namespace, as Host.start does for a DiVES switch.
   */
  static async on(topo: HostsTopology, host: Host, spec: VmSpec): Promise<LegacyDives> {
    const n = topo.vmCount++;
    const tap = topo.fx.ifname(`t${n}`);
    const mac = `02:d1:7e:00:${(0x10 + host.index).toString(16)}:${n.toString(16).padStart(2, '0')}`;
    const ns = await topo.fx.addNs(`v${n}`);
    host.vms.push({ ...spec, ns, tap, mac, addr: spec.cidr.split('/')[0] });
    await ip('-n', host.ns, 'tuntap', 'add', 'dev', tap, 'mode', 'tap');
    await ip('-n', host.ns, 'link', 'set', 'dev', tap, 'address', mac);
    const l = await LegacyDives.start(topo.fx, host.ns, {
      host: host.addr, port: PEER_PORT, group: '239.13.13.13', discoveryPort: DISCOVERY_PORT, multicastIf: host.addr, tap, vid: spec.vid,
    });
    await ip('-n', host.ns, 'link', 'set', 'dev', tap, 'netns', ns);
    await ip('-n', ns, 'addr', 'add', spec.cidr, 'dev', tap);
    await ip('-n', ns, 'link', 'set', 'dev', tap, 'mtu', String(spec.mtu ?? 1454), 'up');
    return l;
  }

  /** Still running: it has not died of a datagram it could not parse. */
  get alive(): boolean {
    return this.#alive;
  }

  async stats(): Promise<LegacyStats> {
    const mark = this.stdout.length;
    this.child.stdin?.write('stats\n');
    let line: string | undefined;
    await this.wait(() => (line = this.stdout.slice(mark).split('\n').find((l) => l.startsWith('{"stats"'))) !== undefined, 5000, 'its stats');
    return (JSON.parse(line as string) as { stats: LegacyStats }).stats;
  }

  async wait(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const output = (): string => `(exit ${this.child.exitCode})\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`;
    // Once it is gone all its output has been read, so until's last look at `cond` is enough.
    await until(cond, timeoutMs, `${what} (legacy-dives)`, { everyMs: 25, detail: output, giveUp: () => (this.#alive ? undefined : `it is gone ${output()}`) });
  }
}
