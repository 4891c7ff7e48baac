// The robustness suite's runner proper: started by test/hostile/run-hostile.ts inside the
// switch's network namespace (`ip netns exec`), it builds the rig, runs every scenario in
// order with the checks each gets (the switch alive, `dives ctl show vlans` answered, the
// ping still answered, no thread restarted, its log lines bounded, memory back for the heavy
// ones), takes the run's before/peak/after figures, prints them and exits 1 on any failed
// check. Its own process, main thread; everything it starts it stops.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BOUNDS, FULL, SETTLE, SHORT, scenarioTimeoutMs, type Sizes } from './hostile-config.js';
import { printReport, writeReport, type RunReport, type ScenarioRow } from './report.js';
import { PEER_ADDR, PEER_PORT, Rig, type RigPlan } from './rig.js';
import { ScenarioOut, sleep, type Check, type Scenario } from './scenario.js';
import { controlGarbage } from './scenarios/control-garbage.js';
import { discoveryFlood } from './scenarios/discovery-flood.js';
import { macFlood } from './scenarios/mac-flood.js';
import { nonReadingVms } from './scenarios/non-reading-vms.js';
import { peerDatagrams, strangerDatagrams } from './scenarios/peer-datagrams.js';
import { peerRestart } from './scenarios/peer-restart.js';
import { qemuIdle, qemuLengths } from './scenarios/qemu-streams.js';
import { sigtermUnderTraffic } from './scenarios/sigterm.js';
import { tapDeleted } from './scenarios/tap-deleted.js';

/** In the order they run; the one that ends the switch is last. */
export const SCENARIOS: readonly Scenario[] = [
  strangerDatagrams,
  peerDatagrams,
  discoveryFlood,
  qemuLengths,
  qemuIdle,
  controlGarbage,
  macFlood,
  nonReadingVms,
  peerRestart,
  tapDeleted,
  sigtermUnderTraffic,
];

const say = (line: string): void => void process.stdout.write(`${line}\n`);

/** Connections held at once must fit this process's fd limit (and the switch's, which is the same). */
function fitFdLimit(sizes: Sizes): Sizes {
  const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  const limit = m === null ? Infinity : Number(m[1]);
  const held = sizes.idleConnections + sizes.halfClosedConnections + sizes.silentConnections;
  const room = limit - 1000;
  if (held <= room && sizes.ctlConcurrent <= room) return sizes;
  const f = Math.min(1, room / held);
  say(`hostile: the fd limit is ${limit}; holding ${Math.floor(f * 100)}% of the connections the budget names`);
  return {
    ...sizes,
    idleConnections: Math.floor(sizes.idleConnections * f),
    halfClosedConnections: Math.floor(sizes.halfClosedConnections * f),
    silentConnections: Math.floor(sizes.silentConnections * f),
    ctlConcurrent: Math.min(sizes.ctlConcurrent, room),
  };
}

async function ringBytes(rig: Rig): Promise<number> {
  const r = await rig.ctl<{ rings: { capacity: number }[] }>('show rings');
  return r.rings.reduce((s, x) => s + x.capacity, 0);
}

async function threadRestarts(rig: Rig): Promise<number> {
  const r = await rig.ctl<{ threads: { counters: Record<string, number> }[] }>('show threads');
  return r.threads.reduce((s, t) => s + (t.counters.restarts ?? 0), 0);
}

