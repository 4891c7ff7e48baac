// The control socket of a real `dives start` process: its permissions, a second
// switch refused, a stale socket replaced, ten clients at once each in its own
// VLAN mode, garbage, a 1 MiB line and abrupt disconnects that leave the switch
// answering, and shutdown removing the socket.

import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, lstatSync } from 'node:fs';
import { privTest } from '../helpers/privileged.js';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { ReplyDecoder, type ClientReply } from '../../src/control/control-protocol.js';
import { CtlClient } from '../../src/control/ctl-client.js';
import { DivesProcess } from '../helpers/dives-process.js';
import { freeTcpPort } from '../helpers/guest.js';
import { isolationArgs, startSwitch, tempDir } from '../helpers/ctl-process.js';
import { mulberry32 } from '../helpers/prng.js';
import { until } from '../helpers/until.js';

async function client(t: import('ava').ExecutionContext, path: string): Promise<CtlClient> {
  const c = await CtlClient.connect(path);
  t.teardown(() => c.destroy());
  return c;
}

/** A raw connection whose replies are decoded as they come, to check the protocol holds whatever was sent. */
function raw(t: import('ava').ExecutionContext, path: string): Promise<{ sock: Socket; replies: ClientReply[]; next: (n: number) => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    t.teardown(() => sock.destroy());
    const decoder = new ReplyDecoder();
    const replies: ClientReply[] = [];
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => replies.push(...decoder.push(d)));
    const next = (n: number): Promise<void> => until(() => replies.length >= n, 10_000, `${n} replies`, { everyMs: 10, detail: () => `only ${replies.length}` });
    sock.once('connect', () => resolve({ sock, replies, next }));
    sock.once('error', reject);
  });
}

/** A group other than ours when we are root (so the chgrp is visible), else our own. */
function otherGroup(): { name: string; gid: number } {
  if (process.getuid?.() === 0) {
    try {
      const [name, , gid] = execFileSync('getent', ['group', 'daemon'], { encoding: 'utf8' }).trim().split(':');
      return { name, gid: Number(gid) };
    } catch {
      // No daemon group here; fall through to our own.
    }
  }
  const gid = process.getgid?.() ?? 0;
  const name = execFileSync('getent', ['group', String(gid)], { encoding: 'utf8' }).split(':')[0];
  return { name, gid };
}

test('the control socket is DIR/dives.ctl, mode 0600, owned by the user that started the switch', async (t) => {
  const dir = tempDir(t);
  const p = await startSwitch(t, dir);
  const st = lstatSync(join(dir, 'dives.ctl'));
  t.true(st.isSocket());
  t.is(st.mode & 0o777, 0o600);
  t.is(st.uid, process.getuid?.() ?? -1);
  t.regex(p.stderr, /control: listening on .*dives\.ctl \(mode 0600\)/);
});

test('--ctl-group GROUP makes the socket 0660 and owned by GROUP', async (t) => {
  const dir = tempDir(t);
  const group = otherGroup();
  await startSwitch(t, dir, ['--ctl-group', group.name]);
  const st = lstatSync(join(dir, 'dives.ctl'));
  t.is(st.mode & 0o777, 0o660);
  t.is(st.gid, group.gid);
});

privTest('a client the socket does not let in gets one line that says why and what to do, and exit code 3', async (t) => {
  const dir = tempDir(t);
  await startSwitch(t, dir);
  // Root may open any socket; a socket owned by someone else, and root without
  // CAP_DAC_OVERRIDE, is the same check a user who is not the owner meets.
  chownSync(join(dir, 'dives.ctl'), 65534, 65534);
  const r = spawnSync('setpriv', ['--bounding-set=-dac_override,-dac_read_search', '--', process.execPath, 'bin/run.js', 'ctl', '-u', dir, 'show', 'vlans'], { encoding: 'utf8', timeout: 20_000 });
  t.is(r.status, 3, r.stderr);
  t.is(r.stderr.trim(), `error ECTLSOCK: permission denied on ${join(dir, 'dives.ctl')}: the socket is only for its owner (0600) or the group of \`dives start --ctl-group GROUP\`; run as one of them`);
  t.is(r.stdout, '');
});

test('a second switch on the same -u DIR refuses to start and the first keeps answering', async (t) => {
  const dir = tempDir(t);
  await startSwitch(t, dir);
  const second = await DivesProcess.start(['-u', dir, ...(await isolationArgs())], { cwd: dir });
  t.teardown(() => second.stop('SIGKILL'));
  t.is(await second.exited, 1);
  t.regex(second.stderr, new RegExp(`not starting: another DiVES switch is running on ${join(dir, 'dives.ctl')}; .*-u DIR`));
  const c = await client(t, join(dir, 'dives.ctl'));
  t.like(await c.request('show vlans'), { ok: true });
});

