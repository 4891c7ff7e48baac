// Tests for src/qemu/qemu-conn.ts: what a connection asks poll() for as it is placed,
// read, blocked by a full rx ring and left with bytes to write. Pure units: rings in
// memory, no socket is read or written.

import test from 'ava';
import { FrameTrace } from '../../src/core/frame-trace.js';
import { Ring } from '../../src/core/ring.js';
import { POLLIN, POLLOUT } from '../../src/linux/libc.js';
import { QemuConn } from '../../src/qemu/qemu-conn.js';
import { push } from '../helpers/ring-io.js';

const FD = 99;

function conn(ringBytes = 1 << 20): { c: QemuConn; rx: Ring } {
  const c = new QemuConn(1, FD, 1, 'test', 65535, new FrameTrace());
  const rx = Ring.create(ringBytes);
  c.attach(5, 0, rx, Ring.create(ringBytes));
  return { c, rx };
}

test('before it has a port a connection is polled for nothing but a hang-up; once attached, for input', (t) => {
  const c = new QemuConn(1, FD, 1, 'test', 65535, new FrameTrace());
  t.deepEqual([c.pollFd(), c.pollEvents()], [FD, 0]);
  c.attach(5, 0, Ring.create(1 << 20), Ring.create(1 << 20));
  t.deepEqual([c.pollFd(), c.pollEvents()], [FD, POLLIN]);
});

test('a connection whose rx ring has no room for a read gets no budget, and once blocked is not polled at all (a hang-up must not spin the thread)', (t) => {
  const { c, rx } = conn();
  t.is(c.readBudget(256 * 1024), 256 * 1024);
  // Fill the ring until less than a read's worth (plus the framer's and wrap's room) is left.
  const frame = Buffer.alloc(60_000);
  while (rx.room() > 140_000) t.is(push(rx, frame, 0, frame.length, 0), 1);
  t.is(c.readBudget(256 * 1024), 0);
  c.blocked = true;
  t.deepEqual([c.pollFd(), c.pollEvents()], [-1, 0]);
  // Bytes still to write: polled for room to write them, blocked or not.
  c.pendingLen = 10;
  t.deepEqual([c.pollFd(), c.pollEvents()], [FD, POLLOUT]);
  c.pendingLen = 0;
  // The forwarding thread drains the ring: a read fits again.
  rx.consume(1000, () => {});
  t.is(c.readBudget(256 * 1024), 256 * 1024);
  c.blocked = false;
  t.deepEqual([c.pollFd(), c.pollEvents()], [FD, POLLIN]);
});
