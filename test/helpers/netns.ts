// NetnsFixture: creates real network namespaces, TAPs and veths for one test with `ip`
// (execFile, no shell) and always removes them; sweepStale() removes what a crashed run
// left. Runs in the ava test process (main thread). Run as a script (`--dvt-ping`) it is
// also the ICMP echo client that ping() starts inside a namespace (no iputils needed).
//
// Names: every fixture has an id, the prefix plus 4 random base-36 characters ('dvtk3x9').
// Interfaces are id + a short suffix (at most 15 bytes, the kernel's limit), namespaces
// are id-suffix. A fixture writes <tmpdir>/dives-test-fixtures/<id> holding its pid before
// it creates anything, so sweepStale() can tell a live fixture of a concurrently running
// test file (leave it) from a crashed one (delete it). The 'dvt' prefix is reserved for this.

import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AF_INET, IPPROTO_ICMP, SOCK_CLOEXEC, SOCK_RAW, loadLibc, describeErrno, LITTLE_ENDIAN,
} from '../../src/linux/libc.js';
import { checksum } from './frames.js';

export const NETNS_PREFIX = 'dvt';
const ID_CHARS = 4;
const IFNAME_MAX = 15;
const REGISTRY = join(tmpdir(), 'dives-test-fixtures');
const THIS_FILE = fileURLToPath(import.meta.url);

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit code; -1 when the command could not start, was killed or timed out. */
  code: number;
}

/** Runs a command without a shell; never rejects. */
export function run(file: string, args: string[], opts: { timeoutMs?: number } = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: 'utf8', timeout: opts.timeoutMs ?? 30_000, killSignal: 'SIGKILL', maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        if (err === null) return resolve({ stdout, stderr, code: 0 });
        const code = typeof err.code === 'number' ? err.code : -1;
        resolve({ stdout, stderr: stderr === '' ? err.message : stderr, code });
      });
  });
}

/** Runs `ip ARGS`; rejects with ip's own complaint when it fails. */
export async function ip(...args: string[]): Promise<string> {
  const r = await run('ip', args);
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class NetnsFixture {
  readonly id: string;
  #namespaces: string[] = [];
  #links: string[] = [];
  #children = new Set<ChildProcess>();

  constructor(prefix: string = NETNS_PREFIX) {
    const n = randomBytes(4).readUInt32LE(0) % 36 ** ID_CHARS;
    this.id = prefix + n.toString(36).padStart(ID_CHARS, '0');
    mkdirSync(REGISTRY, { recursive: true });
    writeFileSync(join(REGISTRY, this.id), `${process.pid}\n`);
  }

  /** A unique interface name: the fixture id plus `short`; throws past 15 bytes. */
  ifname(short: string): string {
    const name = this.id + short;
    if (Buffer.byteLength(name) > IFNAME_MAX) throw new Error(`interface name ${name} is longer than ${IFNAME_MAX} bytes`);
    return name;
  }

  /** `ip netns add`, with lo up; returns the namespace name. */
  async addNs(short: string): Promise<string> {
    const ns = `${this.id}-${short}`;
    this.#namespaces.push(ns);
    await ip('netns', 'add', ns);
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
    return ns;
  }

  /** A persistent TAP in the root namespace (`ip tuntap add NAME mode tap [user U]`). */
  async createTap(name: string, opts: { user?: string | number; mode?: 'tap' | 'tun'; multiQueue?: boolean } = {}): Promise<void> {
    this.#links.push(name);
    const args = ['tuntap', 'add', name, 'mode', opts.mode ?? 'tap'];
    if (opts.user !== undefined) args.push('user', String(opts.user));
    if (opts.multiQueue === true) args.push('multi_queue');
    await ip(...args);
  }

  /** A veth pair in the root namespace. */
  async createVeth(a: string, b: string): Promise<void> {
    this.#links.push(a, b);
    await ip('link', 'add', a, 'type', 'veth', 'peer', 'name', b);
  }

  /** Remembers a link created by other means so cleanup() deletes it. */
  trackLink(name: string): void {
    this.#links.push(name);
  }

  /** Moves a root-namespace link into `ns`, optionally adds an address, and brings it up. */
  async moveToNs(ifname: string, ns: string, cidr?: string): Promise<void> {
    await ip('link', 'set', ifname, 'netns', ns);
    if (cidr !== undefined) await ip('-n', ns, 'addr', 'add', cidr, 'dev', ifname);
    await ip('-n', ns, 'link', 'set', ifname, 'up');
  }

  /** Runs `cmd` inside `ns`; resolves with its exit code rather than rejecting. */
  exec(ns: string, cmd: string[], opts: { timeoutMs?: number } = {}): Promise<ExecResult> {
    return run('ip', ['netns', 'exec', ns, ...cmd], opts);
  }

  /**
   * Sends ICMP echo requests from `ns` to `addr`, up to `count` of them, each waiting
   * `timeoutS` seconds for its reply; true as soon as one is answered. Uses this file as
   * a small raw-socket client, so it needs no `ping` binary.
   */
  async ping(ns: string, addr: string, opts: { count?: number; timeoutS?: number } = {}): Promise<boolean> {
    const count = opts.count ?? 3;
    const timeoutS = opts.timeoutS ?? 1;
    const r = await this.exec(ns, [process.execPath, THIS_FILE, '--dvt-ping', addr, String(count), String(timeoutS)],
      { timeoutMs: (count * timeoutS + 10) * 1000 });
    return r.code === 0;
  }

  /** Starts `cmd` inside `ns`; cleanup() kills it. stdio defaults to 'ignore'. */
  spawnIn(ns: string, cmd: string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: 'ignore', ...opts });
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
    child.once('error', () => this.#children.delete(child));
    return child;
  }

  /**
   * Kills spawned processes, then deletes the namespaces (which deletes the virtual links
   * inside them) and the links left in the root namespace. Never throws; idempotent.
   */
  async cleanup(): Promise<void> {
    const children = [...this.#children];
    this.#children.clear();
    await Promise.all(children.map(killAndWait));
    const namespaces = this.#namespaces.splice(0);
    const links = this.#links.splice(0);
    for (const ns of namespaces) await run('ip', ['netns', 'del', ns]);
    for (const link of links) await run('ip', ['link', 'del', link]);
    rmSync(join(REGISTRY, this.id), { force: true });
  }
}

function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 2000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGKILL');
  });
}

