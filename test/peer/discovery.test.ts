// Tests for src/peer/discovery.ts: what it does with each kind of datagram on the group
// (its own, another switch's in either format, malformed, oversized, loopback from afar),
// and a real announce-and-hear round over loopback multicast.

import test from 'ava';
import { Discovery, type DiscoveryOptions } from '../../src/peer/discovery.js';
import { createLogger } from '../../src/core/log.js';
import type { Announcement } from '../../src/peer/wire/announcement.js';
import { encodeSockaddrAnnouncement, type AnnouncementFormat } from '../../src/peer/wire/sockaddr-announcement.js';
import { freeUdpPort } from '../helpers/peer-switches.js';
import { until } from '../helpers/until.js';

function discovery(over: Partial<DiscoveryOptions> = {}): { d: Discovery; heard: [Announcement, string][]; formats: AnnouncementFormat[] } {
  const heard: [Announcement, string][] = [];
  const formats: AnnouncementFormat[] = [];
  const d = new Discovery({
    group: '239.13.13.13',
    port: 3535,
    interfaceAddress: '127.0.0.1',
    ttl: 0,
    intervalMs: 1000,
    announcement: Buffer.from('10.0.0.1:3333'),
    log: createLogger('silent'),
    onAnnouncement: (a, s, f) => {
      heard.push([a, s]);
      formats.push(f);
    },
    ...over,
  });
  return { d, heard, formats };
}

test('another switch\'s announcement is handed on with its source, and our own is ignored', (t) => {
  const { d, heard } = discovery();
  d.receive(Buffer.from('10.0.0.2:3333'), '10.0.0.2');
  d.receive(Buffer.from('10.0.0.1:3333'), '10.0.0.1');
  t.deepEqual(heard, [[{ host: '10.0.0.2', port: 3333 }, '10.0.0.2']]);
  t.like(d.counters, { received: 2, own: 1, accepted: 1, malformed: 0 });
});

test('the original DiVES\'s sockaddr announcements are taken beside text, under the same rules, and counted', (t) => {
  const { d, heard, formats } = discovery();
  // As the Ruby switch on x86 sends 10.0.0.5:3333: 02 00, the port, the address, 8 zero bytes.
  d.receive(Buffer.from('02000d050a0000050000000000000000', 'hex'), '10.0.0.5');
  d.receive(Buffer.from('10.0.0.6:3333'), '10.0.0.6');
  d.receive(encodeSockaddrAnnouncement('2001:db8::7', 3333), '10.0.0.7');
  // Refused as text would be: a loopback address from afar, a wildcard, a bad family, bad padding.
  d.receive(encodeSockaddrAnnouncement('127.0.0.1', 3333), '10.0.0.9');
  d.receive(Buffer.from('02000d05000000000000000000000000', 'hex'), '10.0.0.9');
  d.receive(Buffer.from('0a000d050a0000050000000000000000', 'hex'), '10.0.0.9');
  d.receive(Buffer.from('02000d050a0000050000000000000001', 'hex'), '10.0.0.9');
  t.deepEqual(heard, [
    [{ host: '10.0.0.5', port: 3333 }, '10.0.0.5'],
    [{ host: '10.0.0.6', port: 3333 }, '10.0.0.6'],
    [{ host: '2001:db8::7', port: 3333 }, '10.0.0.7'],
  ]);
  t.deepEqual(formats, ['sockaddr', 'text', 'sockaddr']);
  t.like(d.counters, { received: 7, accepted: 3, sockaddr: 2, malformed: 4 });
});

test('a switch announcing sockaddrs ignores its own, byte for byte', (t) => {
  const own = encodeSockaddrAnnouncement('10.0.0.1', 3333);
  const { d, heard } = discovery({ announcement: own });
  d.receive(Buffer.from(own), '10.0.0.1');
  t.deepEqual(heard, []);
  t.like(d.counters, { received: 1, own: 1, accepted: 0, sockaddr: 0, malformed: 0 });
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
