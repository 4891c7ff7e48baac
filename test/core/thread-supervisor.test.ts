// Tests for src/core/thread-supervisor.ts, the one way DiVES runs a thread: against
// real worker threads (test/helpers/supervised-thread.ts) it starts, stops, ends a
// thread that will not stop, restarts deaths within the budget, gives up and says
// why, never restarts a thread that failed on its own, drills a crash, and revives.

import test from 'ava';
import { Worker } from 'node:worker_threads';
import { createLogger } from '../../src/core/log.js';
import { RestartBudget } from '../../src/core/restart-budget.js';
import { ThreadSupervisor, workerRun } from '../../src/core/thread-supervisor.js';
import { until } from '../helpers/until.js';

type How = 'serve' | 'die' | 'fail' | 'deaf';

interface Rig {
  sv: ThreadSupervisor;
  launches: number;
  deaths: string[];
  downs: string[];
  logs: string[];
}

/** A supervisor over the test worker; `plan(generation)` says how each incarnation behaves. */
function rig(plan: (generation: number) => How, opts: { stopTimeoutMs?: number; budget?: RestartBudget } = {}): Rig {
  const logs: string[] = [];
  const keep = (m: string): void => void logs.push(m);
  const r: Rig = { sv: undefined as unknown as ThreadSupervisor, launches: 0, deaths: [], downs: [], logs };
  let worker: Worker | null = null;
  r.sv = new ThreadSupervisor({
    name: 'test-io',
    kind: 'tap-io',
    log: { ...createLogger('silent'), warn: keep, error: keep },
    launch: (generation) => {
      r.launches++;
      let failure: string | null = null;
      worker = new Worker(new URL('../helpers/supervised-thread.js', import.meta.url), { workerData: { how: plan(generation) } });
      worker.on('message', (m: { failed: string }) => (failure = m.failed));
      return workerRun(worker, () => failure);
    },
    askStop: () => worker?.postMessage('stop'),
    onDeath: (why) => r.deaths.push(why),
    onDown: (reason) => r.downs.push(reason),
    downNote: '; it serves nothing now',
    ...opts,
  });
  return r;
}

test('a thread starts up and stops when asked, and is not restarted for it', async (t) => {
  const r = rig(() => 'serve');
  r.sv.start();
  t.is(r.sv.state, 'up');
  await r.sv.stop();
  t.is(r.sv.state, 'stopped');
  t.like(r.sv.status(), { name: 'test-io', kind: 'tap-io', restarts: 0, lastDeath: null, reason: null });
  t.is(r.launches, 1);
  t.deepEqual(r.deaths, []);
});

test('a thread that ignores the stop is ended after the stop timeout', async (t) => {
  const r = rig(() => 'deaf', { stopTimeoutMs: 200 });
  r.sv.start();
  const started = Date.now();
  await r.sv.stop();
  t.true(Date.now() - started >= 150, 'it waited for the thread first');
  t.is(r.sv.state, 'stopped');
  t.is(r.launches, 1);
});

test('deaths are restarted within the budget, then the thread is down and says why', async (t) => {
  const r = rig(() => 'die', { budget: new RestartBudget(2, 60_000) });
  r.sv.start();
  await until(() => r.sv.state === 'down', 5000, 'the thread to go down');
  t.is(r.launches, 3, 'the first start and two restarts');
  t.is(r.deaths.length, 3);
  t.regex(r.deaths[0], /^uncaught Error: boom$/);
  t.deepEqual(r.downs, ['died 3 times within 60 s, last: uncaught Error: boom']);
  t.like(r.sv.status(), { state: 'down', restarts: 2, lastDeath: 'uncaught Error: boom', reason: 'died 3 times within 60 s, last: uncaught Error: boom' });
  t.is(r.logs.filter((l) => l === 'test-io died: uncaught Error: boom; restarting it').length, 2);
  t.true(r.logs.includes('test-io died 3 times within 60 s (last: uncaught Error: boom); not restarting it; it serves nothing now'), r.logs.join('\n'));
  await t.throwsAsync(r.sv.crash(), { message: /test-io is not running \(down: died 3 times/ });
});

test('a thread that failed on its own error is down at once with that error, not restarted', async (t) => {
  const r = rig(() => 'fail');
  r.sv.start();
  await until(() => r.sv.state === 'down', 5000, 'the thread to go down');
  t.is(r.launches, 1);
  t.deepEqual(r.deaths, []);
  t.deepEqual(r.downs, ['the device went away']);
  t.true(r.logs.includes('test-io: the device went away; it serves nothing now'));
});

test('the crash drill ends the thread as a death would, and it comes back', async (t) => {
  const r = rig(() => 'serve');
  r.sv.start();
  await r.sv.crash();
  await until(() => r.launches === 2, 5000, 'the restart');
  t.is(r.sv.state, 'up');
  t.is(r.sv.status().restarts, 1);
  t.true(r.logs.includes('debug: ending test-io as a crash would'));
  await r.sv.stop();
  t.is(r.sv.state, 'stopped');
});

test('a thread given up on can be revived with a fresh budget', async (t) => {
  const r = rig((g) => (g < 2 ? 'die' : 'serve'), { budget: new RestartBudget(1, 60_000) });
  r.sv.start();
  await until(() => r.sv.state === 'down', 5000, 'the thread to go down');
  t.is(r.launches, 2);
  r.sv.revive();
  t.is(r.sv.state, 'up');
  t.is(r.launches, 3);
  await r.sv.stop();
  t.is(r.sv.state, 'stopped');
});
