// `dives ctl` as a person or a script runs it against a real `dives start`: one
// command per run with its exit code (0 ran, 1 refused, 2 usage, 3 unreachable),
// text and --json output, the one-shot VLAN prefix, clear messages for a missing
// socket, and the console fed from a pipe.

import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCommandRegistry } from '../../src/control/commands/create-command-registry.js';
import { runCtl, startSwitch, tempDir } from '../helpers/ctl-process.js';
import { freeTcpPort } from '../helpers/guest.js';

const hasPeers = createCommandRegistry()
  .list()
  .some((c) => c.path.join(' ') === 'show peers');

test('a command that runs prints its reply on stdout and exits 0', async (t) => {
  const dir = tempDir(t);
  await startSwitch(t, dir);
  const port = await freeTcpPort();
  const listen = await runCtl(['-u', dir, 'vlan', '10', 'listen', '127.0.0.1', String(port)]);
  t.deepEqual(listen, { code: 0, stdout: `listening for QEMU on 127.0.0.1:${port} in VLAN 10\n`, stderr: '' });
  const show = await runCtl(['-u', dir, 'vlan', '10', 'show', 'listeners']);
  t.is(show.code, 0);
  t.regex(show.stdout, new RegExp(`^ADDRESS +VID +CONNECTIONS +MAX +STATE\\n127\\.0\\.0\\.1:${port} +10 +0 +- +up\\n +refused: none\\n$`));
  const macs = await runCtl(['-u', dir, 'vlan 10 show macs']);
  t.deepEqual(macs, { code: 0, stdout: 'MAC  PORT  AGE\n(no MACs learned)\n', stderr: '' }, 'one quoted line works too');
});

test('-u defaults to the current directory, like dives start', async (t) => {
  const dir = tempDir(t);
  await startSwitch(t, dir);
  const r = await runCtl(['show', 'vlans'], { cwd: dir });
  t.is(r.code, 0, r.stderr);
});

test('a command the switch refuses exits 1 with "error CODE: message" on stderr', async (t) => {
  const dir = tempDir(t);
  await startSwitch(t, dir);
  t.deepEqual(await runCtl(['-u', dir, 'show', 'macs']), {
    code: 1,
    stdout: '',
    stderr: 'error EBADCMD: "show macs" needs VLAN mode; enter it with "vlan ID"\n',
  });
  const bad = await runCtl(['-u', dir, 'vlan', '5000', 'show', 'macs']);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /^error EBADARG: VLAN ID must be a number 1\.\.4094/);
});

test('--json prints the command\'s JSON document, and errors as {"error":{code,message}}', async (t) => {
  const dir = tempDir(t);
  await startSwitch(t, dir, ['-c', await rcWith(t, 'vlan 10\nvlan 20\n')]);
  const ok = await runCtl(['-u', dir, '--json', 'show', 'vlans']);
  t.is(ok.code, 0, ok.stderr);
  t.deepEqual(
    (JSON.parse(ok.stdout) as { vlans: { vid: number }[] }).vlans.map((v) => v.vid),
    [10, 20],
  );
  const oneShot = await runCtl(['-u', dir, 'vlan', '10', 'show', 'macs', '--json']);
  t.deepEqual(JSON.parse(oneShot.stdout), { vid: 10, macs: [] });
  const err = await runCtl(['-u', dir, '--json', 'frobnicate']);
  t.is(err.code, 1);
  t.deepEqual(JSON.parse(err.stdout), { error: { code: 'EBADCMD', message: 'unknown command "frobnicate"; try "help"' } });
});

test('show running-config and write work through dives ctl', async (t) => {
  const dir = tempDir(t);
  await startSwitch(t, dir, ['-c', await rcWith(t, 'vlan 10\n')]);
  const r = await runCtl(['-u', dir, 'show', 'running-config']);
  t.is(r.code, 0);
  t.regex(r.stdout, /\nvlan 10\nexit\n$/);
  const j = await runCtl(['-u', dir, '--json', 'show', 'running-config']);
  t.deepEqual((JSON.parse(j.stdout) as { vlans: unknown[] }).vlans, [{ vid: 10, taps: [], listeners: [] }]);
});

test('no switch on the socket exits 3 with a message naming the path and -u', async (t) => {
  const dir = tempDir(t);
  const r = await runCtl(['-u', dir, 'show', 'vlans']);
  t.is(r.code, 3);
  t.is(r.stdout, '');
  t.true(r.stderr.startsWith(`error ECTLSOCK: no DiVES control socket at ${join(dir, 'dives.ctl')}; is the switch running?`), r.stderr);
  t.regex(r.stderr, /dives ctl -u DIR/);
  const j = await runCtl(['-u', dir, '--json', 'show', 'vlans']);
  t.is(j.code, 3);
  t.like(JSON.parse(j.stdout), { error: { code: 'ECTLSOCK' } });
  const console = await runCtl(['-u', dir]);
  t.is(console.code, 3, 'the console too');
  t.regex(console.stderr, /no DiVES control socket at/);
});

test('a socket left by a killed switch is reported as such, exit 3', async (t) => {
  const dir = tempDir(t);
  const p = await startSwitch(t, dir);
  await p.stop('SIGKILL');
  const r = await runCtl(['-u', dir, 'show', 'vlans']);
  t.is(r.code, 3);
  t.regex(r.stderr, /nothing answers on .*dives\.ctl \(a switch that stopped without removing it\?\)/);
});

test('bad flags to dives ctl exit 2', async (t) => {
  const r = await runCtl(['--no-such-flag', 'show', 'vlans']);
  t.is(r.code, 2);
  t.regex(r.stderr, /no-such-flag/);
});

test('the console fed from a pipe runs each line in one session and exits 1 if any failed', async (t) => {
  const dir = tempDir(t);
  await startSwitch(t, dir);
  const ok = await runCtl(['-u', dir], { input: 'vlan 10\nshow taps\nexit\nshow vlans\n' });
  t.is(ok.code, 0, ok.stderr);
  const lines = ok.stdout.split('\n');
  t.deepEqual(lines.slice(0, 3), ['NAME  VID  PORT  CREATED  STATE', '(no TAPs attached)', 'VID  STATE  PORTS  MACS  WORKER  FORWARDED  FLOODED  DROPPED']);
  t.regex(lines[3], /^10 /, 'the VLAN the session entered exists');
  const failed = await runCtl(['-u', dir], { input: 'bogus\nshow vlans\nquit\nshow vlans\n' });
  t.is(failed.code, 1);
  t.is(failed.stdout.split('\n')[0], 'error EBADCMD: unknown command "bogus"; try "help"');
  t.is(failed.stdout.match(/^VID /gm)?.length, 1, 'nothing runs after quit');
});

test('dives ctl show peers and --json show peers answer (the README lines)', async (t) => {
  if (!hasPeers) {
    t.pass('this build has no "show peers" yet');
    return;
  }
  const dir = tempDir(t);
  await startSwitch(t, dir);
  const text = await runCtl(['-u', dir, 'show', 'peers']);
  t.is(text.code, 0, text.stderr);
  t.not(text.stdout, '');
  const json = await runCtl(['-u', dir, '--json', 'show', 'peers']);
  t.is(json.code, 0, json.stderr);
  t.true(Array.isArray((JSON.parse(json.stdout) as { peers: unknown }).peers));
});

async function rcWith(t: import('ava').ExecutionContext, text: string): Promise<string> {
  const file = join(tempDir(t), 'test.rc');
  writeFileSync(file, text);
  return file;
}
