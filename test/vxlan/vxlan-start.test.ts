// How a real `dives start` takes the VXLAN flags: a --vxlan-local that is no address of
// this host stops the start; the VXLAN sockets are bound only by the first `vxlan remote`,
// which fails with ELISTEN while another program holds the port and works once it is free.
// Runs real switch processes on loopback; no privileges needed.

import test from 'ava';
import dgram from 'node:dgram';
import { DivesProcess } from '../helpers/dives-process.js';
import { freeUdpPort, isolationArgs, startSwitch, tempDir } from '../helpers/ctl-process.js';

test('dives start refuses a --vxlan-local that is no address of this host, saying so', async (t) => {
  const dir = tempDir(t);
  const p = await DivesProcess.start(['-u', dir, ...(await isolationArgs()), '--vxlan-local', '192.0.2.77'], { cwd: dir });
  t.teardown(() => p.stop('SIGKILL'));
  t.is(await p.exited, 1);
  t.regex(p.stderr, /not starting: --vxlan-local 192\.0\.2\.77: 192\.0\.2\.77 is the address of no interface here/);
});

test('the VXLAN port is bound by the first vxlan remote: ELISTEN while another program holds it, then it works', async (t) => {
  const port = await freeUdpPort();
  const holder = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => holder.bind(port, '0.0.0.0', () => resolve()));
  t.teardown(() => new Promise<void>((resolve) => holder.close(() => resolve())).catch(() => undefined));
  const sw = await startSwitch(t, tempDir(t), ['--vxlan-port', String(port)]);
  t.regex(await sw.command('show vxlan', /VTEP drops/), new RegExp(`vxlan not running .*UDP port ${port}`), 'nothing bound at start');
  const refused = await sw.command('vlan 10 vxlan remote 127.0.0.2', /^error /m);
  t.regex(refused, new RegExp(`error ELISTEN: cannot bind the VXLAN socket on UDP port ${port}: EADDRINUSE`));
  t.regex(await sw.command('json show vxlan', /"running"/), /"running":false/);
  await new Promise<void>((resolve) => holder.close(() => resolve()));
  t.regex(await sw.command('vlan 10 vxlan remote 127.0.0.2', /added|error/), /VXLAN remote 127\.0\.0\.2:\d+ added to VLAN 10 as port \d+/);
  t.regex(await sw.command('show threads', /vxlan-io/), /vxlan-io +vxlan-io +up/);
  t.regex(await sw.command('show running-config', /^exit$/m), /vlan 10\n {2}vxlan remote 127\.0\.0\.2\nexit/);
});
