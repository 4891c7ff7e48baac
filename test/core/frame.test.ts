// Tests for src/core/frame.ts: MAC conversions, the I/G bit, MAC parsing, frame length
// validation, and the MACs of frames inside larger buffers.
// Pure units: run on ava's test process, no threads or devices.

import test from 'ava';
import { isDivesError } from '../../src/core/errors.js';
import { DEFAULT_MAX_FRAME, FRAME_GIANT, FRAME_OK, FRAME_RUNT, dstMac, isGroupAddr, macAt, macToString, parseMac, srcMac, validateFrame } from '../../src/core/frame.js';

const BROADCAST_MAC = 0xffff_ffff_ffff;

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

test('a MAC survives string -> number -> string, and reads back from its bytes', (t) => {
  for (const text of ROUND_TRIP_MACS) {
    const mac = parseMac(text);
    t.true(Number.isSafeInteger(mac) && mac >= 0 && mac <= BROADCAST_MAC, text);
    t.is(macToString(mac), text);
    const hex = text.replaceAll(':', '');
    t.is(mac, parseInt(hex, 16), text);
    const buf = new Uint8Array(16).fill(0xaa);
    buf.set(Buffer.from(hex, 'hex'), 5);
    t.is(macAt(buf, 5), mac, text);
  }
});

test('broadcast and zero MACs have their exact 48-bit values', (t) => {
  t.is(BROADCAST_MAC, 0xffffffffffff);
  t.is(parseMac('ff:ff:ff:ff:ff:ff'), BROADCAST_MAC);
  t.is(parseMac('00:00:00:00:00:00'), 0);
  t.is(macAt(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), 0), BROADCAST_MAC);
});

test('the group bit is bit 0 of the first octet', (t) => {
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

test('dstMac and srcMac read a frame at a nonzero offset and nothing around it', (t) => {
  const { buf } = frameIn(100, [...DST, ...SRC, 0x08, 0x00, ...PAYLOAD]);
  t.is(dstMac(buf, 100), parseMac('02:00:00:00:00:01'));
  t.is(srcMac(buf, 100), parseMac('9e:11:22:33:44:55'));
  t.false(isGroupAddr(buf, 100));
  const b = frameIn(20, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...SRC, 0x08, 0x06, ...PAYLOAD]);
  t.is(dstMac(b.buf, 20), BROADCAST_MAC);
  t.true(isGroupAddr(b.buf, 20));
});
