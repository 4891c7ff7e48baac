// Tests for the peer thread's system-call layer: src/linux/udp-socket.ts (sockaddrs,
// exclusive bind), src/linux/mmsg.ts (recvmmsg/sendmmsg batches against node:dgram
// sockets on loopback) and the eventfd doorbell (src/core/doorbell.ts, src/linux/eventfd.ts).
// Runs in the ava test process; every socket and fd is closed in t.teardown.

import test from 'ava';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { Doorbell } from '../../src/core/doorbell.js';
import { isDivesError } from '../../src/core/errors.js';
import { eventfdClose, eventfdDrain, eventfdOpen } from '../../src/linux/eventfd.js';
import { POLLIN, loadLibc } from '../../src/linux/libc.js';
import { MmsgBatch, addressOf } from '../../src/linux/mmsg.js';
import { privTest } from '../helpers/privileged.js';
import { until } from '../helpers/until.js';
import { SOCKADDR_MAX, UdpSocket, sockaddrEqual, sockaddrFor, sockaddrKey, sockaddrParts } from '../../src/linux/udp-socket.js';

async function dgramSocket(t: import('ava').ExecutionContext, onMessage?: (m: Buffer, r: dgram.RemoteInfo) => void): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  if (onMessage !== undefined) s.on('message', onMessage);
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  t.teardown(() => s.close());
  return s;
}

function readable(fd: number): boolean {
  const pfd = new Int32Array(2);
  const shorts = new Int16Array(pfd.buffer);
  pfd[0] = fd;
  shorts[2] = POLLIN;
  return loadLibc().poll(pfd, 1, 0) === 1;
}

test('sockaddrs encode and decode IPv4 and IPv6; the IPv4 key is exact; bad addresses are refused', (t) => {
  const a = sockaddrFor('udp4', '10.98.0.2', 3333);
  t.is(a.length, 16);
  t.deepEqual(sockaddrParts('udp4', a), { address: '10.98.0.2', port: 3333 });
  t.is(sockaddrKey('udp4', a, 0), ((10 * 2 ** 24 + 98 * 2 ** 16 + 2) * 65536) + 3333);
  const b = sockaddrFor('udp6', '2001:db8::1', 65535);
  t.is(b.length, 28);
  t.deepEqual(sockaddrParts('udp6', b), { address: '2001:db8::1', port: 65535 });
  t.true(sockaddrEqual('udp6', b, 0, sockaddrFor('udp6', '2001:db8:0::1', 65535), 0));
  t.false(sockaddrEqual('udp6', b, 0, sockaddrFor('udp6', '2001:db8::2', 65535), 0));
  t.false(sockaddrEqual('udp4', a, 0, sockaddrFor('udp4', '10.98.0.2', 3334), 0));
  // Another sockaddr inside a bigger buffer, at an offset, compares the same.
  const big = Buffer.alloc(64);
  a.copy(big, 28);
  t.true(sockaddrEqual('udp4', big, 28, a, 0));
  t.is(sockaddrKey('udp4', big, 28), sockaddrKey('udp4', a, 0));
  for (const [family, addr] of [['udp4', '::1'], ['udp6', '10.0.0.1'], ['udp4', 'host.example'], ['udp6', 'fe80::1%no-such-if0']] as const) {
    const err = t.throws(() => sockaddrFor(family, addr, 1));
    t.true(isDivesError(err) && err.code === 'EBADARG', `${family} ${addr}`);
  }
});

test('a bound socket reports the port the kernel chose, and a second bind of that port is refused with the reason', (t) => {
  const s = UdpSocket.bind('udp4', '127.0.0.1', 0, 1 << 20);
  t.teardown(() => s.close());
  t.is(s.address, '127.0.0.1');
  t.true(s.port > 0);
  const err = t.throws(() => UdpSocket.bind('udp4', '127.0.0.1', s.port, 1 << 20));
  t.true(isDivesError(err) && err.code === 'ELISTEN');
  t.regex(String(err?.message), /EADDRINUSE/);
});

test('recvmmsg takes several datagrams in one call with their senders, and flags one longer than a slot', async (t) => {
  const s = UdpSocket.bind('udp4', '127.0.0.1', 0, 1 << 20);
  t.teardown(() => s.close());
  const sender = await dgramSocket(t);
  const sizes = [1, 64, 1500, 200, 100];
  for (const n of sizes) await new Promise<void>((r) => sender.send(Buffer.alloc(n, n & 0xff), s.port, '127.0.0.1', () => r()));
  await new Promise<void>((r) => sender.send(Buffer.alloc(3000, 7), s.port, '127.0.0.1', () => r()));
  const batch = new MmsgBatch(4, 2048);
  const got: { len: number; trunc: boolean; first: number; from: number }[] = [];
  await until(() => {
    const n = batch.recv(s.fd);
    for (let i = 0; i < n; i++) {
      got.push({ len: batch.len(i), trunc: batch.truncated(i), first: batch.slot[i][0], from: sockaddrParts('udp4', batch.names, i * SOCKADDR_MAX).port });
    }
    return got.length >= 6;
  }, 3000, 'six datagrams through recvmmsg', { everyMs: 5 });
  t.is(got.length, 6);
  t.deepEqual(got.map((g) => g.len), [...sizes, 2048]);
  t.deepEqual(got.map((g) => g.trunc), [false, false, false, false, false, true]);
  t.deepEqual(got.slice(0, 5).map((g) => g.first), sizes.map((n) => n & 0xff));
  t.true(got.every((g) => g.from === sender.address().port));
  t.is(batch.recv(s.fd), 0, 'nothing waiting: 0, not an error');
});

