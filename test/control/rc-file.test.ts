// Tests for src/control/rc-file.ts: an rc file runs its commands in order with the
// mode carried across lines, skips comments, and reports the first failure as
// FILE:LINE. Writes rc files to a temporary directory removed in teardown.

import test, { type ExecutionContext } from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCommandRegistry } from '../../src/control/commands/create-command-registry.js';
import { ConsoleSession } from '../../src/control/console-session.js';
import { runRcFile } from '../../src/control/rc-file.js';
import { DivesError, isDivesError } from '../../src/core/errors.js';
import { SampleSwitch } from '../../src/docs/sample-switch.js';

async function rcFile(t: ExecutionContext, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dives-rc-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'dives.rc');
  await writeFile(path, text);
  return path;
}

function session(): { sw: SampleSwitch; s: ConsoleSession } {
  const sw = new SampleSwitch();
  return { sw, s: new ConsoleSession(createCommandRegistry(), sw) };
}

test('an rc file runs its commands in order, carrying VLAN mode across lines', async (t) => {
  const path = await rcFile(
    t,
    [
      '# Lab switch: two VLANs.',
      '',
      'vlan 10',
      '  tap tap0',
      '  listen 127.0.0.1 4000   # guests of VLAN 10',
      'exit',
      'vlan 20',
      'listen unix "/run/dives/vlan 20.sock"',
      'end',
      'vlan 30 tap tap1',
      '',
    ].join('\n'),
  );
  const { sw, s } = session();
  await runRcFile(path, s);
  t.deepEqual(sw.changes, [
    { method: 'ensureVlan', args: [10] },
    { method: 'attachTap', args: [10, 'tap0'] },
    { method: 'listen', args: [10, { kind: 'tcp', host: '127.0.0.1', port: 4000 }] },
    { method: 'ensureVlan', args: [20] },
    { method: 'listen', args: [20, { kind: 'unix', path: '/run/dives/vlan 20.sock' }] },
    { method: 'attachTap', args: [30, 'tap1'] },
  ]);
  t.is(s.mode, null);
});

test('an rc file with CRLF line ends and no final newline runs', async (t) => {
  const path = await rcFile(t, 'vlan 10\r\ntap tap0');
  const { sw, s } = session();
  await runRcFile(path, s);
  t.deepEqual(sw.changes.map((c) => c.method), ['ensureVlan', 'attachTap']);
});

test('the session is back at switch level after a file that ends in VLAN mode', async (t) => {
  const path = await rcFile(t, 'vlan 10\ntap tap0\n');
  const { s } = session();
  await runRcFile(path, s);
  t.is(s.mode, null);
  t.is(s.prompt, 'dives> ');
});

test('the first failing line stops the file with ERCFILE naming FILE:LINE', async (t) => {
  const path = await rcFile(t, '# comment\nvlan 10\ntap tap0\n\nshw macs\ntap tap1\n');
  const { sw, s } = session();
  const err = await t.throwsAsync(runRcFile(path, s));
  t.true(isDivesError(err));
  t.like(err, { code: 'ERCFILE', message: `${path}:5: unknown command "shw macs"; try "help"` });
  t.like((err as Error).cause, { code: 'EBADCMD' });
  t.deepEqual(sw.changes.map((c) => c.method), ['ensureVlan', 'attachTap'], 'nothing after the bad line runs');
});

test('a switch error in an rc file keeps its message and code as the cause', async (t) => {
  const path = await rcFile(t, 'vlan 10\ntap tap7\n');
  const { sw, s } = session();
  sw.failNext('attachTap', new DivesError('ETAPNODEV', 'tap tap7: no such device; create it with `ip tuntap add`'));
  const err = await t.throwsAsync(runRcFile(path, s));
  t.like(err, { code: 'ERCFILE', message: `${path}:2: tap tap7: no such device; create it with \`ip tuntap add\`` });
  t.like((err as Error).cause, { code: 'ETAPNODEV' });
});

test('bad arguments and wrong mode in an rc file report their line', async (t) => {
  const wrongMode = await rcFile(t, 'show macs\n');
  await t.throwsAsync(runRcFile(wrongMode, session().s), {
    code: 'ERCFILE',
    message: `${wrongMode}:1: "show macs" needs VLAN mode; enter it with "vlan ID"`,
  });
  const badVid = await rcFile(t, '\n\nvlan 4095\n');
  await t.throwsAsync(runRcFile(badVid, session().s), {
    code: 'ERCFILE',
    message: `${badVid}:3: VLAN ID must be a number 1..4094, got "4095"`,
  });
});

test('exit at switch level ends the rc file early', async (t) => {
  const path = await rcFile(t, 'vlan 10\nexit\nexit\nvlan 20\n');
  const { sw, s } = session();
  await runRcFile(path, s);
  t.deepEqual(sw.changes, [{ method: 'ensureVlan', args: [10] }]);
});

test('a missing rc file is an ERCFILE error naming the path', async (t) => {
  const path = join(tmpdir(), `dives-missing-${process.pid}-${Date.now()}.rc`);
  await t.throwsAsync(runRcFile(path, session().s), { code: 'ERCFILE', message: `${path}: cannot read the rc file: no such file` });
});

test('an unreadable rc file is an ERCFILE error naming the path', async (t) => {
  const path = await rcFile(t, '');
  const dir = join(path, '..');
  const err = await t.throwsAsync(runRcFile(dir, session().s));
  t.like(err, { code: 'ERCFILE' });
  t.true((err as Error).message.startsWith(`${dir}: cannot read the rc file: `));
});
