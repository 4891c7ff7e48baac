// What anyone who can reach a QEMU listener can make a switch log: 2,000 connections that
// connect and hang up, against a real switch (src/qemu/qemu-ports.ts), whose log must stay
// a few lines of each kind with the rest counted (src/core/log-limiter.ts).

import test from 'ava';
import net from 'node:net';
import { once } from 'node:events';
import { Switch } from '../../src/switch/switch.js';
import { DEFAULT_LOG_BURST, LogLimiter } from '../../src/core/log-limiter.js';
import { captureLog } from '../helpers/announcer.js';
import { freeTcpPort } from '../helpers/guest.js';
import { until } from '../helpers/until.js';

/** Connect to 127.0.0.1:port and hang up at once. */
async function connectAndHangUp(port: number): Promise<void> {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => {});
  await once(s, 'connect');
  s.destroy();
}

test('2,000 connections that connect and hang up make a few log lines, and then one line with how many were suppressed', async (t) => {
  t.timeout(120_000);
  const { log, lines } = captureLog();
  const clock = { now: 0 };
  LogLimiter.attach(log, { now: () => clock.now });
  const sw = new Switch({ log, forwardingThreads: 1 });
  t.teardown(() => sw.close());
  const port = await freeTcpPort();
  await sw.listen(10, { kind: 'tcp', host: '127.0.0.1', port });
  lines.length = 0;

  const N = 2000;
  for (let i = 0; i < N; i += 50) {
    await Promise.all(Array.from({ length: 50 }, () => connectAndHangUp(port)));
    // Kept well under the switch's --max-connections on a slow machine, so none is refused.
    await until(() => sw.qemu.list()[0].connections < 100, 10_000, 'connections to leave');
  }
  // Every connection was placed and has left again when nothing changes for a while.
  let quietSince = Date.now();
  await until(
    () => {
      if (sw.qemu.list()[0].connections !== 0 || sw.ports.all().length !== 0) quietSince = Date.now();
      return Date.now() - quietSince > 500;
    },
    60_000,
    'the connections to come and go',
  );
  const connected = lines.filter((l) => / connected to /.test(l)).length;
  const disconnected = lines.filter((l) => / disconnected: /.test(l)).length;
  t.true(connected >= 1 && connected <= DEFAULT_LOG_BURST, `${connected} connected lines`);
  t.true(disconnected >= 1 && disconnected <= DEFAULT_LOG_BURST, `${disconnected} disconnected lines`);
  t.true(lines.length <= 2 * DEFAULT_LOG_BURST, `${lines.length} lines for ${N} connections:\n${lines.join('\n')}`);

  // A minute later by the limiter's clock, the next connection is logged with the count
  // of connections not logged, and the disconnections are accounted for with it.
  clock.now = 61_000;
  const before = lines.length;
  await connectAndHangUp(port);
  const logged = (re: RegExp): boolean => lines.slice(before).some((l) => re.test(l));
  await until(() => logged(/ connected to /) && logged(/ disconnected: /), 5000, 'the next connection and its hang-up to be logged');
  const after = lines.slice(before);
  t.true(after.some((l) => / connected to .*\((\d+) similar lines suppressed in the last 61 s\)$/.test(l) && l.includes(`(${N - connected} similar`)), after.join('\n'));
  t.true(after.some((l) => / disconnected: .*\(the last of (\d+) similar lines suppressed in the last 61 s\)$/.test(l) && l.includes(`the last of ${N - disconnected} similar`)), after.join('\n'));
});
