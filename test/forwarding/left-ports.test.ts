// Tests for src/forwarding/left-ports.ts: what stays of a port that left its VLAN. Pure
// units; test/qemu/qemu-ports.test.ts follows a real VM's drops past its disconnect.

import test from 'ava';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../src/core/log.js';
import { LeftPorts } from '../../src/forwarding/left-ports.js';
import { PortTable } from '../../src/forwarding/port-table.js';

function fixture() {
  const out = new PassThrough();
  let log = '';
  out.on('data', (d: Buffer) => (log += d.toString()));
  const ports = new PortTable();
  return { ports, left: new LeftPorts(ports, createLogger('info', out)), log: () => log };
}

test('I/O-thread drops of a port that left are added to its VLAN and logged with their reasons', (t) => {
  const { left, log } = fixture();
  left.ioThread(10, 'tap tap0', { 'rx-ring-full': 3, 'tap-write': 2 });
  left.ioThread(10, 'tap tap1', { 'tap-write': 1 });
  left.ioThread(20, 'tap tap2', { 'rx-ring-full': 0 });
  t.is(left.ioDrops(10), 6);
  t.is(left.ioDrops(20), 0);
  t.is(left.ioDrops(30), 0);
  const lines = log().trim().split('\n');
  t.is(lines.length, 2, 'a port that dropped nothing is not logged');
  t.regex(lines[0], /VLAN 10: tap tap0 left with drops rx-ring-full 3, tap-write 2 \(kept in show vlans' left-port-drops\)$/);
});

test('forwarding-thread drops are logged under the port\'s name (the thread counts them itself)', (t) => {
  const { ports, left, log } = fixture();
  const p = ports.add('qemu', 10, 'qemu:127.0.0.1:4000#1');
  left.forwarding(10, p.id, { 'ring-full': 7, runt: 1 });
  left.forwarding(10, 99, { giant: 1 });
  t.is(left.ioDrops(10), 0);
  t.regex(log(), /VLAN 10: qemu:127\.0\.0\.1:4000#1 left with drops runt 1, ring-full 7 /);
  t.regex(log(), /VLAN 10: port 99 left with drops giant 1 /);
});

test('ports leaving with drops again and again are logged a few at a time, the rest counted', (t) => {
  const { left, log } = fixture();
  for (let i = 0; i < 1000; i++) left.ioThread(10, `qemu:127.0.0.1:4000#${i}`, { runt: 1 });
  t.is(left.ioDrops(10), 1000, 'every drop is kept');
  const lines = log().trim().split('\n');
  t.is(lines.length, 5);
  t.regex(lines[4], /further similar lines are suppressed for up to 60 s, and counted\)$/);
});
