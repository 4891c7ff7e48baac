// Tests for src/control/commands/listen.ts: `listen` and `no listen` for TCP and UNIX
// listeners against the sample switch. Pure units: no threads, no sockets.

import test from 'ava';
import { at, fixture } from '../../helpers/command-session.js';
test('listen HOSTNAME PORT opens a TCP listener for QEMU guests', async (t) => {
  const { sw, session } = fixture();
  t.deepEqual(await at(session, 10, 'listen 0.0.0.0 4001'), {
    ok: true,
    lines: ['listening for QEMU on 0.0.0.0:4001 in VLAN 10'],
    json: { listener: { vid: 10, spec: { kind: 'tcp', host: '0.0.0.0', port: 4001 }, address: '0.0.0.0:4001', connections: 0, maxConnections: null, refused: { 'listener-full': 0, 'switch-full': 0, 'memory-budget': 0 }, state: 'up', reason: null } },
  });
  t.like(await at(session, 10, 'listen ::1 4002'), { ok: true, lines: ['listening for QEMU on [::1]:4002 in VLAN 10'] });
  t.like(await at(session, 10, 'listen [::1] 4003'), { ok: true, lines: ['listening for QEMU on [::1]:4003 in VLAN 10'] });
  t.like(await at(session, 10, 'listen vmhost.example 4004'), { ok: true });
  t.deepEqual(
    sw.changes.map((c) => c.args),
    [
      [10, { kind: 'tcp', host: '0.0.0.0', port: 4001 }],
      [10, { kind: 'tcp', host: '::1', port: 4002 }],
      [10, { kind: 'tcp', host: '::1', port: 4003 }],
      [10, { kind: 'tcp', host: 'vmhost.example', port: 4004 }],
    ],
  );
});

test('listen unix PATH opens a UNIX socket listener, with quotes for spaces', async (t) => {
  const { sw, session } = fixture();
  t.deepEqual(await at(session, 10, 'listen unix "/run/my vms/a.sock"'), {
    ok: true,
    lines: ['listening for QEMU on unix:/run/my vms/a.sock in VLAN 10'],
    json: { listener: { vid: 10, spec: { kind: 'unix', path: '/run/my vms/a.sock' }, address: 'unix:/run/my vms/a.sock', connections: 0, maxConnections: null, refused: { 'listener-full': 0, 'switch-full': 0, 'memory-budget': 0 }, state: 'up', reason: null } },
  });
  t.like(await at(session, 10, 'listen unix vm.sock'), { ok: true, lines: ['listening for QEMU on unix:vm.sock in VLAN 10'] });
  t.deepEqual(sw.changes[1], { method: 'listen', args: [10, { kind: 'unix', path: 'vm.sock' }] });
});

test('listen ... max-connections N gives the listener its own limit, shown and kept in the running-config', async (t) => {
  const { sw, session } = fixture();
  t.like(await at(session, 10, 'listen 0.0.0.0 4001 max-connections 16'), { ok: true, lines: ['listening for QEMU on 0.0.0.0:4001 in VLAN 10, 16 connections at most'] });
  t.like(await at(session, 10, 'listen unix vm.sock max-connections 1'), { ok: true });
  t.deepEqual(sw.changes.map((c) => c.args), [
    [10, { kind: 'tcp', host: '0.0.0.0', port: 4001 }, 16],
    [10, { kind: 'unix', path: 'vm.sock' }, 1],
  ]);
  t.like(await at(session, 10, 'show listeners'), { ok: true });
  const rc = await at(session, null, 'show running-config');
  const lines = rc.ok ? rc.lines : [];
  t.true(lines.includes('  listen 0.0.0.0 4001 max-connections 16'), lines.join('\n'));
  t.true(lines.includes('  listen unix vm.sock max-connections 1'));
  for (const [line, message] of [
    ['listen 0.0.0.0 4005 max-connections', 'max-connections needs a number N: listen ... max-connections N'],
    ['listen 0.0.0.0 4005 max-connections 0', 'N must be a number 1..65535, got "0"'],
    ['listen 0.0.0.0 4005 maximum 3', 'expected max-connections, got "maximum"'],
    ['listen unix vm2.sock max-connections 70000', 'N must be a number 1..65535, got "70000"'],
  ]) {
    t.like(await at(session, 10, line), { ok: false, code: 'EBADARG', message }, line);
  }
});

test('no listen closes TCP and UNIX listeners', async (t) => {
  const { sw, session } = fixture();
  t.deepEqual(await at(session, 10, 'no listen 127.0.0.1 4000'), {
    ok: true,
    lines: ['stopped listening on 127.0.0.1:4000 in VLAN 10'],
    json: { stopped: { vid: 10, spec: { kind: 'tcp', host: '127.0.0.1', port: 4000 } } },
  });
  t.deepEqual(await at(session, 20, 'no listen unix /run/dives/vm.sock'), {
    ok: true,
    lines: ['stopped listening on unix:/run/dives/vm.sock in VLAN 20'],
    json: { stopped: { vid: 20, spec: { kind: 'unix', path: '/run/dives/vm.sock' } } },
  });
  // The trunk listeners are switch-level: `no listen ... trunk`.
  t.like(await at(session, null, 'no listen 127.0.0.1 4010 trunk'), { ok: true, lines: ['stopped listening for QEMU trunks on 127.0.0.1:4010'] });
  t.like(await at(session, null, 'no listen unix /run/dives/trunk.sock trunk'), { ok: true, lines: ['stopped listening for QEMU trunks on unix:/run/dives/trunk.sock'] });
  t.is(sw.listeners.length, 0);
});
