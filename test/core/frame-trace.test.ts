// Tests for src/core/frame-trace.ts: the slots and sums as units, then frames traced
// through real switches (QEMU I/O, forwarding and peer I/O threads) with `debug trace`
// and `show trace` through the command registry. Needs no privileges.

import test from 'ava';
import { FrameTrace, STAGES, STAGE_FORWARDING, STAGE_PICKED, STAGE_TX_COMMIT, TRACE_MASK } from '../../src/core/frame-trace.js';
import { ConsoleSession } from '../../src/control/console-session.js';
import { createCommandRegistry } from '../../src/control/commands/create-command-registry.js';
import type { TraceInfo } from '../../src/control/switch-api.js';
import type { Switch } from '../../src/switch/switch.js';
import { sleep, until } from '../helpers/until.js';
import { peerSwitch, peersUp, vm } from '../helpers/peer-switches.js';
import { BCAST, markerFrame, mac, withMarker } from '../helpers/frames.js';

test('off, begin hands out no slot and nothing is summed', (t) => {
  const tr = new FrameTrace();
  t.false(tr.on);
  t.is(tr.begin(), 0);
  tr.finish(0);
  t.true(tr.steps().every((s) => s.frames === 0 && s.meanUs === null));
  t.deepEqual(
    tr.steps().map((s) => `${s.from}>${s.to}`),
    STAGES.slice(1).map((to, i) => `${STAGES[i]}>${to}`),
  );
});

test('a traced frame adds each step once, one frame is traced at a time, and on again clears the sums', async (t) => {
  const tr = new FrameTrace();
  tr.set(true);
  for (let i = 0; i < 20; i++) {
    const meta = tr.begin();
    t.is(meta, TRACE_MASK);
    t.is(tr.begin(), 0, 'no second frame while one is traced');
    tr.stamp(meta, STAGE_FORWARDING);
    tr.stamp(meta, STAGE_TX_COMMIT);
    if (i === 0) await sleep(5);
    tr.stamp(meta, STAGE_PICKED);
    tr.finish(meta);
    tr.finish(meta); // a flooded frame's second output adds nothing
  }
  const steps = tr.steps();
  t.true(steps.every((s) => s.frames === 20), JSON.stringify(steps));
  // The 5 ms wait between tx-commit and picked shows in that step's mean only.
  const picked = steps.find((s) => s.to === 'picked');
  t.true(picked !== undefined && picked.meanUs !== null && picked.meanUs >= 4000 / 20, JSON.stringify(picked));
  // Another thread maps the same memory and sees the same sums.
  t.deepEqual(new FrameTrace(tr.sab).steps(), steps);
  tr.set(true);
  t.true(tr.steps().every((s) => s.frames === 0));
});

test('the trace bit keeps a meta in V8\'s unboxed integer range', (t) => {
  const highest = 0xffff | (4094 << 16) | (1 << 28) | TRACE_MASK;
  t.true(highest < 2 ** 30 && highest > 0);
});

test('a traced frame that never finished (dropped on the way) frees the trace after 100 ms', async (t) => {
  const tr = new FrameTrace();
  tr.set(true);
  t.is(tr.begin(), TRACE_MASK);
  t.is(tr.begin(), 0);
  await sleep(120);
  t.is(tr.begin(), TRACE_MASK);
});

test('a step a frame skipped is left out, and the next step measures from the last stamp', (t) => {
  const tr = new FrameTrace();
  tr.set(true);
  const meta = tr.begin();
  tr.stamp(meta, STAGE_FORWARDING);
  tr.finish(meta); // no tx-commit or picked stamp: e.g. a thread that does not stamp them
  const byTo = Object.fromEntries(tr.steps().map((s) => [s.to, s.frames]));
  t.deepEqual(byTo, { forwarding: 1, 'tx-commit': 0, picked: 0, written: 1 });
});

async function run(sw: Switch, line: string): Promise<{ lines: string[]; json?: unknown }> {
  const reply = await new ConsoleSession(createCommandRegistry(), sw).execute(line);
  if (!reply.ok) throw new Error(`${line}: ${reply.message}`);
  return reply;
}

test('frames traced from a VM through a peer to a VM on another switch fill every step on both switches, and trace off stops counting', async (t) => {
  const a = await peerSwitch(t);
  const b = await peerSwitch(t);
  await a.sw.addStaticPeer('127.0.0.1', b.port);
  await b.sw.addStaticPeer('127.0.0.1', a.port);
  const vmA = await vm(t, a.sw, 10);
  const vmB = await vm(t, b.sw, 10);
  const vmA2 = await vm(t, a.sw, 10);
  await peersUp(a.sw, [`127.0.0.1:${b.port}`]);
  await peersUp(b.sw, [`127.0.0.1:${a.port}`]);

  t.deepEqual((await run(a.sw, 'debug trace on')).json, { trace: true });
  await run(b.sw, 'debug trace on');
  const N = 30;
  for (let i = 0; i < N; i++) {
    vmA.send(markerFrame(BCAST, mac(1), `t${i}`));
    await until(() => withMarker(vmB, `t${i}`).length === 1, 3000, `frame ${i} at B`);
  }
  await until(() => withMarker(vmA2, `t${N - 1}`).length === 1, 3000, 'the last frame at A\'s second VM');

  for (const sw of [a.sw, b.sw]) {
    const { lines, json } = await run(sw, 'show trace');
    const info = json as TraceInfo;
    t.true(info.on);
    // A: each frame leaves by the peer and by the second VM; B: by its VM.
    for (const s of info.steps) {
      t.true(s.frames >= N, `${s.from}>${s.to}: ${s.frames}`);
      t.true(s.meanUs !== null && s.meanUs >= 0 && s.meanUs < 1_000_000, JSON.stringify(s));
    }
    t.is(lines[0], 'trace: on ("debug trace off" stops it)');
    t.regex(lines.at(-1) ?? '', /^in the switch: \d+\.\d µs a frame$/);
  }

  t.deepEqual((await run(b.sw, 'debug trace off')).json, { trace: false });
  const before = (await run(b.sw, 'show trace')).json as TraceInfo;
  vmA.send(markerFrame(BCAST, mac(1), 'untraced'));
  await until(() => withMarker(vmB, 'untraced').length === 1, 3000, 'the untraced frame at B');
  await sleep(50);
  const after = (await run(b.sw, 'show trace')).json as TraceInfo;
  t.false(after.on);
  t.deepEqual(after.steps, before.steps, 'nothing is traced while off, and what was traced is kept');
});

test('debug trace takes only on or off', async (t) => {
  const { sw } = await peerSwitch(t);
  const reply = await new ConsoleSession(createCommandRegistry(), sw).execute('debug trace maybe');
  t.deepEqual(reply, { ok: false, code: 'EBADARG', message: 'WHAT must be on or off, got "maybe"' });
  t.false(sw.showTrace().on);
});
