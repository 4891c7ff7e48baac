// Tests for src/core/frame.ts: MAC conversions, the I/G bit, MAC parsing, frame length
// validation and FrameView over untagged, 802.1Q and QinQ frames inside larger buffers.
// Pure units: run on ava's test process, no threads or devices.

import test from 'ava';
import { isDivesError } from '../../src/core/errors.js';
import {
  BROADCAST_MAC,
  DEFAULT_MAX_FRAME,
  ETH_P_8021AD,
  ETH_P_8021Q,
  FRAME_GIANT,
  FRAME_OK,
  FRAME_REASON_NAMES,
  FRAME_RUNT,
  FrameView,
  dstMac,
  isGroupAddr,
  isGroupMac,
  macAt,
  macToString,
  parseMac,
  srcMac,
  validateFrame,
  writeMac,
} from '../../src/core/frame.js';

const ROUND_TRIP_MACS = [
  '00:00:00:00:00:00',
  'ff:ff:ff:ff:ff:ff',
  '02:00:00:00:00:01',
  '80:00:00:00:00:00', // top byte has bit 7 set
  'fe:dc:ba:98:76:54',
  '00:00:80:00:00:00', // bit 7 of the low word's top byte
  '01:00:5e:7f:ff:fa',
  '33:33:00:00:00:01',
  '7f:ff:ff:ff:ff:ff',
];

test('a MAC survives string -> number -> bytes -> number -> string', (t) => {
  const buf = new Uint8Array(16);
  for (const text of ROUND_TRIP_MACS) {
    const mac = parseMac(text);
    t.true(Number.isSafeInteger(mac) && mac >= 0 && mac <= BROADCAST_MAC, text);
    writeMac(mac, buf, 5);
    t.is(macAt(buf, 5), mac, text);
    t.is(macToString(mac), text);
    const hex = text.replaceAll(':', '');
    t.is(Buffer.from(buf.subarray(5, 11)).toString('hex'), hex, text);
    t.is(mac, parseInt(hex, 16), text);
  }
});

test('broadcast and zero MACs have their exact 48-bit values', (t) => {
  t.is(BROADCAST_MAC, 0xffffffffffff);
  t.is(parseMac('ff:ff:ff:ff:ff:ff'), BROADCAST_MAC);
  t.is(parseMac('00:00:00:00:00:00'), 0);
  t.is(macAt(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), 0), BROADCAST_MAC);
});

test('writeMac writes only its six bytes', (t) => {
  const buf = new Uint8Array(10).fill(0xaa);
  writeMac(parseMac('01:02:03:04:05:06'), buf, 2);
  t.deepEqual([...buf], [0xaa, 0xaa, 1, 2, 3, 4, 5, 6, 0xaa, 0xaa]);
});

test('the group bit is bit 0 of the first octet', (t) => {
  t.true(isGroupMac(BROADCAST_MAC));
  t.true(isGroupMac(parseMac('01:00:5e:00:00:01')));
  t.true(isGroupMac(parseMac('33:33:00:00:00:01')));
  t.false(isGroupMac(parseMac('02:00:00:00:00:01')));
  t.false(isGroupMac(parseMac('fe:ff:ff:ff:ff:ff')));
  t.false(isGroupMac(0));
  const buf = new Uint8Array([0, 0x01, 0, 0, 0, 0, 0, 0xfe, 1, 1, 1, 1, 1]);
  t.true(isGroupAddr(buf, 1));
  t.false(isGroupAddr(buf, 7));
  t.false(isGroupAddr(buf, 0));
});

test('parseMac accepts dashes, upper case and one-digit octets', (t) => {
  t.is(parseMac('AA-BB-CC-DD-EE-FF'), 0xaabbccddeeff);
  t.is(parseMac('aa:BB:cc:DD:ee:FF'), 0xaabbccddeeff);
  // Decision: one-digit octets are accepted, as glibc's ether_aton accepts them.
  t.is(parseMac('1:2:3:4:5:6'), 0x010203040506);
  t.is(parseMac('2:0:0:0:0:a'), 0x02000000000a);
});

test('parseMac rejects garbage with an EBADARG DivesError', (t) => {
  const bad = [
    '',
    'zz:zz:zz:zz:zz:zz',
    '00:11:22:33:44', // 5 octets
    '00:11:22:33:44:55:66', // 7 octets
    '00:11:22:33:44:555',
    '001:11:22:33:44:55',
    '00:11-22:33:44:55', // mixed separators
    '00.11.22.33.44.55',
    '001122334455',
    ' 00:11:22:33:44:55',
    '00:11:22:33:44:55 ',
    '00::22:33:44:55',
    'gg:00:00:00:00:00',
  ];
  for (const text of bad) {
    const err = t.throws(() => parseMac(text), undefined, JSON.stringify(text));
    t.true(isDivesError(err), JSON.stringify(text));
    t.is((err as { code?: string }).code, 'EBADARG');
  }
});

