// Tests for src/crypto/aead.ts: OpenSSL's ChaCha20-Poly1305 (RFC 8439) through koffi gives
// the RFC's test vector and, for random keys, IVs, associated data and messages of every
// size, libsodium's bytes (sodium-native, test/crypto/libsodium-reference.ts), both ways; a
// sealed message opens with the same key, IV and associated data and with nothing else;
// the lengths passed bound what is read and written; and the two cipher contexts carry
// nothing from one call to the next, a failed open included. A failed open leaves garbage
// in its output (OpenSSL decrypts before it checks the MAC): nothing here relies on that
// output. Pure units on ava's thread.

import test from 'ava';
import { randomBytes } from 'node:crypto';
import { AEAD_IV_LEN, AEAD_KEY_LEN, AEAD_MAC_LEN, loadAead } from '../../src/crypto/aead.js';
import { chachaOpenRef, chachaSealRef } from './libsodium-reference.js';

const aead = loadAead();

/** A fixed key, IV, associated data and message, and the message sealed with them. */
function sealed(): { key: Buffer; iv: Buffer; ad: Buffer; plain: Buffer; c: Buffer; mac: Buffer } {
  const key = Buffer.from(Array.from({ length: AEAD_KEY_LEN }, (_, i) => i + 1));
  const iv = Buffer.from(Array.from({ length: AEAD_IV_LEN }, (_, i) => 0xa0 + i));
  const ad = Buffer.from('a header the MAC covers');
  const plain = Buffer.from('a frame of the virtual Ethernet, 47 bytes long.');
  const c = Buffer.alloc(plain.length);
  const mac = Buffer.alloc(AEAD_MAC_LEN);
  if (aead.seal(c, mac, plain, plain.length, ad, ad.length, iv, key) !== 0) throw new Error('seal failed');
  return { key, iv, ad, plain, c, mac };
}

/** aead.seal into fresh buffers. */
function sealOf(m: Buffer, ad: Buffer, iv: Buffer, key: Buffer): { c: Buffer; mac: Buffer; r: number } {
  const c = Buffer.alloc(m.length);
  const mac = Buffer.alloc(AEAD_MAC_LEN);
  const r = aead.seal(c, mac, m, m.length, ad, ad.length, iv, key);
  return { c, mac, r };
}

/** aead.open into a fresh buffer: the plaintext, or null when it returned -1. */
function openOf(c: Buffer, mac: Buffer, ad: Buffer, iv: Buffer, key: Buffer): Buffer | null {
  const m = Buffer.alloc(c.length);
  const r = aead.open(m, c, c.length, mac, ad, ad.length, iv, key);
  if (r !== 0 && r !== -1) throw new Error(`open returned ${r}`);
  return r === 0 ? m : null;
}

// --- binding ----------------------------------------------------------------------------

test('loadAead binds once and returns the same frozen object after', (t) => {
  t.is(loadAead(), aead);
  t.true(Object.isFrozen(aead));
  t.deepEqual([AEAD_KEY_LEN, AEAD_IV_LEN, AEAD_MAC_LEN], [32, 12, 16]);
});

// --- known answers ----------------------------------------------------------------------

// RFC 8439, section 2.8.2.
const RFC = {
  plain: Buffer.from("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."),
  ad: Buffer.from('50515253c0c1c2c3c4c5c6c7', 'hex'),
  key: Buffer.from(Array.from({ length: 32 }, (_, i) => 0x80 + i)),
  iv: Buffer.from('070000004041424344454647', 'hex'),
  c: Buffer.from(
    'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b' +
      '1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc' +
      '3ff4def08e4b7a9de576d26586cec64b6116',
    'hex',
  ),
  mac: Buffer.from('1ae10b594f09e26a7e902ecbd0600691', 'hex'),
};

test('seal gives the AEAD test vector of RFC 8439, section 2.8.2, and open takes it back', (t) => {
  const { c, mac, r } = sealOf(RFC.plain, RFC.ad, RFC.iv, RFC.key);
  t.is(r, 0);
  t.deepEqual([c.toString('hex'), mac.toString('hex')], [RFC.c.toString('hex'), RFC.mac.toString('hex')]);
  t.deepEqual(openOf(RFC.c, RFC.mac, RFC.ad, RFC.iv, RFC.key), RFC.plain);
  t.deepEqual(chachaSealRef(RFC.plain, RFC.ad, RFC.iv, RFC.key), { c: RFC.c, mac: RFC.mac }, 'and so does libsodium');
});

