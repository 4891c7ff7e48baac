// The CLI conventions of `dives` as a user meets them: --version, `dives help`
// and per-command help with examples, JSON logs on stderr, shell completion, and
// the package `npm pack` makes, installed with `npm install -g` into a temp prefix.

import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BIN, isolationArgs, runCtl, tempDir } from '../helpers/ctl-process.js';
import { DivesProcess } from '../helpers/dives-process.js';
import { until } from '../helpers/until.js';

const run = promisify(execFile);
const ROOT = join(BIN, '..', '..');

test('dives --version names the program and its version', async (t) => {
  const { stdout } = await run(process.execPath, [BIN, '--version']);
  t.regex(stdout, /^dives\/\d+\.\d+\.\d+ /);
});

test('dives help lists every command, and help COMMAND shows its flags and examples', async (t) => {
  const { stdout } = await run(process.execPath, [BIN, 'help']);
  for (const cmd of ['autocomplete', 'ctl', 'help', 'start']) t.regex(stdout, new RegExp(`^  ${cmd} `, 'm'));
  const ctl = (await run(process.execPath, [BIN, 'help', 'ctl'])).stdout;
  t.regex(ctl, /-u, --socket-dir=DIR/);
  t.regex(ctl, /--json/);
  t.regex(ctl, /EXAMPLES[^]*\$ dives ctl show vlans[^]*\$ dives ctl --json show peers[^]*\$ dives ctl vlan 10 show macs/);
  const start = (await run(process.execPath, [BIN, 'start', '--help'])).stdout;
  t.regex(start, /--ctl-group=GROUP/);
  t.regex(start, /--log-format=<option>/);
  t.regex(start, /EXAMPLES/);
});

test('--log-format json writes one JSON object per log line on stderr', async (t) => {
  const dir = tempDir(t);
  const p = await DivesProcess.start(['-u', dir, '--log-format', 'json', ...(await isolationArgs())], { cwd: dir });
  t.teardown(() => p.stop('SIGKILL'));
  t.is(await p.stop('SIGTERM'), 0);
  const lines = p.stderr.trim().split('\n');
  t.true(lines.length >= 3);
  for (const line of lines) {
    const entry = JSON.parse(line) as Record<string, unknown>;
    t.deepEqual(Object.keys(entry), ['time', 'level', 'pid', 'msg'], line);
    t.is(entry.pid, p.child.pid);
  }
  t.true(lines.some((l) => (JSON.parse(l) as { msg: string }).msg.startsWith('DiVES switch up')));
});

test('dives autocomplete prints the shell set-up for bash and zsh', async (t) => {
  const home = tempDir(t);
  const env = { ...process.env, HOME: home, XDG_CACHE_HOME: join(home, '.cache') };
  const bash = await run(process.execPath, [BIN, 'autocomplete', 'script', 'bash'], { env });
  t.regex(bash.stdout, /DIVES_AC_BASH_SETUP_PATH/);
  const zsh = await run(process.execPath, [BIN, 'autocomplete', 'script', 'zsh'], { env });
  t.regex(zsh.stdout, /DIVES_AC_ZSH_SETUP_PATH/);
});

test('the npm pack tarball installs with npm install -g, and its dives starts a switch and talks to it', async (t) => {
  const dir = tempDir(t);
  const prefix = join(dir, 'prefix');
  const npm = { cwd: ROOT, env: { ...process.env, npm_config_update_notifier: 'false' }, maxBuffer: 16 << 20 };
  // --ignore-scripts: `npm test` has built already, and prepack's build would rewrite dist/
  // under the tests running beside this one.
  const packed = await run('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', dir], npm);
  const tarball = join(dir, packed.stdout.trim().split('\n').pop() ?? '');
  t.true(existsSync(tarball), packed.stdout);
  // The dependencies come from npm's cache, which `npm ci` has just filled.
  await run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], npm);
  const dives = join(prefix, 'bin', 'dives');
  t.regex((await run(dives, ['--version'])).stdout, /^dives\/\d/);
  const sockets = join(dir, 'run');
  const child = execFile(dives, ['start', '--no-console', '-u', sockets, ...(await isolationArgs())]);
  t.teardown(() => child.kill('SIGKILL'));
  await until(() => existsSync(join(sockets, 'dives.ctl')), 20_000, 'the installed dives to make its control socket', { everyMs: 50 });
  const installed = await run(dives, ['ctl', '-u', sockets, 'show', 'vlans']);
  t.is(installed.stdout, 'VID  STATE  PORTS  MACS  WORKER  FORWARDED  FLOODED  DROPPED\n(no VLANs)\n');
  t.is((await runCtl(['-u', sockets, 'show', 'vlans'])).stdout, installed.stdout, 'the work tree\'s dives ctl talks to it too');
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  t.is(await exited, 0);
});

