// Tests for src/peer/wire/vnet-hdr-check.ts: every rule a peer's virtio_net_hdr must
// keep, at its boundary values, in the order the rules are checked, and the headers a
// real TAP with offloads on hands over, which must all pass.
// Pure unit tests on the test runner's thread; no sockets.

import test from 'ava';
import { GSO_MAX_FRAME, VNET_HDR_LEN } from '../../../src/core/ring-record.js';
import {
  VNET_BAD_CSUM_OFFSET, VNET_BAD_CSUM_START, VNET_BAD_FLAGS, VNET_BAD_GSO_SIZE, VNET_BAD_GSO_TYPE, VNET_BAD_HDR_LEN,
  VNET_CHECK_REASONS, VNET_GIANT, VNET_GSO_NO_CSUM, VNET_GSO_SIZE_MAX, VNET_OK, VNET_RUNT, checkVnetHdr,
} from '../../../src/peer/wire/vnet-hdr-check.js';

interface Hdr {
  flags?: number;
  gso?: number;
  hdrLen?: number;
  gsoSize?: number;
  start?: number;
  offset?: number;
}

const MAX_FRAME = 1514;
const CSUM = 1;
const VALID = 2;
const TCPV4 = 1;
const TCPV6 = 4;
const UDP_L4 = 5;
const ECN = 0x80;

/** A record: the header, then a frameLen-byte frame. */
function rec(h: Hdr, frameLen: number): Buffer {
  const b = Buffer.alloc(VNET_HDR_LEN + frameLen, 0x5a);
  b[0] = h.flags ?? 0;
  b[1] = h.gso ?? 0;
  b.writeUInt16LE(h.hdrLen ?? 0, 2);
  b.writeUInt16LE(h.gsoSize ?? 0, 4);
  b.writeUInt16LE(h.start ?? 0, 6);
  b.writeUInt16LE(h.offset ?? 0, 8);
  return b;
}

function check(h: Hdr, frameLen: number, maxFrame = MAX_FRAME): string {
  const b = rec(h, frameLen);
  return VNET_CHECK_REASONS[checkVnetHdr(b, 0, b.length, maxFrame)] ?? 'no such reason';
}

/** A TCP over IPv4 segment as a TAP hands it over: Ethernet + IPv4 + TCP with options (66). */
const TSO4: Hdr = { flags: CSUM, gso: TCPV4, hdrLen: 66, gsoSize: 1448, start: 34, offset: 16 };
const USO: Hdr = { flags: CSUM, gso: UDP_L4, hdrLen: 42, gsoSize: 1400, start: 34, offset: 6 };

