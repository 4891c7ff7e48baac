// Tests for src/crypto/sealed-datagram.ts: where each header field sits, what looks
// sealed, which flags (encrypted, addressed) and reserved bytes this version takes, and
// the 8-byte timestamp keepalives and announcements carry. Pure layout units on ava's
// thread.

import test from 'ava';
import {
  SEAL_COUNTER_AT,
  SEAL_F_ADDRESSED,
  SEAL_F_ENCRYPTED,
  SEAL_HDR_LEN,
  SEAL_MAC_LEN,
  SEAL_MAGIC,
  SEAL_OVERHEAD,
  SEAL_SESSION_AT,
  looksSealed,
  readTimestamp,
  sealAddressed,
  sealEncrypted,
  sealFlagsValid,
  sealKeyId,
  sealWord,
  writeSealHeader,
  writeTimestamp,
} from '../../src/crypto/sealed-datagram.js';

const SESSION = Uint8Array.from([0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87]);

function header(encrypted = true, addressed = false): Buffer {
  const out = Buffer.alloc(SEAL_OVERHEAD, 0xff);
  writeSealHeader(out, 0xdeadbeef, SESSION, 0x0102_0304, 0xa0b0_c0d0, encrypted, addressed);
  return out;
}

// --- header layout ------------------------------------------------------------------------

test('the header is 24 bytes, the MAC 16, and the fields sit at the documented offsets', (t) => {
  t.deepEqual([SEAL_HDR_LEN, SEAL_MAC_LEN, SEAL_OVERHEAD, SEAL_MAGIC, SEAL_F_ENCRYPTED, SEAL_F_ADDRESSED, SEAL_SESSION_AT, SEAL_COUNTER_AT], [24, 16, 40, 0xd5, 1, 2, 8, 16]);
  t.is(
    header().subarray(0, SEAL_HDR_LEN).toString('hex'),
    ['d5', '01', '0000', 'deadbeef', '1021324354657687', '01020304', 'a0b0c0d0'].join(''),
  );
  t.deepEqual(header().subarray(SEAL_HDR_LEN), Buffer.alloc(SEAL_MAC_LEN, 0xff), 'nothing past the header is written');
});

test('each field written reads back: key id, session words, counter halves, encrypted flag', (t) => {
  const h = header();
  t.is(sealKeyId(h), 0xdeadbeef);
  t.is(sealWord(h, SEAL_SESSION_AT), 0x1021_3243);
  t.is(sealWord(h, SEAL_SESSION_AT + 4), 0x5465_7687);
  t.is(sealWord(h, SEAL_COUNTER_AT), 0x0102_0304);
  t.is(sealWord(h, SEAL_COUNTER_AT + 4), 0xa0b0_c0d0);
  t.true(sealEncrypted(h));
  t.false(sealEncrypted(header(false)));
  t.is(header(false)[1], 0, 'authenticate-only writes no flag');
  t.false(sealAddressed(h), 'not addressed unless asked');
});

test('the addressed flag is written only when asked, beside the encrypted flag, and read back by sealAddressed', (t) => {
  for (const encrypted of [false, true]) {
    for (const addressed of [false, true]) {
      const h = header(encrypted, addressed);
      t.is(h[1], (encrypted ? SEAL_F_ENCRYPTED : 0) | (addressed ? SEAL_F_ADDRESSED : 0), `encrypted ${encrypted}, addressed ${addressed}`);
      t.is(sealAddressed(h), addressed);
      t.is(sealEncrypted(h), encrypted);
      t.true(sealFlagsValid(h));
    }
  }
  t.is(
    header(true, true).subarray(0, SEAL_HDR_LEN).toString('hex'),
    ['d5', '03', '0000', 'deadbeef', '1021324354657687', '01020304', 'a0b0c0d0'].join(''),
    'nothing else of the header changes',
  );
});

test('writeSealHeader clears an addressed flag left in the slot by the datagram before', (t) => {
  const out = header(true, true);
  writeSealHeader(out, 0xdeadbeef, SESSION, 0, 1, true, false);
  t.false(sealAddressed(out));
  t.is(out[1], SEAL_F_ENCRYPTED);
  writeSealHeader(out, 0xdeadbeef, SESSION, 0, 2, true);
  t.false(sealAddressed(out), 'the 7th argument defaults to unaddressed');
});