const SIZES = [0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 129, 255, 256, 1500, 9000, 65_535];

test('seal gives libsodium\'s ciphertext and MAC for random keys, IVs and data of every size, and each opens the other\'s', (t) => {
  let checked = 0;
  for (const size of SIZES) {
    for (const adSize of [0, 1, 24, 24 + size]) {
      const [key, iv, ad, m] = [randomBytes(32), randomBytes(12), randomBytes(adSize), randomBytes(size)];
      const ours = sealOf(m, ad, iv, key);
      const ref = chachaSealRef(m, ad, iv, key);
      const what = `message ${size}, AD ${adSize}`;
      if (ours.r !== 0 || !ours.c.equals(ref.c) || !ours.mac.equals(ref.mac)) {
        t.fail(`${what}: not libsodium's bytes`);
        continue;
      }
      const back = openOf(ref.c, ref.mac, ad, iv, key);
      if (back === null || !back.equals(m)) t.fail(`${what}: libsodium's does not open here`);
      const there = chachaOpenRef(ours.c, ours.mac, ad, iv, key);
      if (there === null || !there.equals(m)) t.fail(`${what}: ours does not open in libsodium`);
      checked++;
    }
  }
  t.is(checked, SIZES.length * 4);
});

test('authenticate-only (an empty message, the data all in the AD) gives libsodium\'s MAC', (t) => {
  for (const size of SIZES) {
    const [key, iv, ad] = [randomBytes(32), randomBytes(12), randomBytes(24 + size)];
    const none = Buffer.alloc(0);
    const ours = sealOf(none, ad, iv, key);
    t.is(ours.r, 0);
    t.deepEqual(ours.mac, chachaSealRef(none, ad, iv, key).mac, `AD ${ad.length}`);
  }
});

// --- sealing and opening ------------------------------------------------------------------

test('a sealed message opens with its key, IV and associated data, and was not in clear', (t) => {
  const { key, iv, ad, plain, c, mac } = sealed();
  t.notDeepEqual(c, plain);
  t.false(c.includes(plain.subarray(0, 8)), 'no run of the message in the ciphertext');
  const m = Buffer.alloc(c.length);
  t.is(aead.open(m, c, c.length, mac, ad, ad.length, iv, key), 0);
  t.deepEqual(m, plain);
});

test('sealing and opening in place (output and input the same buffer) round-trips', (t) => {
  const { key, iv, ad, plain, c, mac } = sealed();
  const buf = Buffer.from(plain);
  const inMac = Buffer.alloc(AEAD_MAC_LEN);
  t.is(aead.seal(buf, inMac, buf, buf.length, ad, ad.length, iv, key), 0);
  t.deepEqual([buf, inMac], [c, mac], 'the same bytes as sealing into another buffer');
  t.is(aead.open(buf, buf, buf.length, inMac, ad, ad.length, iv, key), 0);
  t.deepEqual(buf, plain);
});

test('in place within a slot: views past a header, as DatagramSealer passes them', (t) => {
  const { key, iv, plain } = sealed();
  const slot = Buffer.alloc(24 + plain.length + 16 + 8, 0x77);
  slot.fill(0x11, 0, 24);
  plain.copy(slot, 24);
  const body = slot.subarray(24);
  const mac = Buffer.alloc(AEAD_MAC_LEN);
  t.is(aead.seal(body, mac, body, plain.length, slot, 24, iv, key), 0);
  t.deepEqual(slot.subarray(24 + plain.length), Buffer.alloc(24, 0x77), 'nothing past the payload');
  t.deepEqual({ c: Buffer.from(body.subarray(0, plain.length)), mac }, chachaSealRef(plain, slot.subarray(0, 24), iv, key));
  t.is(aead.open(body, body, plain.length, mac, slot, 24, iv, key), 0);
  t.deepEqual(body.subarray(0, plain.length), plain);
});