// [what, header, frame length, expected]; each rule at both sides of its boundary.
const CASES: [string, Hdr, number, string][] = [
  ['an all-zero header in front of an Ethernet header alone', {}, 14, 'ok'],
  ['DATA_VALID alone (a complete frame)', { flags: VALID }, 60, 'ok'],
  ['NEEDS_CSUM and DATA_VALID together (the kernel ignores DATA_VALID on input)', { flags: CSUM | VALID, start: 34, offset: 6 }, 60, 'ok'],

  ['flags bit 2 (RSC_INFO, a device\'s receive-side flag)', { flags: 4 }, 60, 'bad-flags'],
  ['flags bit 7', { flags: 0x80 }, 60, 'bad-flags'],
  ['every flags bit', { flags: 0xff, gso: 0xff }, 60, 'bad-flags'],

  ['gso_type 2 (none defined)', { flags: CSUM, gso: 2, gsoSize: 1448, start: 34, offset: 16 }, 3000, 'bad-gso-type'],
  ['gso_type UDP (3, UFO, which no TAP hands over)', { flags: CSUM, gso: 3, gsoSize: 1448, start: 34, offset: 6 }, 3000, 'bad-gso-type'],
  ['gso_type 6', { flags: CSUM, gso: 6, gsoSize: 1448, start: 34, offset: 16 }, 3000, 'bad-gso-type'],
  ['gso_type 0x7f', { flags: CSUM, gso: 0x7f, gsoSize: 1448, start: 34, offset: 16 }, 3000, 'bad-gso-type'],
  ['the ECN bit alone', { gso: ECN }, 60, 'bad-gso-type'],
  ['the ECN bit on UDP_L4', { ...USO, gso: UDP_L4 | ECN }, 3000, 'bad-gso-type'],
  ['the ECN bit on TCPV4', { ...TSO4, gso: TCPV4 | ECN }, 3000, 'ok'],
  ['the ECN bit on TCPV6', { ...TSO4, gso: TCPV6 | ECN, start: 54, hdrLen: 86 }, 3000, 'ok'],

  ['no segment, a frame of exactly maxFrame', { flags: CSUM, start: 34, offset: 16 }, MAX_FRAME, 'ok'],
  ['no segment, a frame one over maxFrame', { flags: CSUM, start: 34, offset: 16 }, MAX_FRAME + 1, 'giant'],
  ['no segment and no work, a frame one over maxFrame', { flags: VALID }, MAX_FRAME + 1, 'giant'],
  ['a segment far over maxFrame', TSO4, 65000, 'ok'],
  ['a segment of exactly GSO_MAX_FRAME', TSO4, GSO_MAX_FRAME, 'ok'],
  ['a segment one over GSO_MAX_FRAME', TSO4, GSO_MAX_FRAME + 1, 'giant'],

  ['a segment without NEEDS_CSUM', { ...TSO4, flags: 0 }, 3000, 'gso-no-csum'],
  ['a segment marked DATA_VALID instead of NEEDS_CSUM', { ...TSO4, flags: VALID }, 3000, 'gso-no-csum'],

  ['a segment of gso_size 0', { ...TSO4, gsoSize: 0 }, 3000, 'bad-gso-size'],
  ['a segment of gso_size 1', { ...TSO4, gsoSize: 1 }, 3000, 'ok'],
  ['a segment of gso_size 65495 (the largest)', { ...TSO4, gsoSize: VNET_GSO_SIZE_MAX }, 3000, 'ok'],
  ['a segment of gso_size 65496', { ...TSO4, gsoSize: VNET_GSO_SIZE_MAX + 1 }, 3000, 'bad-gso-size'],
  ['a segment of gso_size 0xffff (GSO_BY_FRAGS)', { ...TSO4, gsoSize: 0xffff }, 3000, 'bad-gso-size'],
  ['no segment, a stray gso_size (ignored by the kernel)', { flags: CSUM, gsoSize: 0xffff, start: 34, offset: 16 }, 60, 'ok'],
  ['a UDP_L4 segment cut into exactly 128 segments', { ...USO, gsoSize: 100 }, 42 + 100 * 128, 'ok'],
  ['a UDP_L4 segment that would be cut into 129', { ...USO, gsoSize: 100 }, 42 + 100 * 128 + 1, 'bad-gso-size'],

  ['a checksum starting inside the IPv4 header (33)', { flags: CSUM, start: 33, offset: 6 }, 60, 'bad-csum-start'],
  ['a checksum starting inside the Ethernet header (0)', { flags: CSUM, start: 0, offset: 0 }, 60, 'bad-csum-start'],
  ['a checksum starting right after Ethernet and IPv4 headers (34)', { flags: CSUM, start: 34, offset: 6 }, 60, 'ok'],
  ['a TCPV6 segment whose checksum starts inside the IPv6 header (53)', { ...TSO4, gso: TCPV6, start: 53 }, 3000, 'bad-csum-start'],
  ['a TCPV6 segment whose checksum starts after it (54)', { ...TSO4, gso: TCPV6, start: 54, hdrLen: 86 }, 3000, 'ok'],
  ['a TCP segment whose TCP header runs one past the frame', TSO4, 34 + 20 - 1, 'bad-csum-start'],
  ['a TCP segment whose TCP header ends the frame', { ...TSO4, hdrLen: 54 }, 34 + 20, 'ok'],
  ['a UDP_L4 segment whose UDP header runs one past the frame', { ...USO, hdrLen: 0 }, 34 + 8 - 1, 'bad-csum-start'],
  ['a checksum starting past the frame', { flags: CSUM, start: 0xffff, offset: 0 }, 60, 'bad-csum-start'],
  ['a checksum starting one byte too late for its field', { flags: CSUM, start: 59, offset: 0 }, 60, 'bad-csum-start'],
  ['a checksum starting with its field at the end of the frame', { flags: CSUM, start: 58, offset: 0 }, 60, 'ok'],

  ['a checksum field ending the frame', { flags: CSUM, start: 34, offset: 24 }, 60, 'ok'],
  ['a checksum field one byte past the frame', { flags: CSUM, start: 34, offset: 25 }, 60, 'bad-csum-offset'],
  ['a checksum offset of 0xffff', { flags: CSUM, start: 34, offset: 0xffff }, 60, 'bad-csum-offset'],
  ['a TCP segment whose checksum is not the TCP one (6)', { ...TSO4, offset: 6 }, 3000, 'bad-csum-offset'],
  ['a UDP_L4 segment whose checksum is not the UDP one (16)', { ...USO, offset: 16 }, 3000, 'bad-csum-offset'],
  ['no checksum to do, csum_start and offset past the frame (ignored)', { flags: VALID, start: 0xffff, offset: 0xffff }, 60, 'ok'],

  ['hdr_len equal to the frame', { hdrLen: 60 }, 60, 'ok'],
  ['hdr_len one past the frame', { hdrLen: 61 }, 60, 'bad-hdr-len'],
  ['a segment whose hdr_len is past the frame', { ...TSO4, hdrLen: 0xffff }, 3000, 'bad-hdr-len'],
];