/** The checks every scenario gets after its settle. */
async function healthChecks(rig: Rig, s: Scenario, out: ScenarioOut, start: { rssKiB: number; restarts: number; lines: number; at: number }): Promise<void> {
  out.check('the switch process is alive', rig.sut.alive(), rig.sut.alive() ? `pid ${rig.sut.pid}` : `exited ${JSON.stringify(rig.sut.exit)}`);
  if (!rig.sut.alive()) return;
  const ctl = await rig.dvCtl(['show', 'vlans']);
  out.check('`dives ctl show vlans` answers', ctl.code === 0 && /^VID/m.test(ctl.stdout), `exit ${ctl.code}${ctl.code === 0 ? '' : `: ${ctl.stderr.trim().slice(0, 200)}`}`);
  const quiet = Date.now() - rig.ping.lastReplyAt;
  out.check('the ping is still answered', rig.ping.running && quiet < 3000, `last reply ${quiet} ms ago`);
  const restarts = (await threadRestarts(rig)) - start.restarts;
  out.check('no thread restarted', restarts === 0, `${restarts} restarts`);
  if (s.downsPeer !== true) {
    // A down that lasts less than a look shows only in the log (unless a limiter kept the line back).
    const downs = rig.peerDownSeen.filter((t) => t >= start.at);
    const expired = rig.sut.linesMatching(new RegExp(`peer ${PEER_ADDR.replace(/\./g, '\\.')}:${PEER_PORT} expired`), start.lines);
    out.check('the static peer stayed up', downs.length === 0 && expired.length === 0, downs.length === 0 && expired.length === 0 ? 'up at every look, no expiry logged' : `seen down at ${downs.length} looks; logged: ${expired[0]?.slice(0, 160) ?? 'nothing'}`);
  }
  const lines = rig.sut.lines - start.lines;
  out.check(`at most ${BOUNDS.logLinesPerScenarioMax} log lines`, lines <= BOUNDS.logLinesPerScenarioMax, `${lines} lines${lines > 0 ? `, e.g. ${JSON.stringify(rig.sut.linesMatching(/./, start.lines)[0]?.slice(0, 160) ?? '')}` : ''}`);
  if (s.memoryHeavy === true) {
    const now = rig.sampler.now().rssKiB;
    const rings = (await ringBytes(rig)) / 1024;
    out.check(`RSS back within ${BOUNDS.rssAfterMaxRatio}x of its start and the live rings`, now <= start.rssKiB * BOUNDS.rssAfterMaxRatio + rings, `${Math.round(now / 1024)} MiB after the settle, ${Math.round(start.rssKiB / 1024)} MiB at the start, ${Math.round(rings / 1024)} MiB of rings`);
  }
}

