// Tests for src/qemu/listen-spec.ts: how a listener's address is written. Pure units.

import test from 'ava';
import { formatListenSpec } from '../../src/qemu/listen-spec.js';
test('listener specs print as the address QEMU connects to', (t) => {
  t.is(formatListenSpec({ kind: 'tcp', host: '127.0.0.1', port: 4000 }), '127.0.0.1:4000');
  t.is(formatListenSpec({ kind: 'tcp', host: '::1', port: 4000 }), '[::1]:4000');
  t.is(formatListenSpec({ kind: 'unix', path: '/run/vm.sock' }), 'unix:/run/vm.sock');
});
