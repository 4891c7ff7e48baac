// Tests for the discovery codec: which HOST:PORT announcements are accepted, each way
// one is rejected, encoding, and the loopback-source rule.
// Pure unit tests on the test runner's thread; no sockets.

import test from 'ava';
import {
  MAX_ANNOUNCEMENT,
  acceptFromSource,
  encodeAnnouncement,
  isLoopbackHost,
  isWildcardHost,
  parseAnnouncement,
  parseAnnouncementReason,
} from '../../../src/peer/wire/announcement.js';
import { isDivesError } from '../../../src/core/errors.js';

const ascii = (s: string): Uint8Array => Buffer.from(s, 'latin1');

// 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 characters, the longest hostname allowed.
const LONGEST_HOST = ['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(61)].join('.');

const accepted: [string, string, number][] = [
  ['switch1:3333', 'switch1', 3333],
  ['a:1', 'a', 1],
  ['Node-7.Cluster.example.com:65535', 'Node-7.Cluster.example.com', 65535],
  ['1host:3333', '1host', 3333],
  ['192.168.1.10:3333', '192.168.1.10', 3333],
  ['10.0.0.1:3535', '10.0.0.1', 3535],
  ['255.255.255.255:9', '255.255.255.255', 9],
  ['127.0.0.1:3333', '127.0.0.1', 3333],
  ['localhost:3333', 'localhost', 3333],
  ['[::1]:3333', '::1', 3333],
  ['[fe80::1]:3333', 'fe80::1', 3333],
  ['[2001:db8::42:1]:3333', '2001:db8::42:1', 3333],
  ['[::ffff:10.0.0.1]:3333', '::ffff:10.0.0.1', 3333],
  [`${LONGEST_HOST}:65535`, LONGEST_HOST, 65535],
];

for (const [text, host, port] of accepted) {
  test(`"${text.length > 40 ? `${text.slice(0, 20)}...(${text.length} bytes)` : text}" is accepted`, (t) => {
    t.deepEqual(parseAnnouncement(ascii(text)), { host, port });
    t.deepEqual(parseAnnouncementReason(ascii(text)), { ok: true, value: { host, port } });
  });
}

test('the longest valid announcement is exactly MAX_ANNOUNCEMENT bytes', (t) => {
  t.is(MAX_ANNOUNCEMENT, 259);
  t.is(`${LONGEST_HOST}:65535`.length, MAX_ANNOUNCEMENT);
});

test('an announcement inside a larger buffer is parsed from its own bytes only', (t) => {
  const big = ascii('xxxxhost:3333yyyy');
  t.deepEqual(parseAnnouncement(big.subarray(4, 13)), { host: 'host', port: 3333 });
});

// [name, datagram, a word the reason must contain]
const rejected: [string, Uint8Array, string][] = [
  ['an empty datagram', ascii(''), 'empty'],
  ['one byte over MAX_ANNOUNCEMENT', ascii(`${LONGEST_HOST}:655350`), 'longer'],
  ['a very long datagram', new Uint8Array(1500).fill(0x61), 'longer'],
  ['a trailing newline', ascii('host:3333\n'), 'printable'],
  ['a trailing CR LF', ascii('host:3333\r\n'), 'printable'],
  ['a trailing NUL', ascii('host:3333\0'), 'printable'],
  ['a space', ascii('host: 3333'), 'printable'],
  ['a leading space', ascii(' host:3333'), 'printable'],
  ['a tab', ascii('host:\t3333'), 'printable'],
  ['two announcements in one datagram', ascii('a:1 b:2'), 'printable'],
  ['a non-ASCII byte', Buffer.from('hôst:3333', 'utf8'), 'printable'],
  ['DEL', ascii('host:3333\x7f'), 'printable'],
  ['no port', ascii('host'), ':PORT'],
  ['an empty port', ascii('host:'), 'port'],
  ['an empty host', ascii(':3333'), 'empty host'],
  ['port 0', ascii('host:0'), 'port'],
  ['port 65536', ascii('host:65536'), 'port'],
  ['port 99999', ascii('host:99999'), 'port'],
  ['a port with a leading zero', ascii('host:03333'), 'port'],
  ['a port with a plus sign', ascii('host:+3333'), 'port'],
  ['a negative port', ascii('host:-1'), 'port'],
  ['a port with letters', ascii('host:33a'), 'port'],
  ['a hex port', ascii('host:0x10'), 'port'],
  ['a six-digit port', ascii('host:100000'), 'port'],
  ['two colons', ascii('host:3333:4444'), 'more than one'],
  ['a comma-joined pair', ascii('a:1,b:2'), 'more than one'],
  ['an unbracketed IPv6 address', ascii('::1:3333'), 'more than one'],
  ['a bracketed address without a port', ascii('[::1]'), ':PORT'],
  ['a bracketed address without a colon', ascii('[::1]3333'), ':PORT'],
  ['an unclosed bracket', ascii('[::1:3333'), 'closing'],
  ['a hostname in brackets', ascii('[host]:3333'), 'brackets'],
  ['an IPv4 address in brackets', ascii('[10.0.0.1]:3333'), 'brackets'],
  ['an IPv6 zone id', ascii('[fe80::1%eth0]:3333'), 'zone'],
  ['a malformed IPv6 address', ascii('[1::2::3]:3333'), 'IPv6'],
  ['an IPv6 address with a bad group', ascii('[12345::1]:3333'), 'IPv6'],
  ['a label starting with "-"', ascii('-host:3333'), 'label'],
  ['a label ending with "-"', ascii('host-.example:3333'), 'label'],
  ['an underscore', ascii('my_host:3333'), 'label'],
  ['a doubled dot', ascii('a..b:3333'), 'empty label'],
  ['a leading dot', ascii('.host:3333'), 'empty label'],
  ['a trailing dot', ascii('host.:3333'), 'empty label'],
  ['a 64-character label', ascii(`${'a'.repeat(64)}.com:1`), 'label'],
  ['a 254-character hostname', ascii(`${LONGEST_HOST}e:1`), 'longer than 253'],
  ['an octet over 255', ascii('256.1.1.1:3333'), 'octet'],
  ['an octet with a leading zero', ascii('10.0.0.01:3333'), 'octet'],
  ['three octets', ascii('10.0.1:3333'), 'dotted quad'],
  ['five octets', ascii('10.0.0.1.5:3333'), 'dotted quad'],
  ['a bare number', ascii('3232235777:3333'), 'dotted quad'],
  ['an all-numeric last label', ascii('host.123:3333'), 'dotted quad'],
  ['the IPv4 wildcard', ascii('0.0.0.0:3333'), 'wildcard'],
  ['an address in 0.0.0.0/8', ascii('0.1.2.3:3333'), 'wildcard'],
  ['the IPv6 wildcard', ascii('[::]:3333'), 'wildcard'],
  ['the IPv6 wildcard written out', ascii('[0:0:0:0:0:0:0:0]:3333'), 'wildcard'],
  ['the IPv4-mapped wildcard', ascii('[::ffff:0.0.0.0]:3333'), 'wildcard'],
];

for (const [name, buf, word] of rejected) {
  test(`an announcement with ${name} is rejected`, (t) => {
    t.is(parseAnnouncement(buf), null);
    const r = parseAnnouncementReason(buf);
    if (r.ok) {
      t.fail(`accepted as ${JSON.stringify(r.value)}`);
      return;
    }
    t.true(r.reason.includes(word), `reason "${r.reason}" should mention "${word}"`);
  });
}

test('a rejection reason never echoes unprintable bytes', (t) => {
  const r = parseAnnouncementReason(ascii('host\x1b[2J:3333'));
  t.false(r.ok);
  if (!r.ok) t.regex(r.reason, /^[\x20-\x7e]+$/);
});

for (const [host, port, text] of [
  ['switch1', 3333, 'switch1:3333'],
  ['10.1.2.3', 3535, '10.1.2.3:3535'],
  ['::1', 3333, '[::1]:3333'],
  ['2001:db8::1', 1, '[2001:db8::1]:1'],
  [LONGEST_HOST, 65535, `${LONGEST_HOST}:65535`],
] as [string, number, string][]) {
  test(`encoding ${host.length > 20 ? `a ${host.length}-character host` : host} port ${port} gives "${text.length > 30 ? '...' : text}" and parses back`, (t) => {
    const buf = encodeAnnouncement(host, port);
    t.is(buf.toString('latin1'), text);
    t.true(buf.length <= MAX_ANNOUNCEMENT);
    t.deepEqual(parseAnnouncement(buf), { host, port });
  });
}

for (const [host, port, why] of [
  ['host', 0, 'port 0'],
  ['host', 65536, 'port 65536'],
  ['host', 1.5, 'a fractional port'],
  ['host', Number.NaN, 'a NaN port'],
  ['', 3333, 'an empty host'],
  ['[::1]', 3333, 'a bracketed IPv6 host'],
  ['my host', 3333, 'a host with a space'],
  ['host\n', 3333, 'a host with a newline'],
  ['-bad', 3333, 'a label starting with "-"'],
  ['a'.repeat(64), 3333, 'a 64-character label'],
  ['300.1.1.1', 3333, 'an octet over 255'],
  ['fe80::1%eth0', 3333, 'an IPv6 zone id'],
  ['0.0.0.0', 3333, 'the IPv4 wildcard'],
  ['::', 3333, 'the IPv6 wildcard'],
] as [string, number, string][]) {
  test(`encoding ${why} throws EBADARG`, (t) => {
    const err = t.throws(() => encodeAnnouncement(host, port));
    t.true(isDivesError(err));
    t.is((err as { code?: string }).code, 'EBADARG');
  });
}

test('wildcard hosts are recognised in every spelling', (t) => {
  for (const h of ['0.0.0.0', '0.255.1.1', '::', '0::0', '::ffff:0.0.0.0']) t.true(isWildcardHost(h), h);
  for (const h of ['1.0.0.0', '::1', 'host', '10.0.0.0']) t.false(isWildcardHost(h), h);
});

test('loopback hosts are 127.0.0.0/8, ::1, their mapped forms and localhost names', (t) => {
  for (const h of ['127.0.0.1', '127.255.0.9', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LocalHost', 'a.localhost']) {
    t.true(isLoopbackHost(h), h);
  }
  for (const h of ['128.0.0.1', '10.0.0.1', '::2', 'host', 'localhost.example.com', 'notlocalhost']) t.false(isLoopbackHost(h), h);
});

test('a loopback announcement is accepted only from a loopback source', (t) => {
  const v4 = { host: '127.0.0.1', port: 3333 };
  const v6 = { host: '::1', port: 3333 };
  const named = { host: 'localhost', port: 3333 };
  t.true(acceptFromSource(v4, '127.0.0.1'));
  t.true(acceptFromSource(v4, '127.0.0.53'));
  t.true(acceptFromSource(v4, '::ffff:127.0.0.1'));
  t.true(acceptFromSource(v6, '::1'));
  t.true(acceptFromSource(named, '127.0.0.1'));
  t.false(acceptFromSource(v4, '192.168.1.20'));
  t.false(acceptFromSource(v6, '2001:db8::7'));
  t.false(acceptFromSource(named, '10.0.0.2'));
  // A source that is not an address at all is never loopback.
  t.false(acceptFromSource(v4, 'localhost'));
});

test('a non-loopback announcement is accepted from any source', (t) => {
  t.true(acceptFromSource({ host: '10.0.0.5', port: 3333 }, '10.0.0.9'));
  t.true(acceptFromSource({ host: 'switch1', port: 3333 }, '127.0.0.1'));
});