async function runScenario(rig: Rig, s: Scenario, index: number, total: number, round: number): Promise<{ row: ScenarioRow; checks: Check[] }> {
  const out = new ScenarioOut(rig.plan.rounds > 1 && s.endsSwitch !== true ? `${s.name}#${round}` : s.name);
  const mark = rig.sampler.mark();
  const first = rig.sampler.now();
  const t0 = Date.now();
  const start = { rssKiB: first.rssKiB, restarts: s.endsSwitch === true ? 0 : await threadRestarts(rig), lines: rig.sut.lines, at: t0 };
  say(`hostile: [${index}/${total}] ${out.scenario}: ${s.what}`);
  let timer: NodeJS.Timeout | undefined;
  try {
    const limit = scenarioTimeoutMs(rig.plan.full);
    await Promise.race([s.run(rig, out), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${limit / 1000} s`)), limit)))]);
  } catch (err) {
    out.check('ran to the end', false, err instanceof Error ? err.message : String(err));
  } finally {
    clearTimeout(timer);
  }
  const seconds = (Date.now() - t0) / 1000;
  if (s.endsSwitch !== true) {
    await sleep(SETTLE.scenarioMs);
    await healthChecks(rig, s, out, start).catch((err: unknown) => out.check('the switch answered the health checks', false, err instanceof Error ? err.message : String(err)));
  }
  const end = rig.sampler.now();
  const peak = rig.sampler.peakSince(mark);
  const failed = out.checks.filter((c) => !c.ok);
  const pingsLost = s.endsSwitch === true ? 0 : rig.ping.lostBetween(t0, Date.now()).length;
  say(`hostile:   ${out.inputs} inputs, ${seconds.toFixed(1)} s, ${failed.length === 0 ? 'ok' : `${failed.length} failed: ${failed.map((c) => c.name).join('; ')}`}`);
  const row: ScenarioRow = {
    name: out.scenario, inputs: out.inputs, seconds, logLines: rig.sut.lines - start.lines,
    rssStartKiB: first.rssKiB, rssPeakKiB: peak.rssKiB, rssEndKiB: end.rssKiB,
    fdsStart: first.fds, fdsPeak: peak.fds, fdsEnd: end.fds, pingsLost, figures: out.figures, failed: failed.length,
  };
  return { row, checks: out.checks };
}

function source(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
    return `HEAD ${head}${dirty > 0 ? ` + ${dirty} modified files` : ''}`;
  } catch {
    return 'source unknown';
  }
}

/** The run-level checks: crashes, pings, RSS, fds and threads. */
function runChecks(r: RunReport): Check[] {
  const c = (name: string, ok: boolean, detail: string): Check => ({ scenario: 'run', name, ok, detail });
  const crashes = r.crashes.exits + r.crashes.restarts;
  return [
    c('no crash', crashes <= BOUNDS.crashesMax, `${r.crashes.exits} process exits, ${r.crashes.restarts} thread restarts`),
    c('no ping lost', r.ping.lost <= BOUNDS.pingsLostMax, `${r.ping.lost} of ${r.ping.sent} lost`),
    c(
      `RSS after within ${BOUNDS.rssAfterMaxRatio}x before and the live rings`,
      r.after.rssKiB <= r.before.rssKiB * BOUNDS.rssAfterMaxRatio + r.ringBytes.after / 1024,
      `before ${Math.round(r.before.rssKiB / 1024)} MiB, after ${Math.round(r.after.rssKiB / 1024)} MiB, rings ${Math.round(r.ringBytes.after / 2 ** 20)} MiB`,
    ),
    c('fds back', r.after.fds <= r.before.fds + BOUNDS.fdsAfterSlack, `before ${r.before.fds}, after ${r.after.fds}`),
    c('threads back', r.after.threads <= r.before.threads + BOUNDS.threadsAfterSlack, `before ${r.before.threads}, after ${r.after.threads}`),
  ];
}

async function main(plan: RigPlan): Promise<number> {
  const sizes = fitFdLimit(plan.full ? FULL : SHORT);
  const chosen = SCENARIOS.filter((s) => plan.only === null || plan.only.includes(s.name));
  say(`hostile: seed ${plan.seed} (repeat with --seed ${plan.seed}), ${plan.full ? 'full sizes' : 'short budget'}, ${chosen.length} scenarios${plan.rounds > 1 ? `, ${plan.rounds} rounds` : ''}`);
  const started = Date.now();
  const rig = await Rig.create(plan, sizes);
  let stopping = false;
  const onSignal = (): void => {
    if (stopping) return;
    stopping = true;
    void rig.close().then(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await sleep(SETTLE.warmupMs);
    for (const line of ['show vlans', 'show ports', 'show peers', 'show threads', 'show rings', 'show taps', 'show listeners', 'show running-config']) await rig.ctl(line);
    const before = rig.sampler.now();
    const restarts0 = await threadRestarts(rig);
    const rings = { before: await ringBytes(rig), after: 0 };
    const rows: ScenarioRow[] = [];
    const checks: Check[] = [];
    const body = chosen.filter((s) => s.endsSwitch !== true);
    const last = chosen.filter((s) => s.endsSwitch === true);
    const total = body.length * plan.rounds + last.length;
    for (let round = 1; round <= plan.rounds; round++) {
      for (const [i, s] of body.entries()) {
        const r = await runScenario(rig, s, (round - 1) * body.length + i + 1, total, round);
        rows.push(r.row);
        checks.push(...r.checks);
      }
    }
    await sleep(SETTLE.finalMs);
    const after = rig.sampler.now();
    const exits = rig.sut.alive() ? 0 : 1;
    const restarts = rig.sut.alive() ? (await threadRestarts(rig)) - restarts0 : 0;
    rings.after = rig.sut.alive() ? await ringBytes(rig) : 0;
    const ping = await rig.ping.stop();
    for (const [i, s] of last.entries()) {
      const r = await runScenario(rig, s, body.length * plan.rounds + i + 1, total, 1);
      rows.push(r.row);
      checks.push(...r.checks);
    }
    const report: RunReport = {
      seed: plan.seed, budget: plan.full ? 'full' : 'short', started: new Date(started).toISOString(), node: process.version, source: source(),
      seconds: (Date.now() - started) / 1000, rows, before, peak: rig.sampler.peakSince(0), after, ping,
      crashes: { exits, restarts }, ringBytes: rings, checks,
    };
    report.checks.push(...runChecks(report));
    const failed = printReport(report, say);
    say(`hostile: figures in ${writeReport(report, plan.resultsDir, plan.stamp)}, the switch's log beside them`);
    say(failed === 0 ? 'hostile: PASS' : `hostile: FAIL (${failed} checks failed)`);
    return failed === 0 ? 0 : 1;
  } finally {
    await rig.close();
  }
}

// Run only as a program: run-hostile.ts imports SCENARIOS from here for their names.
const arg = process.argv[2];
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (arg === undefined) throw new Error('run-inside.js is started by run-hostile.js (npm run test:hostile)');
  const plan = JSON.parse(Buffer.from(arg, 'base64').toString('utf8')) as RigPlan;
  main(plan).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      say(`hostile: the run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exitCode = 1;
    },
  );
}
