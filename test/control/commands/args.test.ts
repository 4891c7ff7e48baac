// Tests for src/control/commands/args.ts: the validators of command arguments.
// Pure units.

import test from 'ava';
import { parseDevname, parseHostname, parseMacWord, parsePath, parsePort, parseVid } from '../../../src/control/commands/args.js';
test('VLAN ids are 1..4094 in plain decimal', (t) => {
  t.is(parseVid('1'), 1);
  t.is(parseVid('4094'), 4094);
  t.is(parseVid('0010'), 10);
  for (const bad of ['0', '4095', 'abc', '', '-1', '1.5', '0x10', '10a', '99999']) {
    t.throws(() => parseVid(bad), { code: 'EBADARG', message: `VLAN ID must be a number 1..4094, got ${JSON.stringify(bad)}` }, bad);
  }
});

test('ports are 1..65535', (t) => {
  t.is(parsePort('1'), 1);
  t.is(parsePort('65535'), 65535);
  for (const bad of ['0', '65536', 'http', '', '1e3', '123456']) {
    t.throws(() => parsePort(bad), { code: 'EBADARG' }, bad);
  }
});

test('device names are 1..15 characters of letters, digits, _ . and -', (t) => {
  t.is(parseDevname('tap0'), 'tap0');
  t.is(parseDevname('a.b-c_D9'), 'a.b-c_D9');
  t.is(parseDevname('x'.repeat(15)), 'x'.repeat(15));
  for (const bad of ['', 'x'.repeat(16), 'tap/0', 'tap 0', 'täp', 'tap:0']) {
    t.throws(() => parseDevname(bad), { code: 'EBADARG' }, bad);
  }
});

test('host names take IPv4, IPv6 with or without brackets, and names, but not nothing', (t) => {
  t.is(parseHostname('10.0.0.1'), '10.0.0.1');
  t.is(parseHostname('fe80::1'), 'fe80::1');
  t.is(parseHostname('[fe80::1]'), 'fe80::1');
  t.is(parseHostname('host-1.example'), 'host-1.example');
  t.throws(() => parseHostname(''), { code: 'EBADARG' });
  t.throws(() => parseHostname('[]'), { code: 'EBADARG' });
});

test('paths may be absolute or relative but not empty', (t) => {
  t.is(parsePath('/run/vm.sock'), '/run/vm.sock');
  t.is(parsePath('vm.sock'), 'vm.sock');
  t.throws(() => parsePath(''), { code: 'EBADARG' });
  t.throws(() => parsePath('a\0b'), { code: 'EBADARG' });
});

test('MACs for the crash drill are unicast, written as people write them', (t) => {
  t.is(parseMacWord('02:00:00:00:00:01'), '02:00:00:00:00:01');
  t.is(parseMacWord('2-0-0-0-0-1'), '2-0-0-0-0-1');
  for (const bad of ['01:00:5e:00:00:01', 'ff:ff:ff:ff:ff:ff', '02:00:00:00:00', 'x']) t.throws(() => parseMacWord(bad), { code: 'EBADARG' }, bad);
});
