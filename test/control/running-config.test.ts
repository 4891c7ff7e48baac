// Tests for src/control/running-config.ts: the rc text `show running-config`
// prints, that the rc loader reads it back to the same state (odd paths included),
// `write FILE` replacing files atomically, and the whole loop on real switches:
// show running-config -> write FILE -> a fresh `dives start -c FILE` -> the same text.

import test from 'ava';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AREAS } from '../../src/control/commands/areas.js';
import { createCommandRegistry } from '../../src/control/commands/create-command-registry.js';
import { ConsoleSession, tokenize } from '../../src/control/console-session.js';
import { quoteWord } from '../../src/control/format.js';
import { runRcFile } from '../../src/control/rc-file.js';
import { RUNNING_CONFIG_HEADER, renderRunningConfig, writeFileAtomic, type RunningConfig } from '../../src/control/running-config.js';
import { SampleSwitch } from '../../src/docs/sample-switch.js';
import { runCtl, startSwitch, tempDir } from '../helpers/ctl-process.js';
import { freeTcpPort } from '../helpers/guest.js';
import { NetnsFixture } from '../helpers/netns.js';
import { privTest } from '../helpers/privileged.js';

const ODD_PATHS = ['/run/dives/vm 1.sock', '/run/dives/"quoted".sock', '/run/dives/back\\slash.sock', '#hash.sock', '/run/dives/tab\there.sock', 'relative.sock'];

test('quoteWord writes words the tokenizer reads back unchanged', (t) => {
  for (const word of [...ODD_PATHS, 'tap0', '', 'a#b', '\\"', 'ünïcode']) {
    t.deepEqual(tokenize(quoteWord(word)), [word], JSON.stringify(word));
  }
  t.is(quoteWord('tap0'), 'tap0', 'plain words stay bare');
});

test('the running-config lists VLANs in order, each with its TAPs and listeners, sorted', async (t) => {
  const sw = new SampleSwitch();
  sw.ensureVlan(30);
  await sw.listen(20, { kind: 'unix', path: '/run/dives/b.sock' });
  await sw.listen(20, { kind: 'tcp', host: '::1', port: 4001 });
  await sw.listen(20, { kind: 'tcp', host: '0.0.0.0', port: 4000 });
  await sw.attachTap(20, 'tap9');
  await sw.attachTap(20, 'tap1');
  sw.addPort(5, 'qemu', 'qemu:127.0.0.1:4000#1');
  const config = await renderRunningConfig(sw, AREAS);
  t.deepEqual(config.lines, [
    RUNNING_CONFIG_HEADER,
    '# Load it with `dives start -c FILE`; save it with `write FILE`.',
    'vlan 5',
    'exit',
    'vlan 20',
    '  tap tap1',
    '  tap tap9',
    '  listen 0.0.0.0 4000',
    '  listen ::1 4001',
    '  listen unix /run/dives/b.sock',
    'exit',
    'vlan 30',
    'exit',
  ]);
  t.deepEqual(config.vlans[1], {
    vid: 20,
    taps: ['tap1', 'tap9'],
    listeners: [
      { kind: 'tcp', host: '0.0.0.0', port: 4000 },
      { kind: 'tcp', host: '::1', port: 4001 },
      { kind: 'unix', path: '/run/dives/b.sock' },
    ],
  });
});

test('static peers are printed as "peer HOST PORT" lines when the switch has them', async (t) => {
  const sw = Object.assign(new SampleSwitch(), {
    staticPeers: () => [
      { host: '10.0.0.9', port: 3333 },
      { host: '10.0.0.2', port: 3334 },
    ],
  });
  const { lines, peers } = (await renderRunningConfig(sw, AREAS)) as RunningConfig & { peers: unknown[] };
  t.deepEqual(lines.slice(-2), ['peer 10.0.0.2 3334', 'peer 10.0.0.9 3333']);
  t.is(peers.length, 2);
});

test('the rc loader reads the running-config back into the same state, odd listener paths included', async (t) => {
  const dir = tempDir(t);
  const a = new SampleSwitch();
  for (const [i, path] of ODD_PATHS.entries()) await a.listen(10 + i, { kind: 'unix', path });
  await a.attachTap(10, 'tap.x-1_');
  a.ensureVlan(4094);
  const text = (await renderRunningConfig(a, AREAS)).lines.join('\n');
  const rc = join(dir, 'a.rc');
  writeFileSync(rc, `${text}\n`);
  const b = new SampleSwitch();
  await runRcFile(rc, new ConsoleSession(createCommandRegistry(), b));
  t.is((await renderRunningConfig(b, AREAS)).lines.join('\n'), text);
  t.deepEqual(
    b.listeners.map((l) => l.spec),
    a.listeners.map((l) => l.spec),
  );
});

