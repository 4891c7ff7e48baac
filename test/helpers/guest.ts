// Test helper that boots tiny real QEMU guests (TCG, serial console on a pipe) built by
// test/fixtures/guest/build-guest.sh, and waits for the marker lines their /init prints.
// Runs on the test runner's main thread; each guest is a qemu-system-x86_64 child process.

import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { until } from './until.js';

export interface GuestImage {
  kernel: string;
  initrd: string;
}

export interface GuestOptions {
  /** Names the guest in error messages. */
  name: string;
  /** eth0's address in CIDR form, e.g. '10.0.7.1/24'. */
  ip: string;
  /** The address the guest pings; several, comma-separated, are pinged in turn (one marker line each). */
  peer: string;
  /** VLAN subinterfaces to make on eth0 (8021q), e.g. [{ vid: 10, ip: '10.0.10.1/24' }] makes eth0.10. */
  vlans?: { vid: number; ip: string }[];
  /** eth0's MAC, set on QEMU's virtio-net-pci device. */
  mac: string;
  /** The -netdev arguments, e.g. ['-netdev', 'socket,id=n0,connect=127.0.0.1:4000']; the helper adds the device. */
  netdev: string[];
  /** Seconds the guest keeps answering pings after its verdict before it powers off (default 30). */
  staySeconds?: number;
  /** Seconds the guest keeps trying the peer before it prints DIVES-PING-FAIL (default 60). */
  waitSeconds?: number;
  memoryMb?: number;
  /** Kernel and initramfs; defaults to the image ensureGuestImage() built. */
  image?: GuestImage;
}

const QEMU = 'qemu-system-x86_64';
const TAIL_CHARS = 2000;
const KILL_GRACE_MS = 3000;

/** The repository root, found by walking up from this file (it runs from dist/test/helpers). */
function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'test', 'fixtures', 'guest', 'build-guest.sh'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('guest: cannot find test/fixtures/guest/build-guest.sh above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

let built: GuestImage | undefined;
let building: Promise<GuestImage> | undefined;

/** Builds (or takes from the cache) the guest kernel and initramfs; the script runs once per process. */
export function ensureGuestImage(): Promise<GuestImage> {
  building ??= new Promise<GuestImage>((resolve, reject) => {
    const script = path.join(repoRoot(), 'test', 'fixtures', 'guest', 'build-guest.sh');
    const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.on('error', (e) => reject(new Error(`guest: cannot run ${script}: ${e.message}`)));
    child.on('close', (code) => {
      const kernel = /^kernel=(.+)$/m.exec(out)?.[1];
      const initrd = /^initrd=(.+)$/m.exec(out)?.[1];
      if (code === 0 && kernel && initrd) {
        built = { kernel, initrd };
        resolve(built);
      } else {
        reject(new Error(`guest: ${script} exited with ${code}: ${err.trim().slice(-TAIL_CHARS) || 'no message'}`));
      }
    });
  });
  return building;
}

/**
 * Why guests cannot run here, or undefined when they can: builds the image and checks
 * that QEMU starts. Tests skip (or, under CI, fail) with this reason.
 */
export async function guestUnavailableReason(): Promise<string | undefined> {
  const qemu = spawnSync(QEMU, ['--version'], { encoding: 'utf8' });
  if (qemu.error || qemu.status !== 0) {
    return `${QEMU} does not run (${qemu.error?.message ?? qemu.stderr.trim()}); on Debian: apt-get install --no-install-recommends qemu-system-x86`;
  }
  try {
    await ensureGuestImage();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it). */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('guest: no port'))));
    });
  });
}

/**
 * Resolves once something listens on TCP `port` (any local address), read from
 * /proc/net/tcp. Probing with a connect would be taken by QEMU as its one peer, so the
 * listener is observed instead of touched.
 */
export async function waitForListening(port: number, timeoutMs: number): Promise<void> {
  const wanted = ':' + port.toString(16).toUpperCase().padStart(4, '0');
  const listening = async (): Promise<boolean> => {
    const table = await readFile('/proc/net/tcp', 'utf8');
    // f[1] is local_address (hex ip:port), f[3] the state; 0A is LISTEN.
    return table.split('\n').slice(1).some((line) => {
      const f = line.trim().split(/\s+/);
      return f[1]?.endsWith(wanted) === true && f[3] === '0A';
    });
  };
  await until(listening, timeoutMs, `a guest listening on TCP port ${port}`, { everyMs: 50 });
}

interface Waiter {
  pattern: RegExp;
  resolve: (line: string) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** Every guest not yet reaped, so a dying test process still takes its QEMUs with it. */
const live = new Set<ChildProcessWithoutNullStreams>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

export class Guest {
  readonly name: string;
  private readonly child: ChildProcessWithoutNullStreams;
  private out = '';
  private err = '';
  private partial = '';
  private readonly lines: string[] = [];
  private waiters: Waiter[] = [];
  private exitInfo: string | undefined;
  private readonly exited: Promise<number | null>;
  private killing: Promise<void> | undefined;