test('sendmmsg sends a batch to two destinations in one call, each datagram its own length and bytes', async (t) => {
  const s = UdpSocket.bind('udp4', '127.0.0.1', 0, 1 << 20);
  t.teardown(() => s.close());
  const inbox: Record<string, Buffer[]> = { a: [], b: [] };
  const ra = await dgramSocket(t, (m) => inbox.a.push(m));
  const rb = await dgramSocket(t, (m) => inbox.b.push(m));
  const libc = loadLibc();
  const to = [sockaddrFor('udp4', '127.0.0.1', ra.address().port), sockaddrFor('udp4', '127.0.0.1', rb.address().port)];
  const at = to.map((b) => addressOf(libc, b));
  const batch = new MmsgBatch(3, 1600);
  const plan = [[0, 10, 0xa1], [1, 1500, 0xb2], [0, 60, 0xc3]] as const;
  plan.forEach(([dest, len, fill], i) => {
    batch.slot[i].fill(fill, 0, len);
    batch.prepareSend(i, len, at[dest], to[dest].length);
  });
  t.is(batch.send(s.fd, 0, 3), 3);
  t.deepEqual([batch.len(0), batch.len(1), batch.len(2)], [10, 1500, 60]);
  await until(() => inbox.a.length >= 2 && inbox.b.length >= 1, 3000, 'two datagrams at a and one at b', { everyMs: 5 });
  t.deepEqual(inbox.a.map((m) => [m.length, m[0], m[m.length - 1]]), [[10, 0xa1, 0xa1], [60, 0xc3, 0xc3]]);
  t.deepEqual(inbox.b.map((m) => [m.length, m[0], m[m.length - 1]]), [[1500, 0xb2, 0xb2]]);
  // Sending from the middle of the batch: only the rest goes.
  t.is(batch.send(s.fd, 2, 1), 1);
  await until(() => inbox.a.length >= 3, 3000, 'the third datagram at a', { everyMs: 5 });
  t.is(inbox.a.length, 3);
});

test('a doorbell with an eventfd wakes a poll() sleeper only when it announced sleep, and on control', (t) => {
  const fd = eventfdOpen();
  t.teardown(() => eventfdClose(fd));
  const bell = new Doorbell();
  bell.attachEventfd(fd);
  t.is(new Doorbell(bell.sab).eventfd, fd, 'another thread sees the same eventfd');
  t.false(bell.ring(), 'an awake consumer costs the producer nothing');
  t.false(readable(fd));
  bell.prepareSleep();
  t.true(bell.ring());
  t.true(readable(fd));
  t.false(bell.ring(), 'only the first producer pays');
  eventfdDrain(fd);
  t.false(readable(fd));
  bell.control();
  t.true(readable(fd));
  eventfdDrain(fd);
  bell.attachEventfd(-1);
  t.is(bell.eventfd, -1);
  bell.prepareSleep();
  t.true(bell.ring());
  t.false(readable(fd), 'detached: producers notify the futex instead');
});

test('sleepPoll returns when the doorbell rings, when the fd has input, after its timeout, and -EBADF for a closed fd', async (t) => {
  const efd = eventfdOpen();
  t.teardown(() => eventfdClose(efd));
  const bell = new Doorbell();
  bell.attachEventfd(efd);
  const s = UdpSocket.bind('udp4', '127.0.0.1', 0, 1 << 16);
  t.teardown(() => s.close());
  let t0 = performance.now();
  bell.prepareSleep();
  t.is(bell.sleepPoll(s.fd, 40), 0);
  t.true(performance.now() - t0 >= 30, 'nothing to wake it: the timeout');
  bell.prepareSleep();
  t.true(bell.ring());
  t0 = performance.now();
  t.is(bell.sleepPoll(s.fd, 5000), 0, 'rung, and the fd has no input');
  t.true(performance.now() - t0 < 1000, 'rung: at once');
  t.false(readable(efd), 'the eventfd is drained for the next sleep');
  const sender = await dgramSocket(t);
  await new Promise<void>((r) => sender.send(Buffer.from('x'), s.port, '127.0.0.1', () => r()));
  t0 = performance.now();
  bell.prepareSleep();
  t.is(bell.sleepPoll(s.fd, 5000), 1, 'the fd has input');
  t.true(performance.now() - t0 < 1000, 'input on the fd: at once');
  // An fd number no process here has open (a closed one could be reused meanwhile).
  bell.prepareSleep();
  t.is(bell.sleepPoll(999_999, 5000), -9);
});

privTest('a bound socket gets the buffers it asked for past the sysctl cap when privileged, and says what the kernel gave', (t) => {
  const wmemMax = Number(readFileSync('/proc/sys/net/core/wmem_max', 'utf8'));
  const ask = Math.max(4 << 20, 2 * wmemMax);
  const s = UdpSocket.bind('udp4', '127.0.0.1', 0, ask);
  t.teardown(() => s.close());
  // Linux reports twice what it grants; asked past wmem_max, only SO_SNDBUFFORCE gets it.
  t.is(s.sendBuffer, 2 * ask, `send buffer ${s.sendBuffer} (wmem_max ${wmemMax})`);
  t.is(s.receiveBuffer, 2 * ask);
});