test('a stale socket left by a killed switch is replaced by the next one', async (t) => {
  const dir = tempDir(t);
  const first = await startSwitch(t, dir);
  await first.stop('SIGKILL');
  t.true(lstatSync(join(dir, 'dives.ctl')).isSocket(), 'SIGKILL left the socket file behind');
  const second = await startSwitch(t, dir);
  t.regex(second.stderr, /replaced the stale control socket/);
  const c = await client(t, join(dir, 'dives.ctl'));
  t.like(await c.request('show vlans'), { ok: true });
});

test('ten clients at once each keep their own VLAN mode', async (t) => {
  const dir = tempDir(t);
  await startSwitch(t, dir);
  const path = join(dir, 'dives.ctl');
  const clients = await Promise.all(Array.from({ length: 10 }, () => client(t, path)));
  const ports = await Promise.all(clients.map(() => freeTcpPort()));
  await Promise.all(
    clients.map(async (c, i) => {
      t.like(await c.request(`vlan ${101 + i}`), { ok: true });
      t.like(await c.request(`listen 127.0.0.1 ${ports[i]}`), { ok: true });
    }),
  );
  // Interleave everyone's requests; each answer must be about that client's VLAN only.
  const answers = await Promise.all(clients.map((c) => Promise.all([c.request('prompt'), c.request('json show listeners')])));
  answers.forEach(([prompt, listeners], i) => {
    t.deepEqual(prompt.lines, [`dives(vlan ${101 + i})> `]);
    const doc = JSON.parse(listeners.lines[0]) as { vid: number; listeners: { address: string }[] };
    t.is(doc.vid, 101 + i);
    t.deepEqual(
      doc.listeners.map((l) => l.address),
      [`127.0.0.1:${ports[i]}`],
    );
  });
  const all = await clients[0].request('json vlan 101 show vlans');
  t.is((JSON.parse(all.lines[0]) as { vlans: unknown[] }).vlans.length, 10);
});

test('garbage and a 1 MiB line without a newline get error replies, and the switch keeps answering everyone', async (t) => {
  const dir = tempDir(t);
  const p = await startSwitch(t, dir);
  const path = join(dir, 'dives.ctl');
  const bystander = await client(t, path);

  // Random bytes, NULs and invalid UTF-8 included, cut into lines: each line gets exactly one reply.
  const rand = mulberry32(0x5eed);
  const junk = Buffer.alloc(64 * 1024);
  for (let i = 0; i < junk.length; i++) junk[i] = Math.floor(rand() * 256);
  const lines = junk.toString('latin1').split('\n').length;
  const g = await raw(t, path);
  g.sock.write(junk);
  g.sock.write('\n');
  await g.next(lines);
  t.is(g.replies.length, lines, 'one reply per line, and every reply well formed');
  t.true(
    g.replies.every((r) => r.ok || /^E[A-Z]+$/.test(r.code)),
    'each is "ok" or an error with a code',
  );

  // A 1 MiB line with no newline: refused as soon as it passes the limit, while it is still arriving.
  const big = await raw(t, path);
  for (let i = 0; i < 16; i++) big.sock.write(Buffer.alloc(64 * 1024, 'a'));
  await big.next(1);
  const refused = big.replies[0];
  t.like(refused, { ok: false, code: 'EBADARG' });
  if (!refused.ok) t.regex(refused.message, /line is longer than 4096 bytes/);
  t.like(await bystander.request('show vlans'), { ok: true }, 'another client is answered meanwhile');
  big.sock.write('aaaa\nprompt\n');
  await big.next(2);
  t.deepEqual(big.replies[1], { ok: true, close: false, lines: ['dives> '] }, 'the same connection works after the newline');
  t.false(/EINTERNAL|internal error/.test(p.stderr), 'no handler blew up');
});

test('clients that vanish mid-line or mid-command do not disturb the switch', async (t) => {
  const dir = tempDir(t);
  const p = await startSwitch(t, dir);
  const path = join(dir, 'dives.ctl');
  for (const bytes of ['show vl', 'show ports\nshow vlans\nhelp\n', 'vlan 10 show macs\n'.repeat(200)]) {
    const r = await raw(t, path);
    r.sock.write(bytes);
    r.sock.destroy();
  }
  // One that asked and will never read the answer.
  const r = await raw(t, path);
  r.sock.end('help\n'.repeat(500));
  r.sock.destroy();
  await new Promise((res) => setTimeout(res, 200));
  const c = await client(t, path);
  t.like(await c.request('show vlans'), { ok: true });
  t.is(p.child.exitCode, null, 'still running');
});

test('stopping the switch closes every connection and removes the socket', async (t) => {
  const dir = tempDir(t);
  const p = await startSwitch(t, dir);
  const path = join(dir, 'dives.ctl');
  const c = await client(t, path);
  t.like(await c.request('vlan 10'), { ok: true });
  t.is(await p.stop('SIGTERM'), 0);
  await c.closed;
  await t.throwsAsync(c.request('show vlans'), { message: /closed the connection/ });
  t.false(existsSync(path));
});
