// Mirrors on a real switch: a ping between two namespaces on VLAN 10 is copied to a
// monitoring TAP on a VLAN of its own, where tcpdump in a third namespace sees it; a
// port mirror sees that port's frames; `show mirrors` counts the copies; the mirror is in
// the running-config until `no mirror` removes it, and then nothing more is copied.

import test from 'ava';
import { Switch } from '../../src/switch/switch.js';
import { createLogger } from '../../src/core/log.js';
import { renderRunningConfig } from '../../src/control/running-config.js';
import { AREAS } from '../../src/control/commands/areas.js';
import { NetnsFixture, sweepStale } from '../helpers/netns.js';
import { privileged, privTest } from '../helpers/privileged.js';
import { sleep, until, within } from '../helpers/until.js';
import { tapHost } from '../helpers/tap-host.js';

test.before(async () => {
  if (privileged.ok) await sweepStale();
});

privTest('a mirror of VLAN 10 copies a ping to a monitoring TAP where tcpdump listens, counted, in the running-config, and removable', async (t) => {
  t.timeout(60_000);
  const fx = new NetnsFixture();
  const sw = new Switch({ log: createLogger('warn'), forwardingThreads: 2 });
  t.teardown(() => fx.cleanup());
  t.teardown(() => sw.close());
  const a = (await tapHost(sw, fx, 'a', 10, '10.82.0.1/24')).ns;
  await tapHost(sw, fx, 'b', 10, '10.82.0.2/24');
  const mon = (await tapHost(sw, fx, 'm', 99)).ns;
  const dump = fx.spawnIn(mon, ['tcpdump', '-i', fx.ifname('m'), '-nn', '-l', 'icmp'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  dump.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  dump.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  await until(() => /listening on/.test(err), 5000, 'tcpdump on the monitoring TAP to start', { everyMs: 50, detail: () => err });

  const m = await sw.addMirror({ vid: 10 }, `tap:${fx.ifname('m')}`);
  t.is(m.source, 'vlan 10');
  t.true(await fx.ping(a, '10.82.0.2', { count: 3 }));
  await within(() => /echo reply/.test(out), 5000, { everyMs: 50 });
  t.regex(out, /IP 10\.82\.0\.1 > 10\.82\.0\.2: ICMP echo request/);
  t.regex(out, /IP 10\.82\.0\.2 > 10\.82\.0\.1: ICMP echo reply/);
  const shown = sw.showMirrors();
  t.true(shown.mirrors[0].counters.mirrored >= 2);
  t.is(shown.mirrors[0].counters['mirror-full'], 0);
  t.true((await renderRunningConfig(sw, AREAS)).lines.includes(`mirror vlan 10 to tap:${fx.ifname('m')}`));
  // Copies go to the monitoring TAP, not through its VLAN: nothing of VLAN 10 is learned there.
  t.false((await sw.showMacs(99)).some((e) => e.port !== `tap:${fx.ifname('m')}`));

  t.is(await sw.removeMirror({ vid: 10 }, null), 1);
  t.deepEqual(sw.showMirrors().mirrors, []);
  t.true(sw.showMirrors().totals.mirrored >= 2, 'a removed mirror keeps its copies in the totals');
  const before = out;
  t.true(await fx.ping(a, '10.82.0.2', { count: 2 }));
  await sleep(300);
  t.is(out, before, 'no copies once removed');
  await t.throwsAsync(sw.removeMirror({ vid: 10 }, null), { code: 'ENOTATTACHED' });
});

privTest('a port mirror copies that port\'s frames both ways; a QEMU port or a missing port is refused as the monitoring port', async (t) => {
  t.timeout(60_000);
  const fx = new NetnsFixture();
  const sw = new Switch({ log: createLogger('warn'), forwardingThreads: 1 });
  t.teardown(() => fx.cleanup());
  t.teardown(() => sw.close());
  const a = (await tapHost(sw, fx, 'c', 10, '10.83.0.1/24')).ns;
  await tapHost(sw, fx, 'd', 10, '10.83.0.2/24');
  const mon = (await tapHost(sw, fx, 'n', 10)).ns;
  const dump = fx.spawnIn(mon, ['tcpdump', '-i', fx.ifname('n'), '-nn', '-l', 'icmp'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  dump.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  dump.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  await until(() => /listening on/.test(err), 5000, 'tcpdump on the monitoring TAP to start', { everyMs: 50, detail: () => err });
  await sw.addMirror({ port: `tap:${fx.ifname('d')}` }, `tap:${fx.ifname('n')}`);
  t.true(await fx.ping(a, '10.83.0.2', { count: 2 }));
  await within(() => /echo reply/.test(out), 5000, { everyMs: 50 });
  t.regex(out, /ICMP echo request/);
  t.regex(out, /ICMP echo reply/);
  await t.throwsAsync(sw.addMirror({ vid: 10 }, 'tap:nosuch'), { code: 'ENOTATTACHED' });
  await t.throwsAsync(sw.addMirror({ port: `tap:${fx.ifname('n')}` }, `tap:${fx.ifname('n')}`), { code: 'EBADARG' });
  await t.throwsAsync(sw.addMirror({ port: `tap:${fx.ifname('d')}` }, `tap:${fx.ifname('n')}`), { code: 'EATTACHED' });
});