for (const [what, h, frameLen, expected] of CASES) {
  test(`${what}: ${expected}`, (t) => {
    t.is(check(h, frameLen), expected);
  });
}

// Read from TAPs opened with IFF_VNET_HDR and TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 (what
// TapDevice.setOffload turns on) on Linux 6.18, relaying iperf3 TCP over IPv4 and IPv6
// and UDP between two namespaces: each distinct header, with the shortest frame it came on.
const FROM_A_TAP: [string, number[], number][] = [
  ['nothing to do (ARP, ICMPv6)', [0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 42],
  ['a TCP/IPv4 checksum to do', [1, 0, 0, 0, 0, 0, 34, 0, 16, 0], 66],
  ['a TCP/IPv6 checksum to do', [1, 0, 0, 0, 0, 0, 54, 0, 16, 0], 86],
  ['a UDP/IPv4 checksum to do', [1, 0, 0, 0, 0, 0, 34, 0, 6, 0], 46],
  ['a TCP/IPv4 segment of 1448-byte segments', [1, 1, 66, 0, 168, 5, 34, 0, 16, 0], 7306],
  ['a TCP/IPv4 64 KiB segment', [1, 1, 66, 0, 168, 5, 34, 0, 16, 0], 65226],
  ['a TCP/IPv6 segment of 1428-byte segments', [1, 4, 86, 0, 148, 5, 54, 0, 16, 0], 7226],
  ['a TCP/IPv6 64 KiB segment', [1, 4, 86, 0, 148, 5, 54, 0, 16, 0], 64346],
];

for (const [what, hdr, frameLen] of FROM_A_TAP) {
  test(`a header a TAP with offloads handed over passes: ${what}`, (t) => {
    const b = Buffer.alloc(VNET_HDR_LEN + frameLen);
    b.set(hdr, 0);
    t.is(VNET_CHECK_REASONS[checkVnetHdr(b, 0, b.length, MAX_FRAME)], 'ok');
  });
}

test('a record shorter than the header plus an Ethernet header, or claiming bytes past the buffer, is a runt', (t) => {
  const b = rec({}, 14);
  t.is(checkVnetHdr(b, 0, VNET_HDR_LEN + 14, MAX_FRAME), VNET_OK);
  t.is(checkVnetHdr(b, 0, VNET_HDR_LEN + 13, MAX_FRAME), VNET_RUNT);
  t.is(checkVnetHdr(b, 0, 0, MAX_FRAME), VNET_RUNT);
  t.is(checkVnetHdr(b, 0, b.length + 1, MAX_FRAME), VNET_RUNT);
  t.is(checkVnetHdr(b, 1, b.length, MAX_FRAME), VNET_RUNT, 'an offset that pushes the end past the buffer');
  t.is(checkVnetHdr(b, -1, b.length - 1, MAX_FRAME), VNET_RUNT);
  t.is(checkVnetHdr(b, 0, Number.NaN, MAX_FRAME), VNET_RUNT);
  t.is(checkVnetHdr(b, Number.NaN, b.length, MAX_FRAME), VNET_RUNT);
});

test('the record is read at its offset: a good header after a bad one, and a bad one after a good one', (t) => {
  const good = rec(TSO4, 3000);
  const bad = rec({ ...TSO4, gsoSize: 0 }, 3000);
  const buf = Buffer.concat([Buffer.alloc(7, 0xff), good, bad, Buffer.alloc(5, 0xff)]);
  t.is(checkVnetHdr(buf, 7, good.length, MAX_FRAME), VNET_OK);
  t.is(checkVnetHdr(buf, 7 + good.length, bad.length, MAX_FRAME), VNET_BAD_GSO_SIZE);
  // The frame's length is len less the header: one byte less makes the hdr_len too long.
  const tight = rec({ hdrLen: 60 }, 60);
  t.is(checkVnetHdr(Buffer.concat([tight, Buffer.alloc(1)]), 0, tight.length - 1, MAX_FRAME), VNET_BAD_HDR_LEN);
});

test('a header that breaks several rules is reported under the first, in the documented order', (t) => {
  t.is(checkVnetHdr(rec({ flags: 0x40, gso: 3, gsoSize: 0 }, 60), 0, 70, MAX_FRAME), VNET_BAD_FLAGS);
  t.is(checkVnetHdr(rec({ gso: 3, hdrLen: 0xffff }, 3000), 0, 3010, MAX_FRAME), VNET_BAD_GSO_TYPE);
  t.is(checkVnetHdr(rec({ flags: VALID, hdrLen: 0xffff }, 2000), 0, 2010, MAX_FRAME), VNET_GIANT);
  t.is(checkVnetHdr(rec({ gso: TCPV4, gsoSize: 0 }, 3000), 0, 3010, MAX_FRAME), VNET_GSO_NO_CSUM);
  t.is(checkVnetHdr(rec({ ...TSO4, gsoSize: 0, start: 0 }, 3000), 0, 3010, MAX_FRAME), VNET_BAD_GSO_SIZE);
  t.is(checkVnetHdr(rec({ ...TSO4, start: 20, offset: 6 }, 3000), 0, 3010, MAX_FRAME), VNET_BAD_CSUM_START);
  t.is(checkVnetHdr(rec({ ...TSO4, offset: 0, hdrLen: 0xffff }, 3000), 0, 3010, MAX_FRAME), VNET_BAD_CSUM_OFFSET);
});

test('maxFrame bounds only a frame with no segment to cut', (t) => {
  t.is(check({ flags: CSUM, start: 34, offset: 16 }, 9000, 9014), 'ok');
  t.is(check({ flags: CSUM, start: 34, offset: 16 }, 9015, 9014), 'giant');
  t.is(check(TSO4, 9015, 9014), 'ok');
});

test('every result has its word, and they are the VNET_* constants in order', (t) => {
  const results = [VNET_OK, VNET_RUNT, VNET_BAD_FLAGS, VNET_BAD_GSO_TYPE, VNET_GIANT, VNET_GSO_NO_CSUM, VNET_BAD_GSO_SIZE,
    VNET_BAD_CSUM_START, VNET_BAD_CSUM_OFFSET, VNET_BAD_HDR_LEN];
  t.deepEqual(results, results.map((_, i) => i));
  t.is(VNET_CHECK_REASONS.length as number, results.length);
  t.is(new Set(VNET_CHECK_REASONS).size, results.length);
});