test('words read as unsigned 32-bit numbers, all ones included', (t) => {
  const out = Buffer.alloc(SEAL_HDR_LEN);
  writeSealHeader(out, 0xffff_ffff, new Uint8Array(8).fill(0xff), 0xffff_ffff, 0x8000_0000, false);
  t.is(sealKeyId(out), 0xffff_ffff);
  t.is(sealWord(out, SEAL_SESSION_AT), 0xffff_ffff);
  t.is(sealWord(out, SEAL_COUNTER_AT), 0xffff_ffff);
  t.is(sealWord(out, SEAL_COUNTER_AT + 4), 0x8000_0000);
});

// --- what looks sealed ------------------------------------------------------------------

test('looksSealed needs the magic byte and room for a header and a MAC within the buffer', (t) => {
  const h = header();
  t.true(looksSealed(h, SEAL_OVERHEAD), 'an empty payload');
  t.true(looksSealed(Buffer.concat([h, Buffer.alloc(100)]), SEAL_OVERHEAD + 100));
  t.false(looksSealed(h, SEAL_OVERHEAD - 1), 'one byte short');
  t.false(looksSealed(h, SEAL_OVERHEAD + 1), 'a length past the buffer is not trusted');
  t.false(looksSealed(h, 0));
  const plain = Buffer.from(h);
  plain[0] = 0x00;
  t.false(looksSealed(plain, plain.length), 'a vid word starts with 0x00');
  plain[0] = 'G'.charCodeAt(0);
  t.false(looksSealed(plain, plain.length), 'ASCII text');
  plain[0] = SEAL_MAGIC ^ 0x80;
  t.false(looksSealed(plain, plain.length));
});

test('sealFlagsValid takes the encrypted and addressed flags in any mix, and refuses unknown flag bits and nonzero reserved bytes', (t) => {
  t.true(sealFlagsValid(header(true)));
  t.true(sealFlagsValid(header(false)));
  t.true(sealFlagsValid(header(true, true)));
  t.true(sealFlagsValid(header(false, true)));
  for (let bit = 2; bit < 8; bit++) {
    const h = header();
    h[1] |= 1 << bit;
    t.false(sealFlagsValid(h), `flag bit ${bit}`);
  }
  for (const at of [2, 3]) {
    for (const v of [0x01, 0x80]) {
      for (const addressed of [false, true]) {
        const h = header(true, addressed);
        h[at] = v;
        t.false(sealFlagsValid(h), `reserved byte ${at} = ${v}${addressed ? ', addressed' : ''}`);
      }
    }
  }
});

// --- timestamps ---------------------------------------------------------------------------

test('a timestamp reads back exactly: zero, now, past 2^32 and the largest safe value', (t) => {
  const buf = Buffer.alloc(12, 0xaa);
  for (const ms of [0, 1, 0xffff_ffff, 0x1_0000_0000, Date.now(), 4_102_444_800_000, 2 ** 53 - 1]) {
    writeTimestamp(buf, 2, ms);
    t.is(readTimestamp(buf, 2), ms, `${ms}`);
  }
  t.deepEqual([buf[0], buf[1], buf[10], buf[11]], [0xaa, 0xaa, 0xaa, 0xaa], 'only the 8 bytes at `at` are written');
});

test('a timestamp is 8 bytes big-endian: the high word first', (t) => {
  const buf = Buffer.alloc(8);
  writeTimestamp(buf, 0, 0x1234_5678_9abc);
  t.is(buf.toString('hex'), '0000123456789abc');
});

test('a timestamp at or past 2^53 reads as NaN', (t) => {
  const buf = Buffer.alloc(8);
  buf.writeUInt32BE(0x20_0000, 0);
  t.true(Number.isNaN(readTimestamp(buf, 0)), '2^53');
  buf.fill(0xff);
  t.true(Number.isNaN(readTimestamp(buf, 0)), '2^64 - 1');
  buf.writeUInt32BE(0x1f_ffff, 0);
  t.is(readTimestamp(buf, 0), 2 ** 53 - 1);
});