test('write FILE saves the running-config atomically and says where', async (t) => {
  const dir = tempDir(t);
  const sw = new SampleSwitch();
  sw.ensureVlan(7);
  const session = new ConsoleSession(createCommandRegistry(), sw);
  const file = join(dir, 'saved.rc');
  writeFileSync(file, 'old contents\n');
  chmodSync(file, 0o640);
  const reply = await session.execute(`write ${file}`);
  t.deepEqual(reply, {
    ok: true,
    lines: [`wrote the running-config to ${file} (4 lines)`],
    json: { written: { path: file, lines: 4 } },
  });
  t.is(readFileSync(file, 'utf8'), `${(await renderRunningConfig(sw, AREAS)).lines.join('\n')}\n`);
  t.is(statSync(file).mode & 0o777, 0o640, 'the old file\'s mode is kept');
  t.deepEqual(readdirSync(dir), ['saved.rc'], 'no temporary file is left');
});

test('write FILE into a missing directory or onto a directory fails with EWRITE and leaves nothing behind', async (t) => {
  const dir = tempDir(t);
  const session = new ConsoleSession(createCommandRegistry(), new SampleSwitch());
  t.like(await session.execute(`write ${join(dir, 'nope', 'x.rc')}`), { ok: false, code: 'EWRITE' });
  mkdirSync(join(dir, 'd'));
  const onDir = await session.execute(`write ${join(dir, 'd')}`);
  t.like(onDir, { ok: false, code: 'EWRITE' });
  if (!onDir.ok) t.regex(onDir.message, /is a directory/);
  t.deepEqual(readdirSync(dir), ['d']);
  t.like(await session.execute('write'), { ok: false, code: 'EBADARG' });
});

test('writeFileAtomic replaces a file a reader has open without the reader seeing a mix', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'f');
  await writeFileAtomic(file, 'A'.repeat(100_000));
  const before = readFileSync(file, 'utf8');
  await writeFileAtomic(file, 'B'.repeat(50_000));
  t.is(before, 'A'.repeat(100_000));
  t.is(readFileSync(file, 'utf8'), 'B'.repeat(50_000));
  t.is(statSync(file).mode & 0o777, 0o644);
});

/** The loop on real switches: start from `rc`, save with `dives ctl write`, stop, start a fresh switch from the saved file, compare. */
async function roundTrip(t: import('ava').ExecutionContext, rcText: string): Promise<string> {
  const dir = tempDir(t);
  const rc = join(dir, 'start.rc');
  writeFileSync(rc, rcText);
  const first = await startSwitch(t, join(dir, 'one'), ['-c', rc]);
  const shown = await runCtl(['-u', join(dir, 'one'), 'show', 'running-config']);
  t.is(shown.code, 0, shown.stderr);
  const saved = join(dir, 'saved.rc');
  const wrote = await runCtl(['-u', join(dir, 'one'), 'write', saved]);
  t.is(wrote.code, 0, wrote.stderr);
  t.regex(wrote.stdout, /wrote the running-config to .*saved\.rc/);
  t.is(readFileSync(saved, 'utf8'), shown.stdout, 'the file is what show running-config printed');
  // The fresh switch needs the same ports and paths, so the first one goes away first.
  t.is(await first.stop('SIGTERM'), 0);
  await startSwitch(t, join(dir, 'two'), ['-c', saved]);
  const again = await runCtl(['-u', join(dir, 'two'), 'show', 'running-config']);
  t.is(again.code, 0, again.stderr);
  t.is(again.stdout, shown.stdout);
  return shown.stdout;
}

test('show running-config -> write FILE -> a fresh switch from FILE -> the same running-config', async (t) => {
  const dir = tempDir(t);
  const [p1, p2] = [await freeTcpPort(), await freeTcpPort()];
  const withPeer = createCommandRegistry()
    .list()
    .some((c) => c.path[0] === 'peer');
  const peerPort = 40000 + (process.pid % 20000);
  const text = await roundTrip(
    t,
    [
      'vlan 20',
      `  listen unix "${join(dir, 'vm 20.sock')}"`,
      `  listen 127.0.0.1 ${p2}`,
      'exit',
      'vlan 10',
      `  listen 127.0.0.1 ${p1}`,
      'exit',
      'vlan 30',
      'exit',
      ...(withPeer ? [`peer 127.0.0.1 ${peerPort}`] : []),
      '',
    ].join('\n'),
  );
  t.true(text.includes(`vlan 10\n  listen 127.0.0.1 ${p1}\nexit\nvlan 20\n`), text);
  t.true(text.includes(`  listen unix "${join(dir, 'vm 20.sock')}"`), text);
  t.true(text.includes('vlan 30\nexit\n'), text);
  if (withPeer) t.true(text.includes(`peer 127.0.0.1 ${peerPort}\n`), text);
});

privTest('the running-config round trip recreates TAPs too', async (t) => {
  const fx = new NetnsFixture();
  t.teardown(() => fx.cleanup());
  const made = fx.ifname('r');
  const found = fx.ifname('q');
  fx.trackLink(made);
  await fx.createTap(found);
  const text = await roundTrip(t, `vlan 10\ntap ${made}\ntap ${found}\n`);
  t.true(text.includes(`vlan 10\n${[made, found].sort().map((n) => `  tap ${n}`).join('\n')}\nexit\n`), text);
});
