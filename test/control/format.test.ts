// Tests for src/control/format.ts: column alignment, empty tables, ages and drop
// counters as `show` commands print them. Pure units.

import test from 'ava';
import { formatAge, formatBytes, formatColumns, formatCounters, formatTable, quote } from '../../src/control/format.js';

test('columns are as wide as their widest cell, two spaces apart, with no trailing spaces', (t) => {
  t.deepEqual(
    formatColumns([
      ['MAC', 'PORT', 'AGE'],
      ['02:00:00:00:00:01', 'tap:tap0', '3s'],
      ['02:00:00:00:00:02', 'qemu:127.0.0.1:4000#3', '1m05s'],
    ]),
    [
      'MAC                PORT                   AGE',
      '02:00:00:00:00:01  tap:tap0               3s',
      '02:00:00:00:00:02  qemu:127.0.0.1:4000#3  1m05s',
    ],
  );
});

test('an indent is put before every row', (t) => {
  t.deepEqual(formatColumns([['a', 'b'], ['ccc', 'd']], '  '), ['  a    b', '  ccc  d']);
});

test('an empty table prints its header and the empty line', (t) => {
  t.deepEqual(formatTable(['MAC', 'PORT', 'AGE'], [], '(no MACs learned)'), ['MAC  PORT  AGE', '(no MACs learned)']);
});

test('ages read as seconds, minutes, hours and days', (t) => {
  t.is(formatAge(0), '0s');
  t.is(formatAge(3.9), '3s');
  t.is(formatAge(59), '59s');
  t.is(formatAge(65), '1m05s');
  t.is(formatAge(3599), '59m59s');
  t.is(formatAge(3600 + 7 * 60 + 30), '1h07m');
  t.is(formatAge(2 * 86400 + 4 * 3600), '2d04h');
  t.is(formatAge(-1), '0s');
});

test('drops print only the non-zero counters, or none', (t) => {
  t.is(formatCounters('drops', { runt: 0, 'ring-full': 3, giant: 0, 'same-port': 1 }), 'drops: ring-full=3 same-port=1');
  t.is(formatCounters('drops', { runt: 0, 'ring-full': 0 }), 'drops: none');
  t.is(formatCounters('drops', {}), 'drops: none');
});

test('quote shows a word exactly, escaping quotes', (t) => {
  t.is(quote('shw macs'), '"shw macs"');
  t.is(quote('a"b'), '"a\\"b"');
});

test('sizes print in the largest binary unit that keeps them at 1 or more', (t) => {
  t.is(formatBytes(0), '0 B');
  t.is(formatBytes(512), '512 B');
  t.is(formatBytes(4 << 20), '4 MiB');
  t.is(formatBytes(1536), '1.5 KiB');
  t.is(formatBytes(3 * 2 ** 30), '3 GiB');
});
