// `npm run test:hostile`: the robustness suite (docs/operations.md, "Robustness suite"). This
// entry point parses the flags, makes the network namespaces (the switch's, its peer's, two
// VMs') and the veth between the switches, runs test/hostile/run-inside.ts inside the
// switch's namespace, and removes everything afterwards, whatever happened to that run. Run by
// npm (and by .ci/run with the short budget); its own process, main thread.
//
//   npm run test:hostile                      the short budget (about a minute on two cores)
//   npm run test:hostile -- --full            the full sizes (several minutes)
//   npm run test:hostile -- --seed 1234       repeat a run's inputs (the seed is printed)
//   npm run test:hostile -- --only qemu-idle,mac-flood
//   npm run test:hostile -- --rounds 3       the scenarios three times over one switch (leak hunting)

import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetnsFixture, ip, run } from '../helpers/netns.js';
import type { RigPlan } from './rig.js';
import { PEER_ADDR, SW_ADDR } from './rig.js';
import { SCENARIOS } from './run-inside.js';

const INSIDE = fileURLToPath(new URL('./run-inside.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const say = (line: string): void => void process.stdout.write(`${line}\n`);
const SCENARIO_NAMES = SCENARIOS.map((s) => s.name);

interface Flags {
  full: boolean;
  seed: number;
  only: string[] | null;
  rounds: number;
}

const USAGE = `usage: npm run test:hostile -- [--full] [--seed N] [--only NAME,NAME...] [--rounds N]
  --full        the full sizes instead of the short budget .ci/run uses
  --seed N      the seed of every random input (printed by each run), to repeat one
  --only NAMES  run only these scenarios: ${SCENARIO_NAMES.join(', ')}
  --rounds N    run the scenarios N times over the same switch (SIGTERM only at the end): a leak grows each round`;

function parseFlags(argv: string[]): Flags {
  const flags: Flags = { full: false, seed: randomInt(1, 2 ** 31 - 1), only: null, rounds: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--full') flags.full = true;
    else if (a === '--seed' && /^\d+$/.test(argv[i + 1] ?? '')) flags.seed = Number(argv[++i]);
    else if (a === '--only' && argv[i + 1] !== undefined) flags.only = argv[++i].split(',');
    else if (a === '--rounds' && /^[1-9]\d*$/.test(argv[i + 1] ?? '')) flags.rounds = Number(argv[++i]);
    else throw new Error(`unknown or incomplete flag ${a}\n${USAGE}`);
  }
  const unknown = (flags.only ?? []).filter((n) => !SCENARIO_NAMES.includes(n));
  if (unknown.length > 0) throw new Error(`no scenario ${unknown.join(', ')}\n${USAGE}`);
  return flags;
}

/** The namespaces and the underlay: the switch and its peer on a veth, 10.77.0.0/24, multicast routed on it. */
async function makeNetwork(fx: NetnsFixture): Promise<Pick<RigPlan, 'nsSwitch' | 'nsPeer' | 'nsVmA' | 'nsVmB'>> {
  const nsSwitch = await fx.addNs('s');
  const nsPeer = await fx.addNs('p');
  const nsVmA = await fx.addNs('a');
  const nsVmB = await fx.addNs('b');
  const [u1, u2] = [fx.ifname('u1'), fx.ifname('u2')];
  await fx.createVeth(u1, u2);
  await fx.moveToNs(u1, nsSwitch, `${SW_ADDR}/24`);
  await fx.moveToNs(u2, nsPeer, `${PEER_ADDR}/24`);
  await ip('-n', nsSwitch, 'route', 'add', '224.0.0.0/4', 'dev', u1);
  return { nsSwitch, nsPeer, nsVmA, nsVmB };
}

/** Every process still in one of our namespaces was started by this run: end each by its pid. */
async function killLeftovers(namespaces: string[]): Promise<void> {
  for (const ns of namespaces) {
    const r = await run('ip', ['netns', 'pids', ns]);
    for (const pid of r.stdout.split('\n').filter(Boolean).map(Number)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
  }
}

function runInside(ns: string, plan: RigPlan): Promise<number> {
  return new Promise((resolve) => {
    const arg = Buffer.from(JSON.stringify(plan)).toString('base64');
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, INSIDE, arg], { stdio: 'inherit', cwd: ROOT });
    let signals = 0;
    const forward = (sig: NodeJS.Signals): void => {
      // The runner got the terminal's signal too and stops what it started; a second one ends it.
      if (++signals > 1) child.kill('SIGKILL');
      else if (sig !== 'SIGINT') child.kill(sig);
    };
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.once('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal === null ? 1 : 128));
    });
  });
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    say(USAGE);
    return 0;
  }
  const flags = parseFlags(argv);
  // Not test/helpers/privileged.ts: that module is ava's, and ava refuses to be loaded outside its CLI.
  if (process.getuid?.() !== 0) throw new Error('npm run test:hostile makes network namespaces, TAPs and raw sockets: run it as root');
  if ((await run('ip', ['-V'])).code !== 0) throw new Error('npm run test:hostile needs the `ip` tool (iproute2; npm run setup installs it)');
  const fx = new NetnsFixture();
  const dir = mkdtempSync(join(tmpdir(), 'dvh-'));
  const resultsDir = join(ROOT, '.hostile-results');
  mkdirSync(resultsDir, { recursive: true });
  let namespaces: string[] = [];
  try {
    const net = await makeNetwork(fx);
    namespaces = [net.nsSwitch, net.nsPeer, net.nsVmA, net.nsVmB];
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    return await runInside(net.nsSwitch, { ...flags, ...net, id: fx.id, dir, resultsDir, stamp });
  } finally {
    await killLeftovers(namespaces);
    await fx.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    say(`hostile: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