test('a 64 KiB segment round-trips in place', (t) => {
  const { key, iv, ad } = sealed();
  const plain = randomBytes(65_536);
  const buf = Buffer.from(plain);
  const mac = Buffer.alloc(AEAD_MAC_LEN);
  t.is(aead.seal(buf, mac, buf, buf.length, ad, ad.length, iv, key), 0);
  t.is(aead.open(buf, buf, buf.length, mac, ad, ad.length, iv, key), 0);
  t.true(buf.equals(plain));
});

test('sealing is deterministic for one key and IV, and another IV gives another ciphertext', (t) => {
  const a = sealed();
  const b = sealed();
  t.deepEqual([a.c, a.mac], [b.c, b.mac]);
  const iv = Buffer.from(a.iv);
  iv[11] ^= 1;
  const c = Buffer.alloc(a.plain.length);
  const mac = Buffer.alloc(AEAD_MAC_LEN);
  t.is(aead.seal(c, mac, a.plain, a.plain.length, a.ad, a.ad.length, iv, a.key), 0);
  t.notDeepEqual(c, a.c);
  t.notDeepEqual(mac, a.mac);
});

test('the lengths passed bound what is sealed and authenticated, not the buffers', (t) => {
  const { key, iv, ad, plain, c, mac } = sealed();
  // The same message and AD in longer buffers, with the lengths given as numbers.
  const longPlain = Buffer.concat([plain, Buffer.from('tail')]);
  const longAd = Buffer.concat([ad, Buffer.from('ignored')]);
  const out = Buffer.alloc(longPlain.length, 0xee);
  const outMac = Buffer.alloc(AEAD_MAC_LEN);
  t.is(aead.seal(out, outMac, longPlain, plain.length, longAd, ad.length, iv, key), 0);
  t.deepEqual(out.subarray(0, plain.length), c);
  t.deepEqual(outMac, mac);
  t.deepEqual(out.subarray(plain.length), Buffer.alloc(4, 0xee), 'nothing past mlen is written');
  const m = Buffer.alloc(plain.length + 4, 0xdd);
  t.is(aead.open(m, out, plain.length, outMac, longAd, ad.length, iv, key), 0);
  t.deepEqual(m.subarray(0, plain.length), plain);
  t.deepEqual(m.subarray(plain.length), Buffer.alloc(4, 0xdd), 'nothing past clen is written');
});

test('an empty message seals to a MAC over the associated data alone', (t) => {
  const { key, iv, ad } = sealed();
  const none = Buffer.alloc(0);
  const mac = Buffer.alloc(AEAD_MAC_LEN);
  t.is(aead.seal(none, mac, none, 0, ad, ad.length, iv, key), 0);
  t.is(aead.open(none, none, 0, mac, ad, ad.length, iv, key), 0);
  const changed = Buffer.from(ad);
  changed[0] ^= 0x80;
  t.is(aead.open(none, none, 0, mac, changed, changed.length, iv, key), -1);
  t.is(aead.open(none, none, 0, mac, ad, ad.length - 1, iv, key), -1, 'nor over less of it');
});

test('an empty message with empty associated data still has a MAC, which opens', (t) => {
  const { key, iv } = sealed();
  const none = Buffer.alloc(0);
  const mac = Buffer.alloc(AEAD_MAC_LEN);
  t.is(aead.seal(none, mac, none, 0, none, 0, iv, key), 0);
  t.deepEqual(mac, chachaSealRef(none, none, iv, key).mac);
  t.is(aead.open(none, none, 0, mac, none, 0, iv, key), 0);
});

// --- what does not open -------------------------------------------------------------------

