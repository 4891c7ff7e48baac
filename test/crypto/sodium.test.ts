// Tests for src/crypto/sodium.ts: libsodium's XChaCha20-Poly1305 (IETF) through koffi —
// a sealed message opens with the same key, nonce and associated data and with nothing
// else, the lengths passed bound what is read, and random bytes are random. Pure units
// on ava's thread (needs libsodium23, as the switch does).

import test from 'ava';
import { AEAD_KEY_LEN, AEAD_MAC_LEN, AEAD_NONCE_LEN, loadSodium } from '../../src/crypto/sodium.js';

const sodium = loadSodium();

/** A fixed key, nonce, associated data and message, and the message sealed with them. */
function sealed(): { key: Buffer; nonce: Buffer; ad: Buffer; plain: Buffer; c: Buffer; mac: Buffer } {
  const key = Buffer.from(Array.from({ length: AEAD_KEY_LEN }, (_, i) => i + 1));
  const nonce = Buffer.from(Array.from({ length: AEAD_NONCE_LEN }, (_, i) => 0xa0 + i));
  const ad = Buffer.from('a header the MAC covers');
  const plain = Buffer.from('a frame of the virtual Ethernet, 47 bytes long.');
  const c = Buffer.alloc(plain.length);
  const mac = Buffer.alloc(AEAD_MAC_LEN);
  if (sodium.sealDetached(c, mac, plain, plain.length, ad, ad.length, nonce, key) !== 0) throw new Error('sealDetached failed');
  return { key, nonce, ad, plain, c, mac };
}

// --- binding ----------------------------------------------------------------------------

test('loadSodium binds once and returns the same frozen object after', (t) => {
  t.is(loadSodium(), sodium);
  t.true(Object.isFrozen(sodium));
  t.deepEqual([AEAD_KEY_LEN, AEAD_NONCE_LEN, AEAD_MAC_LEN], [32, 24, 16]);
});

// --- sealing and opening ------------------------------------------------------------------

test('a sealed message opens with its key, nonce and associated data, and was not in clear', (t) => {
  const { key, nonce, ad, plain, c, mac } = sealed();
  t.notDeepEqual(c, plain);
  t.false(c.includes(plain.subarray(0, 8)), 'no run of the message in the ciphertext');
  const m = Buffer.alloc(c.length);
  t.is(sodium.openDetached(m, c, c.length, mac, ad, ad.length, nonce, key), 0);
  t.deepEqual(m, plain);
});

test('sealing and opening in place (output and input the same buffer) round-trips', (t) => {
  const { key, nonce, ad, plain } = sealed();
  const buf = Buffer.from(plain);
  const mac = Buffer.alloc(AEAD_MAC_LEN);
  t.is(sodium.sealDetached(buf, mac, buf, buf.length, ad, ad.length, nonce, key), 0);
  t.notDeepEqual(buf, plain);
  t.is(sodium.openDetached(buf, buf, buf.length, mac, ad, ad.length, nonce, key), 0);
  t.deepEqual(buf, plain);
});

test('sealing is deterministic for one key and nonce, and another nonce gives another ciphertext', (t) => {
  const a = sealed();
  const b = sealed();
  t.deepEqual([a.c, a.mac], [b.c, b.mac]);
  const nonce = Buffer.from(a.nonce);
  nonce[23] ^= 1;
  const c = Buffer.alloc(a.plain.length);
  const mac = Buffer.alloc(AEAD_MAC_LEN);
  sodium.sealDetached(c, mac, a.plain, a.plain.length, a.ad, a.ad.length, nonce, a.key);
  t.notDeepEqual(c, a.c);
  t.notDeepEqual(mac, a.mac);
});

test('the lengths passed bound what is sealed and authenticated, not the buffers', (t) => {
  const { key, nonce, ad, plain, c, mac } = sealed();
  // The same message and AD in longer buffers, with the lengths given as numbers.
  const longPlain = Buffer.concat([plain, Buffer.from('tail')]);
  const longAd = Buffer.concat([ad, Buffer.from('ignored')]);
  const out = Buffer.alloc(longPlain.length, 0xee);
  const outMac = Buffer.alloc(AEAD_MAC_LEN);
  t.is(sodium.sealDetached(out, outMac, longPlain, plain.length, longAd, ad.length, nonce, key), 0);
  t.deepEqual(out.subarray(0, plain.length), c);
  t.deepEqual(outMac, mac);
  t.deepEqual(out.subarray(plain.length), Buffer.alloc(4, 0xee), 'nothing past mlen is written');
  const m = Buffer.alloc(plain.length);
  t.is(sodium.openDetached(m, out, plain.length, outMac, longAd, ad.length, nonce, key), 0);
  t.deepEqual(m, plain);
});

test('an empty message seals to a MAC over the associated data alone', (t) => {
  const { key, nonce, ad } = sealed();
  const none = Buffer.alloc(0);
  const mac = Buffer.alloc(AEAD_MAC_LEN);
  t.is(sodium.sealDetached(none, mac, none, 0, ad, ad.length, nonce, key), 0);
  t.is(sodium.openDetached(none, none, 0, mac, ad, ad.length, nonce, key), 0);
  const changed = Buffer.from(ad);
  changed[0] ^= 0x80;
  t.is(sodium.openDetached(none, none, 0, mac, changed, changed.length, nonce, key), -1);
});

// --- what does not open -------------------------------------------------------------------

test('a wrong key, nonce, associated data, MAC or ciphertext each fail to open, touching no input and giving no plaintext', (t) => {
  const flip = (b: Buffer, at: number): Buffer => {
    const x = Buffer.from(b);
    x[at] ^= 0x01;
    return x;
  };
  const s = sealed();
  const cases: [string, Partial<typeof s>][] = [
    ['wrong key', { key: flip(s.key, 31) }],
    ['wrong nonce', { nonce: flip(s.nonce, 0) }],
    ['nonce differing in its last byte', { nonce: flip(s.nonce, 23) }],
    ['changed associated data', { ad: flip(s.ad, 5) }],
    ['changed MAC', { mac: flip(s.mac, 15) }],
    ['changed ciphertext', { c: flip(s.c, 0) }],
    ['changed last byte of ciphertext', { c: flip(s.c, s.c.length - 1) }],
  ];
  for (const [what, change] of cases) {
    const { key, nonce, ad, c, mac, plain } = { ...sealed(), ...change };
    const inputs = [key, nonce, ad, c, mac].map((b) => Buffer.from(b));
    const m = Buffer.alloc(c.length, 0x55);
    t.is(sodium.openDetached(m, c, c.length, mac, ad, ad.length, nonce, key), -1, what);
    t.deepEqual([key, nonce, ad, c, mac], inputs, `${what}: the inputs are unchanged`);
    t.false(m.includes(plain.subarray(0, 8)), `${what}: no plaintext reaches the output`);
  }
});

// --- random bytes ---------------------------------------------------------------------------

test('randomBytes fills the whole buffer and differs from call to call', (t) => {
  const a = new Uint8Array(64);
  const b = new Uint8Array(64);
  sodium.randomBytes(a);
  sodium.randomBytes(b);
  t.notDeepEqual(a, b);
  t.true(new Set(a).size > 16, 'not a constant fill');
  t.true(a.subarray(48).some((x) => x !== 0), 'the tail is written too');
  sodium.randomBytes(new Uint8Array(0));
  t.pass('an empty buffer is fine');
});
