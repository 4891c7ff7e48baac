// `dives start` as a user runs it: help, rc files that work and rc files that
// refuse to start, the console on a pipe, and a clean shutdown on SIGTERM that
// removes what DiVES created.

import test from 'ava';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { DivesProcess } from '../helpers/dives-process.js';
import { NetnsFixture } from '../helpers/netns.js';
import { privTest } from '../helpers/privileged.js';
import { freeTcpPort } from '../helpers/guest.js';
import { QemuClient } from '../helpers/qemu-client.js';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../../bin/run.js', import.meta.url));

function tempDir(t: import('ava').ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'dives-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('dives start -? and --help print the original options', async (t) => {
  for (const flag of ['-?', '--help']) {
    const { stdout } = await run(process.execPath, [BIN, 'start', flag]);
    for (const opt of ['-c, --config=FILE', '-h, --host=ADDRESS', '-p, --port=PORT', '-d, --discovery-port=PORT', '-m, --discovery-group=ADDRESS', '-u, --socket-dir=DIR']) {
      t.true(stdout.includes(opt), `${flag} lists ${opt}`);
    }
  }
});

test('an rc file with a bad line stops the start and names FILE:LINE', async (t) => {
  const dir = tempDir(t);
  const rc = join(dir, 'bad.rc');
  writeFileSync(rc, '# a comment\nvlan 10\nlisten 127.0.0.1 notaport\n');
  const p = await DivesProcess.start(['-c', rc, '-u', dir]);
  const code = await p.exited;
  t.is(code, 1);
  t.regex(p.stderr, new RegExp(`${rc.replace(/[.]/g, '\\.')}:3: .*port`));
  t.is(p.stdout, '');
});

test('the console answers on a pipe, keeps running after bad commands, and stops cleanly on SIGTERM', async (t) => {
  const dir = tempDir(t);
  const port = await freeTcpPort();
  const rc = join(dir, 'ok.rc');
  const sock = join(dir, 'vm.sock');
  writeFileSync(rc, `vlan 10\n  listen 127.0.0.1 ${port}   # VMs over TCP\nlisten unix ${sock}\nexit\n`);
  const p = await DivesProcess.start(['-c', rc, '-u', dir]);
  t.teardown(() => p.stop('SIGKILL'));
  t.true(existsSync(sock), 'the unix listener exists');
  t.regex(await p.command('frobnicate', /error EBADCMD/), /unknown command "frobnicate"/);
  t.regex(await p.command('vlan 0', /error EBADARG/), /1\.\.4094/);
  t.regex(await p.command('show macs', /error/), /VLAN mode/);
  const vm = await QemuClient.connect({ port });
  t.teardown(() => vm.close());
  await p.waitStderr(/port 1 in VLAN 10/);
  const listeners = await p.command('vlan 10 show listeners', /unix:/);
  t.regex(listeners, new RegExp(`127\\.0\\.0\\.1:${port} +10 +1`));
  const json = await p.command('json show vlans', /\}\s*$/m);
  t.is(JSON.parse(json.trim()).vlans[0].vid, 10);
  t.false(p.stdout.includes(' info '), 'logs never reach stdout');
  t.is(await p.stop('SIGTERM'), 0);
  t.false(existsSync(sock), 'the unix socket file was removed');
  t.regex(p.stderr, /SIGTERM: shutting down/);
});

test('a SIGTERM that lands while the rc file is still being applied shuts the switch down cleanly once it is up', async (t) => {
  const dir = tempDir(t);
  const vids = Array.from({ length: 200 }, (_, i) => 10 + i);
  const rc = join(dir, 'many.rc');
  writeFileSync(rc, vids.map((v) => `vlan ${v}\nlisten unix ${join(dir, `vm${v}.sock`)}\nexit\n`).join(''));
  const p = await DivesProcess.start(['-c', rc, '-u', dir], { waitUp: false });
  t.teardown(() => p.stop('SIGKILL'));
  // The first listener is up, 199 are still to come: the switch is mid start-up.
  await p.waitStderr(/listening for QEMU on unix:\S*vm10\.sock/, 20_000);
  p.child.kill('SIGTERM');
  t.is(await p.exited, 0, p.stderr);
  t.regex(p.stderr, /SIGTERM: shutting down/);
  t.regex(p.stderr, /stopped/);
  t.false(existsSync(join(dir, 'dives.ctl')), 'the control socket was removed');
  for (const v of vids) t.false(existsSync(join(dir, `vm${v}.sock`)), `vm${v}.sock was removed`);
});

privTest('a TAP that dives start created is deleted at shutdown; one it found is left in place', async (t) => {
  const dir = tempDir(t);
  const fx = new NetnsFixture();
  t.teardown(() => fx.cleanup());
  const made = fx.ifname('m');
  const found = fx.ifname('f');
  fx.trackLink(made);
  await fx.createTap(found);
  const rc = join(dir, 'tap.rc');
  writeFileSync(rc, `vlan 10\ntap ${made}\ntap ${found}\n`);
  const p = await DivesProcess.start(['-c', rc, '-u', dir]);
  t.teardown(() => p.stop('SIGKILL'));
  t.true(existsSync(`/sys/class/net/${made}`));
  const taps = await p.command('vlan 10 show taps', new RegExp(found));
  t.regex(taps, new RegExp(made));
  t.is(await p.stop('SIGINT'), 0);
  t.false(existsSync(`/sys/class/net/${made}`), 'the created TAP is gone');
  t.true(existsSync(`/sys/class/net/${found}`), 'the persistent TAP stays');
});
