// `dives start` and peering, as a user meets it: refusals for a peer port that is
// taken and a wildcard -h with discovery, and the warning for a loopback -h whose
// discovery runs on another interface (in a namespace, so nothing leaves this host);
// --discovery-format as the log and the flag parser show it.

import test from 'ava';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DivesProcess } from '../helpers/dives-process.js';
import { NetnsFixture } from '../helpers/netns.js';
import { privTest } from '../helpers/privileged.js';

function tempDir(t: import('ava').ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'dvp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a peer port another program holds stops the start with the address and a way out', async (t) => {
  const holder = dgram.createSocket('udp4');
  t.teardown(() => holder.close());
  await new Promise<void>((r) => holder.bind(0, '127.0.0.1', () => r()));
  const port = holder.address().port;
  const p = await DivesProcess.start(['-p', String(port), '-u', tempDir(t)]);
  t.teardown(() => p.stop('SIGKILL'));
  t.is(await p.exited, 1);
  t.regex(p.stderr, new RegExp(`not starting: cannot bind the peer socket on UDP 127\\.0\\.0\\.1:${port}: .*choose another -h or -p`));
});

test('a wildcard -h is refused while discovery runs', async (t) => {
  const p = await DivesProcess.start(['-h', '0.0.0.0', '-u', tempDir(t)]);
  t.teardown(() => p.stop('SIGKILL'));
  t.is(await p.exited, 1);
  t.regex(p.stderr, /not starting: -h 0\.0\.0\.0 is a wildcard address.*--no-discovery/);
});

privTest('a loopback -h with discovery on a non-loopback interface starts with a warning', async (t) => {
  const fx = new NetnsFixture();
  t.teardown(() => fx.cleanup());
  const ns = await fx.addNs('w');
  // A veth pair gives the namespace a non-loopback interface that leads nowhere.
  const [a, b] = [fx.ifname('wa'), fx.ifname('wb')];
  await fx.createVeth(a, b);
  await fx.moveToNs(b, ns);
  await fx.moveToNs(a, ns, '10.97.0.1/24');
  const dir = tempDir(t);
  const p = await DivesProcess.start(['-h', '127.0.0.1', '--multicast-if', '10.97.0.1', '-u', dir], { netns: ns, cwd: dir });
  t.teardown(() => p.stop('SIGKILL'));
  t.regex(p.stderr, /DiVES switch up/);
  t.regex(p.stderr, /warn +-h 127\.0\.0\.1 is a loopback address but discovery runs on 10\.97\.0\.1/);
  t.regex(p.stderr, /discovery: announcing 127\.0\.0\.1:3333 to 239\.13\.13\.13:3535 via 10\.97\.0\.1, ttl 1/);
  t.is(await p.stop('SIGTERM'), 0);
});

privTest('--discovery-format sockaddr says what it announces in words; a format that is neither text nor sockaddr is refused', async (t) => {
  const fx = new NetnsFixture();
  t.teardown(() => fx.cleanup());
  const ns = await fx.addNs('f');
  const dir = tempDir(t);
  const p = await DivesProcess.start(['--discovery-format', 'sockaddr', '-u', dir], { netns: ns, cwd: dir });
  t.teardown(() => p.stop('SIGKILL'));
  t.regex(p.stderr, /discovery: announcing the sockaddr of 127\.0\.0\.1:3333 \(the original DiVES's format\) to 239\.13\.13\.13:3535/);
  t.is(await p.stop('SIGTERM'), 0);
  const both = await DivesProcess.start(['--discovery-format', 'both', '-u', tempDir(t)], { waitUp: false });
  t.teardown(() => both.stop('SIGKILL'));
  t.not(await both.exited, 0);
  t.regex(both.stderr, /Expected --discovery-format=both to be one of: text, sockaddr/);
});