  private constructor(opts: GuestOptions, image: GuestImage) {
    this.name = opts.name;
    const netdevId = /(?:^|,)id=([^,]+)/.exec(opts.netdev[opts.netdev.indexOf('-netdev') + 1] ?? '')?.[1] ?? 'n0';
    const append = [
      'console=ttyS0',
      'quiet',
      'panic=-1',
      // Under TCG on a loaded host the kernel's IO-APIC timer check can time out
      // and panic ("IO-APIC + timer doesn't work"); the check proves nothing here.
      'no_timer_check',
      `dives.ip=${opts.ip}`,
      `dives.peer=${opts.peer}`,
      `dives.wait=${opts.waitSeconds ?? 60}`,
      `dives.stay=${opts.staySeconds ?? 30}`,
      ...(opts.vlans ?? []).map((v) => `dives.vlan=${v.vid}:${v.ip}`),
    ].join(' ');
    const args = [
      '-accel', 'tcg',
      '-m', String(opts.memoryMb ?? 128),
      '-smp', '1',
      // No default VGA, NIC or monitor: less to emulate, and stdout carries only the serial console.
      '-nodefaults', '-nographic', '-monitor', 'none', '-serial', 'stdio',
      '-no-reboot',
      '-kernel', image.kernel,
      '-initrd', image.initrd,
      '-append', append,
      ...opts.netdev,
      // romfile= skips the iPXE option ROM: the guest never network-boots, and it saves boot time.
      '-device', `virtio-net-pci,netdev=${netdevId},mac=${opts.mac},romfile=`,
    ];
    // stdin stays an open pipe so QEMU's stdio chardev never sees end-of-file.
    this.child = spawn(QEMU, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(this.child);
    installExitHook();
    this.child.stdout.setEncoding('utf8').on('data', (s: string) => this.onOutput(s));
    this.child.stderr.setEncoding('utf8').on('data', (s: string) => (this.err += s));
    this.exited = new Promise((resolve) => {
      this.child.once('error', (e) => {
        this.onExit(`could not start ${QEMU}: ${e.message}`);
        resolve(null);
      });
      this.child.once('close', (code, signal) => {
        this.onExit(`${QEMU} exited (${signal ?? 'code ' + code})`);
        resolve(code);
      });
    });
  }

  static start(opts: GuestOptions): Guest {
    const image = opts.image ?? built;
    if (!image) throw new Error('guest: no image; await ensureGuestImage() before Guest.start()');
    return new Guest(opts, image);
  }

  /** Everything the guest printed on its serial console so far. */
  get console(): string {
    return this.out;
  }

  /** What QEMU itself wrote on stderr (argument errors, refused connections). */
  get stderr(): string {
    return this.err;
  }

  /**
   * Resolves with the first console line (already printed or still to come) that matches
   * `pattern`; rejects with the console tail on timeout or when QEMU exits first.
   */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<string> {
    const seen = this.lines.find((l) => pattern.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.exitInfo) return Promise.reject(this.failure(`${this.exitInfo} before printing ${pattern}`));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        pattern,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(this.failure(`no console line matched ${pattern} within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Resolves with QEMU's exit code once it has exited (null if killed by a signal), or rejects on timeout. */
  waitExit(timeoutMs: number): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.failure(`${QEMU} still running after ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([this.exited, timeout]).finally(() => clearTimeout(timer));
  }

  /** Stops QEMU (SIGTERM, then SIGKILL) and waits for it to be reaped; safe to call twice. */
  kill(): Promise<void> {
    this.killing ??= (async () => {
      if (this.exitInfo === undefined) {
        this.child.kill('SIGTERM');
        const grace = setTimeout(() => this.child.kill('SIGKILL'), KILL_GRACE_MS);
        await this.exited;
        clearTimeout(grace);
      }
    })();
    return this.killing;
  }

  private onOutput(chunk: string): void {
    this.out += chunk;
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    for (const raw of parts) this.onLine(raw.replace(/\r/g, ''));
  }

  private onLine(line: string): void {
    this.lines.push(line);
    for (const w of this.waiters.filter((w) => w.pattern.test(line))) {
      clearTimeout(w.timer);
      this.waiters = this.waiters.filter((x) => x !== w);
      w.resolve(line);
    }
  }

  private onExit(info: string): void {
    if (this.exitInfo !== undefined) return;
    live.delete(this.child);
    if (this.partial) this.onLine(this.partial.replace(/\r/g, ''));
    this.partial = '';
    this.exitInfo = info;
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(this.failure(`${info} before printing ${w.pattern}`));
    }
    this.waiters = [];
  }

  private failure(what: string): Error {
    const tail = this.out.slice(-TAIL_CHARS).replace(/\r/g, '');
    const err = this.err.trim().slice(-TAIL_CHARS);
    return new Error(`guest ${this.name}: ${what}\n--- console tail ---\n${tail}${err ? `\n--- qemu stderr ---\n${err}` : ''}`);
  }
}
