// Tests for the original DiVES's announcement format: the 16-byte sockaddr_in and the
// 28-byte sockaddr_in6, byte for byte as the Ruby switch sends them; what is refused; and
// that text and sockaddr announcements are never mistaken for each other.
// Pure unit tests on the test runner's thread; no sockets.

import test from 'ava';
import {
  encodeSockaddrAnnouncement,
  looksLikeSockaddr,
  parseSockaddrAnnouncement,
} from '../../../src/peer/wire/sockaddr-announcement.js';
import { acceptFromSource, encodeAnnouncement } from '../../../src/peer/wire/announcement.js';
import { LITTLE_ENDIAN } from '../../../src/linux/libc.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/ /g, ''), 'hex');

test('the original on x86 announces 10.99.0.2:3333 as 02 00, the port and address in network order, then 8 zero bytes', (t) => {
  const wire = hex('0200 0d05 0a630002 0000000000000000');
  t.deepEqual(parseSockaddrAnnouncement(wire), { ok: true, value: { host: '10.99.0.2', port: 3333 } });
  t.true(looksLikeSockaddr(wire));
  if (LITTLE_ENDIAN) t.deepEqual(encodeSockaddrAnnouncement('10.99.0.2', 3333), wire);
});

test('the family is accepted in either byte order, since the original writes its own host\'s', (t) => {
  t.like(parseSockaddrAnnouncement(hex('0002 0d05 0a630002 0000000000000000')), { ok: true, value: { host: '10.99.0.2', port: 3333 } });
  t.like(parseSockaddrAnnouncement(hex('000a 0d05 00000000 20010db8000000000000000000000007 00000000')), { ok: true, value: { host: '2001:db8::7', port: 3333 } });
});

test('a 28-byte sockaddr_in6 round-trips, the address compressed as the peer socket reports it', (t) => {
  for (const [address, shown] of [
    ['2001:db8::7', '2001:db8::7'],
    ['2001:DB8:0:0:0:0:0:7', '2001:db8::7'],
    ['::ffff:10.0.0.1', '::ffff:10.0.0.1'],
    ['fe80::1', 'fe80::1'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
  ]) {
    const wire = encodeSockaddrAnnouncement(address, 4000);
    t.is(wire.length, 28);
    t.deepEqual(parseSockaddrAnnouncement(wire), { ok: true, value: { host: shown, port: 4000 } }, address);
  }
});

test('malformed sockaddrs are refused with a reason', (t) => {
  const bad: [string, RegExp][] = [
    ['0200 0d05 0a630002 00000000000000', /16 or 28 bytes, not 15/],
    ['0200 0d05 0a630002 000000000000000000', /not 17/],
    ['0a00 0d05 0a630002 0000000000000000', /family 0x0a00 is not AF_INET/],
    ['0200 0000 0a630002 0000000000000000', /port 0/],
    ['0200 0d05 0a630002 0000000000000001', /sin_zero/],
    ['0200 0d05 00000000 0000000000000000', /wildcard/],
    ['0200 0d05 00010203 0000000000000000', /wildcard/],
    ['0a00 0d05 00000000 00000000000000000000000000000000 00000000', /wildcard/],
    ['0a00 0d05 00000001 20010db8000000000000000000000007 00000000', /flowinfo/],
    ['0a00 0d05 00000000 fe800000000000000000000000000001 00000002', /scope_id/],
    ['0200 0d05 00000000 20010db8000000000000000000000007 00000000', /not AF_INET6/],
  ];
  for (const [wire, reason] of bad) {
    const r = parseSockaddrAnnouncement(hex(wire));
    t.false(r.ok, wire);
    if (!r.ok) t.regex(r.reason, reason, wire);
  }
});

test('a loopback sockaddr is taken from a loopback source only, as text is', (t) => {
  const r = parseSockaddrAnnouncement(encodeSockaddrAnnouncement('127.0.0.1', 3401));
  t.true(r.ok);
  if (!r.ok) return;
  t.true(acceptFromSource(r.value, '127.0.0.1'));
  t.false(acceptFromSource(r.value, '10.0.0.9'));
});

test('encoding refuses names, zones, wildcards and bad ports', (t) => {
  t.throws(() => encodeSockaddrAnnouncement('node7.example', 3333), { code: 'EBADARG', message: /not an IPv4 or IPv6 address/ });
  t.throws(() => encodeSockaddrAnnouncement('fe80::1%eth0', 3333), { code: 'EBADARG' });
  t.throws(() => encodeSockaddrAnnouncement('0.0.0.0', 3333), { code: 'EBADARG', message: /wildcard/ });
  t.throws(() => encodeSockaddrAnnouncement('::', 3333), { code: 'EBADARG', message: /wildcard/ });
  t.throws(() => encodeSockaddrAnnouncement('10.0.0.1', 0), { code: 'EBADARG' });
});

test('no text announcement looks like a sockaddr, even one of 16 or 28 bytes', (t) => {
  for (const text of ['10.99.0.12:33333', 'node-seven.ab:33', '[2001:db8::7777]:3333', 'a'.repeat(25) + ':99']) {
    t.false(looksLikeSockaddr(encodeAnnouncement(...(splitHostPort(text) as [string, number]))), text);
  }
  t.false(looksLikeSockaddr(hex('0200 0d05 0a630002 00000000000000')), '15 bytes is no sockaddr');
});

function splitHostPort(text: string): [string, number] {
  const colon = text.lastIndexOf(':');
  return [text.slice(0, colon).replace(/^\[|\]$/g, ''), Number(text.slice(colon + 1))];
}