/**
 * Deletes namespaces and root-namespace links named `prefix`* whose fixture is not alive
 * (no registry file, or its pid is gone). Returns what it deleted. Never throws.
 */
export async function sweepStale(prefix: string = NETNS_PREFIX): Promise<string[]> {
  const idLen = prefix.length + ID_CHARS;
  const liveIds = new Set<string>();
  let files: string[] = [];
  try {
    files = readdirSync(REGISTRY);
  } catch {
    // No registry yet: no fixture ever ran here, so nothing with the prefix is live.
  }
  for (const id of files) {
    if (!id.startsWith(prefix)) continue;
    let pid: number;
    try {
      pid = Number.parseInt(readFileSync(join(REGISTRY, id), 'utf8'), 10);
    } catch {
      continue;
    }
    if (pid > 0 && alive(pid)) liveIds.add(id);
    else rmSync(join(REGISTRY, id), { force: true });
  }
  const stale = (name: string): boolean => name.startsWith(prefix) && !liveIds.has(name.slice(0, idLen));
  const deleted: string[] = [];
  const list = await run('ip', ['netns', 'list']);
  for (const line of list.stdout.split('\n')) {
    const ns = line.split(' ')[0] ?? '';
    if (ns !== '' && stale(ns) && (await run('ip', ['netns', 'del', ns])).code === 0) deleted.push(ns);
  }
  let links: string[] = [];
  try {
    links = readdirSync('/sys/class/net');
  } catch {
    // No sysfs: nothing to sweep.
  }
  for (const link of links) {
    if (stale(link) && (await run('ip', ['link', 'del', link])).code === 0) deleted.push(link);
  }
  return deleted;
}

// --- the ICMP echo client ping() runs inside a namespace --------------------------------

/** Exit code 0 when one of `count` echo requests to addr is answered, 1 when none is, 2 on error. */
function pingMain(addr: string, count: number, timeoutS: number): number {
  const c = loadLibc();
  const octets = addr.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !(o >= 0 && o <= 255))) {
    process.stderr.write(`ping: ${addr} is not an IPv4 address\n`);
    return 2;
  }
  const s = c.socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
  if (s < 0) {
    process.stderr.write(`ping: socket: ${describeErrno(c.errno())}\n`);
    return 2;
  }
  try {
    // struct sockaddr_in: family (native order), port (0 for raw ICMP), address, zero pad.
    const sa = Buffer.alloc(16);
    if (LITTLE_ENDIAN) sa.writeUInt16LE(AF_INET, 0);
    else sa.writeUInt16BE(AF_INET, 0);
    sa.set(octets, 4);
    // connect() makes the raw socket receive only from addr.
    if (c.connect(s, sa, sa.length) < 0) {
      process.stderr.write(`ping: connect: ${describeErrno(c.errno())}\n`);
      return 2;
    }
    const id = process.pid & 0xffff;
    const req = Buffer.alloc(64);
    const rx = Buffer.alloc(2048);
    const pfd = new Int32Array(2);
    const pshort = new Int16Array(pfd.buffer);
    for (let seq = 1; seq <= count; seq++) {
      req.fill(0);
      req[0] = 8; // echo request
      req.writeUInt16BE(id, 4);
      req.writeUInt16BE(seq, 6);
      req.write('dives-netns-ping', 8);
      req.writeUInt16BE(checksum(req, 0, req.length), 2);
      if (c.write(s, req, req.length) < 0) {
        process.stderr.write(`ping: send: ${describeErrno(c.errno())}\n`);
        continue;
      }
      const deadline = Date.now() + timeoutS * 1000;
      for (let left = timeoutS * 1000; left > 0; left = deadline - Date.now()) {
        pfd[0] = s;
        pshort[2] = 1; // POLLIN
        if (c.poll(pfd, 1, Math.ceil(left)) <= 0) continue;
        const n = c.read(s, rx, rx.length);
        if (n < 28) continue;
        const ihl = (rx[0]! & 0x0f) * 4;
        if (n >= ihl + 8 && rx[ihl] === 0 && rx.readUInt16BE(ihl + 4) === id && rx.readUInt16BE(ihl + 6) === seq) return 0;
      }
    }
    return 1;
  } finally {
    c.close(s);
  }
}

if (process.argv[1] === THIS_FILE && process.argv[2] === '--dvt-ping') {
  process.exitCode = pingMain(process.argv[3] ?? '', Number(process.argv[4] ?? 3), Number(process.argv[5] ?? 1));
}