test('validateFrame classifies lengths at the runt and giant boundaries', (t) => {
  t.is(validateFrame(0), FRAME_RUNT);
  t.is(validateFrame(13), FRAME_RUNT);
  t.is(validateFrame(14), FRAME_OK);
  t.is(validateFrame(60), FRAME_OK);
  t.is(validateFrame(65535), FRAME_OK);
  t.is(validateFrame(65536), FRAME_GIANT);
  t.is(DEFAULT_MAX_FRAME, 65535);
  t.is(validateFrame(1518, 1518), FRAME_OK);
  t.is(validateFrame(1519, 1518), FRAME_GIANT);
  t.is(validateFrame(13, 1518), FRAME_RUNT);
  t.is(FRAME_REASON_NAMES[FRAME_OK], 'ok');
  t.is(FRAME_REASON_NAMES[FRAME_RUNT], 'runt');
  t.is(FRAME_REASON_NAMES[FRAME_GIANT], 'giant');
});

/** Builds a frame at `off` inside a buffer full of 0xee so stray reads show up. */
function frameIn(off: number, bytes: number[]): { buf: Uint8Array; len: number } {
  const buf = new Uint8Array(off + bytes.length + 32).fill(0xee);
  buf.set(bytes, off);
  return { buf, len: bytes.length };
}

const DST = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
const SRC = [0x9e, 0x11, 0x22, 0x33, 0x44, 0x55];
const PAYLOAD = new Array(46).fill(0x5a);

test('FrameView reads an untagged frame at a nonzero offset', (t) => {
  const { buf, len } = frameIn(100, [...DST, ...SRC, 0x08, 0x00, ...PAYLOAD]);
  const v = new FrameView();
  t.is(v.set(buf, 100, len), v);
  t.is(v.buf, buf);
  t.is(v.off, 100);
  t.is(v.len, 60);
  t.is(v.dst, parseMac('02:00:00:00:00:01'));
  t.is(v.src, parseMac('9e:11:22:33:44:55'));
  t.is(dstMac(buf, 100), v.dst);
  t.is(srcMac(buf, 100), v.src);
  t.is(v.ethertype, 0x0800);
  t.false(v.tagged);
  t.is(v.vid, -1);
  t.is(v.pcp, -1);
  t.is(v.innerEthertype, 0x0800);
  t.false(v.dstIsGroup);
});

test('FrameView reads the VID, PCP and inner ethertype of an 802.1Q frame', (t) => {
  // TCI 0xa07b: PCP 5, DEI 0, VID 123.
  const { buf, len } = frameIn(37, [...DST, ...SRC, 0x81, 0x00, 0xa0, 0x7b, 0x86, 0xdd, ...PAYLOAD]);
  const v = new FrameView().set(buf, 37, len);
  t.is(v.ethertype, ETH_P_8021Q);
  t.true(v.tagged);
  t.is(v.vid, 123);
  t.is(v.pcp, 5);
  t.is(v.innerEthertype, 0x86dd);
  t.is(v.src, parseMac('9e:11:22:33:44:55'));
});

test('FrameView describes the outer tag of a QinQ frame', (t) => {
  // Outer 802.1ad tag: PCP 7, DEI 1, S-VID 4094; inner 802.1Q tag VID 10, then IPv4.
  const bytes = [...DST, ...SRC, 0x88, 0xa8, 0xff, 0xfe, 0x81, 0x00, 0x00, 0x0a, 0x08, 0x00, ...PAYLOAD];
  const { buf, len } = frameIn(1, bytes);
  const v = new FrameView().set(buf, 1, len);
  t.is(v.ethertype, ETH_P_8021AD);
  t.true(v.tagged);
  t.is(v.vid, 4094);
  t.is(v.pcp, 7);
  t.is(v.innerEthertype, ETH_P_8021Q);
});

test('FrameView treats a TPID without room for the tag as untagged', (t) => {
  const { buf } = frameIn(8, [...DST, ...SRC, 0x81, 0x00, 0x00, 0x05, 0x08, 0x00]);
  const v = new FrameView().set(buf, 8, 17);
  t.is(v.ethertype, ETH_P_8021Q);
  t.false(v.tagged);
  t.is(v.vid, -1);
  t.is(v.pcp, -1);
  t.is(v.innerEthertype, ETH_P_8021Q);
  v.set(buf, 8, 18);
  t.true(v.tagged);
  t.is(v.vid, 5);
});

test('one FrameView is re-pointed from frame to frame', (t) => {
  const a = frameIn(0, [...DST, ...SRC, 0x08, 0x06, ...PAYLOAD]);
  const b = frameIn(20, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...SRC, 0x81, 0x00, 0x00, 0x02, 0x08, 0x06, ...PAYLOAD]);
  const v = new FrameView();
  v.set(a.buf, 0, a.len);
  t.false(v.tagged);
  t.false(v.dstIsGroup);
  v.set(b.buf, 20, b.len);
  t.true(v.tagged);
  t.is(v.vid, 2);
  t.true(v.dstIsGroup);
  t.is(v.dst, BROADCAST_MAC);
  v.set(a.buf, 0, a.len);
  t.is(v.ethertype, 0x0806);
  t.is(v.vid, -1);
});
