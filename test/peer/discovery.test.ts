// Tests for src/peer/discovery.ts: what it does with each kind of datagram on the group
// (its own, another switch's, malformed, oversized, loopback from afar), and a real
// announce-and-hear round over loopback multicast.

import test from 'ava';
import { Discovery, type DiscoveryOptions } from '../../src/peer/discovery.js';
import { createLogger } from '../../src/core/log.js';
import type { Announcement } from '../../src/peer/wire/announcement.js';
import { freeUdpPort, until } from '../helpers/peer-switches.js';

function discovery(over: Partial<DiscoveryOptions> = {}): { d: Discovery; heard: [Announcement, string][] } {
  const heard: [Announcement, string][] = [];
  const d = new Discovery({
    group: '239.13.13.13',
    port: 3535,
    interfaceAddress: '127.0.0.1',
    ttl: 0,
    intervalMs: 1000,
    announcement: Buffer.from('10.0.0.1:3333'),
    log: createLogger('silent'),
    onAnnouncement: (a, s) => heard.push([a, s]),
    ...over,
  });
  return { d, heard };
}

test('another switch\'s announcement is handed on with its source, and our own is ignored', (t) => {
  const { d, heard } = discovery();
  d.receive(Buffer.from('10.0.0.2:3333'), '10.0.0.2');
  d.receive(Buffer.from('10.0.0.1:3333'), '10.0.0.1');
  t.deepEqual(heard, [[{ host: '10.0.0.2', port: 3333 }, '10.0.0.2']]);
  t.like(d.counters, { received: 2, own: 1, accepted: 1, malformed: 0 });
});

test('malformed and oversized announcements are counted and dropped', (t) => {
  const { d, heard } = discovery();
  for (const bad of ['', '10.0.0.2:3333\n', '10.0.0.2', '0.0.0.0:3333', 'host_1:3333', '10.0.0.2:0', '[10.0.0.2]:3333']) d.receive(Buffer.from(bad), '10.0.0.9');
  d.receive(Buffer.alloc(260, 0x61), '10.0.0.9');
  d.receive(Buffer.alloc(9000, 0x61), '10.0.0.9');
  t.deepEqual(heard, []);
  t.like(d.counters, { received: 9, malformed: 9, oversized: 2, accepted: 0 });
});

test('a loopback announcement is accepted from a loopback source only', (t) => {
  const { d, heard } = discovery();
  d.receive(Buffer.from('127.0.0.1:3334'), '10.0.0.9');
  d.receive(Buffer.from('localhost:3334'), '10.0.0.9');
  d.receive(Buffer.from('127.0.0.1:3334'), '127.0.0.1');
  t.deepEqual(heard, [[{ host: '127.0.0.1', port: 3334 }, '127.0.0.1']]);
  t.like(d.counters, { malformed: 2, accepted: 1 });
});

test('two discoveries on one host share the group port and hear each other over loopback', async (t) => {
  const port = await freeUdpPort();
  const a = discovery({ port, group: '239.13.13.78', announcement: Buffer.from('127.0.0.1:4001'), intervalMs: 100 });
  const b = discovery({ port, group: '239.13.13.78', announcement: Buffer.from('127.0.0.1:4002'), intervalMs: 100 });
  t.teardown(() => a.d.close());
  t.teardown(() => b.d.close());
  await a.d.start();
  await b.d.start();
  await until(() => a.heard.length > 0 && b.heard.length > 0, 3000, 'both announcements');
  t.deepEqual(a.heard[0], [{ host: '127.0.0.1', port: 4002 }, '127.0.0.1']);
  t.deepEqual(b.heard[0], [{ host: '127.0.0.1', port: 4001 }, '127.0.0.1']);
  t.true(a.d.counters.own > 0 && a.d.counters.sent > 0);
});

test('a group that is not IPv4, or an interface address that is not local, is refused', async (t) => {
  await t.throwsAsync(discovery({ group: 'ff02::1' }).d.start(), { code: 'EBADARG', message: /IPv4 multicast/ });
  const port = await freeUdpPort();
  const bad = discovery({ port, interfaceAddress: '192.0.2.77' }).d;
  await t.throwsAsync(bad.start(), { code: 'ELISTEN', message: /--multicast-if/ });
});