test('a wrong key, IV, associated data, MAC or ciphertext each fail to open, touching no input', (t) => {
  const flip = (b: Buffer, at: number): Buffer => {
    const x = Buffer.from(b);
    x[at] ^= 0x01;
    return x;
  };
  const s = sealed();
  const cases: [string, Partial<typeof s>][] = [
    ['wrong key', { key: flip(s.key, 31) }],
    ['key differing in its first byte', { key: flip(s.key, 0) }],
    ['wrong IV', { iv: flip(s.iv, 0) }],
    ['IV differing in its last byte', { iv: flip(s.iv, 11) }],
    ['changed associated data', { ad: flip(s.ad, 5) }],
    ['changed last byte of associated data', { ad: flip(s.ad, s.ad.length - 1) }],
    ['associated data one byte longer', { ad: Buffer.concat([s.ad, Buffer.alloc(1)]) }],
    ['associated data one byte shorter', { ad: s.ad.subarray(0, s.ad.length - 1) }],
    ['changed MAC', { mac: flip(s.mac, 15) }],
    ['changed first byte of MAC', { mac: flip(s.mac, 0) }],
    ['changed ciphertext', { c: flip(s.c, 0) }],
    ['changed last byte of ciphertext', { c: flip(s.c, s.c.length - 1) }],
    ['ciphertext one byte shorter', { c: s.c.subarray(0, s.c.length - 1) }],
    ['ciphertext one byte longer', { c: Buffer.concat([s.c, Buffer.alloc(1)]) }],
  ];
  for (const [what, change] of cases) {
    const { key, iv, ad, c, mac } = { ...sealed(), ...change };
    const inputs = [key, iv, ad, c, mac].map((b) => Buffer.from(b));
    const m = Buffer.alloc(c.length + 8, 0x55);
    t.is(aead.open(m, c, c.length, mac, ad, ad.length, iv, key), -1, what);
    t.deepEqual([key, iv, ad, c, mac], inputs, `${what}: the inputs are unchanged`);
    t.deepEqual(m.subarray(c.length), Buffer.alloc(8, 0x55), `${what}: nothing past clen is written`);
    t.is(chachaOpenRef(c, mac, ad, iv, key), null, `${what}: libsodium refuses it too`);
  }
});

test('a failed open in place returns -1 and leaves the MAC, the AD and the bytes past clen as they were', (t) => {
  // The payload itself is then garbage (OpenSSL decrypts before it checks): not looked at.
  const { key, iv, ad, c, mac } = sealed();
  const buf = Buffer.concat([c, Buffer.alloc(8, 0x66)]);
  const badMac = Buffer.from(mac);
  badMac[3] ^= 0x10;
  const [mac0, ad0] = [Buffer.from(badMac), Buffer.from(ad)];
  t.is(aead.open(buf, buf, c.length, badMac, ad, ad.length, iv, key), -1);
  t.deepEqual([badMac, ad, buf.subarray(c.length)], [mac0, ad0, Buffer.alloc(8, 0x66)]);
});

// --- the contexts carry nothing over --------------------------------------------------------

test('after a failed open, a genuine one opens and sealing gives the same bytes as before', (t) => {
  const s = sealed();
  const badMac = Buffer.from(s.mac);
  badMac[0] ^= 1;
  for (let i = 0; i < 3; i++) {
    t.is(openOf(s.c, badMac, s.ad, s.iv, s.key), null);
    t.deepEqual(openOf(s.c, s.mac, s.ad, s.iv, s.key), s.plain, `round ${i}`);
    const again = sealOf(s.plain, s.ad, s.iv, s.key);
    t.deepEqual([again.c, again.mac], [s.c, s.mac]);
  }
  // A failure at the key (not the MAC) too.
  t.is(openOf(s.c, s.mac, s.ad, s.iv, Buffer.alloc(32)), null);
  t.deepEqual(openOf(s.c, s.mac, s.ad, s.iv, s.key), s.plain);
});

test('calls under different keys, IVs and lengths interleave without one changing another', (t) => {
  const cases = Array.from({ length: 8 }, (_, i) => ({ key: randomBytes(32), iv: randomBytes(12), ad: randomBytes(i * 3), m: randomBytes(i * 50) }));
  const first = cases.map((x) => sealOf(x.m, x.ad, x.iv, x.key));
  for (let round = 0; round < 3; round++) {
    for (let i = cases.length - 1; i >= 0; i--) {
      const x = cases[i];
      const again = sealOf(x.m, x.ad, x.iv, x.key);
      t.deepEqual([again.c, again.mac], [first[i].c, first[i].mac]);
      t.deepEqual(openOf(first[i].c, first[i].mac, x.ad, x.iv, x.key), x.m);
      t.is(openOf(first[(i + 1) % cases.length].c, first[i].mac, x.ad, x.iv, x.key), null);
    }
  }
});
