// Helpers for the control-socket tests: a real `dives start` in its own temp
// directory that does not collide with other switches (own UDP port, no discovery),
// `dives ctl` run as a real process, and a free UDP port. Test code, ava's main thread.

import type { ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Start from '../../src/commands/start.js';
import { DivesProcess } from './dives-process.js';
import { until } from './until.js';

export const BIN = fileURLToPath(new URL('../../../bin/run.js', import.meta.url));

/** A fresh directory removed after the test; short, because it holds UNIX sockets (107 bytes at most). */
export function tempDir(t: ExecutionContext, prefix = 'dvs-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A UDP port nothing is bound to right now. */
export async function freeUdpPort(): Promise<number> {
  const sock = createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const { port } = sock.address();
  await new Promise<void>((resolve) => sock.close(resolve));
  return port;
}

/**
 * Flags that keep a test switch to itself: its own unicast and discovery ports,
 * and no discovery at all where this build has the flag, so switches of
 * concurrent tests never peer with each other.
 */
export async function isolationArgs(): Promise<string[]> {
  const args = ['-p', String(await freeUdpPort()), '-d', String(await freeUdpPort())];
  if ('no-discovery' in Start.flags) args.push('--no-discovery');
  return args;
}

/** `dives start -u dir` with isolation flags, stopped (SIGKILL at the latest) when the test ends. */
export async function startSwitch(t: ExecutionContext, dir: string, extra: string[] = []): Promise<DivesProcess> {
  mkdirSync(dir, { recursive: true });
  const p = await DivesProcess.start(['-u', dir, ...(await isolationArgs()), ...extra], { cwd: dir });
  t.teardown(() => p.stop('SIGKILL'));
  if (!/DiVES switch up/.test(p.stderr)) throw new Error(`the switch did not start:\n${p.stderr}`);
  return p;
}

export interface CtlRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `dives ctl ARGS` as a person would, optionally with text on its stdin. */
export function runCtl(args: string[], opts: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CtlRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'ctl', ...args], {
      cwd: opts.cwd,
      env: { ...process.env, DIVES_HISTORY: '', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** A `dives ctl` that keeps running (`monitor`): its stdout as lines so far, and how it ended. */
export interface CtlStream {
  readonly lines: string[];
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
  /** Wait until `enough(lines)`; fails after `timeoutMs` with what came. */
  until(enough: (lines: string[]) => boolean, timeoutMs?: number): Promise<void>;
  /** Send `signal` (SIGINT: Ctrl-C) and wait for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Run `dives ctl ARGS` that streams, killed when the test ends if it still runs. */
export function startCtlStream(t: ExecutionContext, args: string[]): CtlStream {
  const child = spawn(process.execPath, [BIN, 'ctl', ...args], { env: { ...process.env, DIVES_HISTORY: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    const parts = (partial + d).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(() => void child.kill('SIGKILL'));
  return {
    lines,
    stderr: () => stderr,
    exited,
    async until(enough, timeoutMs = 10_000) {
      await until(() => enough(lines), timeoutMs, `enough lines from dives ctl ${args.join(' ')}`, {
        detail: () => `stdout:\n${lines.join('\n')}\nstderr:\n${stderr}`,
        giveUp: () => (child.exitCode !== null ? `it exited (${child.exitCode})\nstdout:\n${lines.join('\n')}\nstderr:\n${stderr}` : undefined),
      });
    },
    async stop(signal = 'SIGINT') {
      child.kill(signal);
      return exited;
    },
  };
}
