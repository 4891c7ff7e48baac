// Tests for src/crypto/hchacha20.ts: HChaCha20 gives the draft-irtf-cfrg-xchacha-03 test
// vector and libsodium's answer (sodium-native, test/crypto/libsodium-reference.ts) for
// random, extreme and one-bit-apart keys and inputs; with it, ChaCha20 under the subkey and
// the nonce 0000 || nonce[16..24) is libsodium's XChaCha20 key stream; it reads its input
// at an offset, writes out[0..32) only and keeps no state between calls. Pure units on
// ava's thread.

import test from 'ava';
import { randomBytes } from 'node:crypto';
import { HChaCha20 } from '../../src/crypto/hchacha20.js';
import { chachaStreamRef, hchacha20Ref, xchachaStreamRef } from './libsodium-reference.js';

const h = new HChaCha20();

/** HChaCha20(key, input) by the code under test, into a fresh buffer. */
function derive(key: Uint8Array, input: Uint8Array, inAt = 0): Buffer {
  const out = Buffer.alloc(32);
  h.derive(out, key, input, inAt);
  return out;
}

// draft-irtf-cfrg-xchacha-03, section 2.2.1.
const VECTOR = {
  key: Buffer.from(Array.from({ length: 32 }, (_, i) => i)),
  input: Buffer.from('000000090000004a0000000031415927', 'hex'),
  out: '82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc',
};

// --- known answers ----------------------------------------------------------------------------

test('HChaCha20 gives the test vector of draft-irtf-cfrg-xchacha-03, section 2.2.1', (t) => {
  t.is(derive(VECTOR.key, VECTOR.input).toString('hex'), VECTOR.out);
});

test('the libsodium reference gives the same test vector, so it is a fair judge', (t) => {
  t.is(hchacha20Ref(VECTOR.key, VECTOR.input).toString('hex'), VECTOR.out);
});

test('HChaCha20 equals libsodium\'s for 500 random keys and inputs', (t) => {
  let same = 0;
  for (let i = 0; i < 500; i++) {
    const key = randomBytes(32);
    const input = randomBytes(16);
    const got = derive(key, input);
    const want = hchacha20Ref(key, input);
    if (!got.equals(want)) t.fail(`key ${key.toString('hex')}, input ${input.toString('hex')}: ${got.toString('hex')}, not ${want.toString('hex')}`);
    else same++;
  }
  t.is(same, 500);
});

test('HChaCha20 equals libsodium\'s for all-zero and all-ones keys and inputs (words read unsigned)', (t) => {
  for (const k of [0x00, 0xff, 0x80, 0x7f]) {
    for (const v of [0x00, 0xff, 0x80, 0x7f]) {
      const key = Buffer.alloc(32, k);
      const input = Buffer.alloc(16, v);
      t.deepEqual(derive(key, input), hchacha20Ref(key, input), `key bytes ${k}, input bytes ${v}`);
    }
  }
});

test('every single-bit change of the key or the input gives another subkey, libsodium\'s', (t) => {
  const key = randomBytes(32);
  const input = randomBytes(16);
  const base = derive(key, input);
  const seen = new Set([base.toString('hex')]);
  for (let bit = 0; bit < (32 + 16) * 8; bit++) {
    const k = Buffer.from(key);
    const n = Buffer.from(input);
    if (bit < 256) k[bit >> 3] ^= 1 << (bit & 7);
    else n[(bit - 256) >> 3] ^= 1 << (bit & 7);
    const got = derive(k, n);
    if (!got.equals(hchacha20Ref(k, n))) t.fail(`bit ${bit}: not libsodium's`);
    seen.add(got.toString('hex'));
  }
  t.is(seen.size, 1 + 48 * 8, 'all different');
});

// --- what it is for: XChaCha20 ------------------------------------------------------------------

test('ChaCha20 under HChaCha20(key, nonce[0..16)) with the nonce 0000 || nonce[16..24) is libsodium\'s XChaCha20', (t) => {
  for (let i = 0; i < 50; i++) {
    const key = randomBytes(32);
    const nonce = randomBytes(24);
    const iv = Buffer.concat([Buffer.alloc(4), nonce.subarray(16)]);
    t.deepEqual(chachaStreamRef(200, iv, derive(key, nonce)), xchachaStreamRef(200, nonce, key));
  }
});

// --- buffers -------------------------------------------------------------------------------------

test('the input is read at inAt: 16 bytes there, nothing around them', (t) => {
  const key = randomBytes(32);
  const input = randomBytes(16);
  const want = derive(key, input);
  for (const at of [0, 1, 7, 8, 40]) {
    const wide = randomBytes(at + 16 + 9);
    input.copy(wide, at);
    t.deepEqual(derive(key, wide, at), want, `at ${at}`);
  }
  // A 24-byte nonce: the first 16 bytes make the subkey, as DatagramSealer uses it.
  const nonce = Buffer.concat([input, randomBytes(8)]);
  t.deepEqual(derive(key, nonce), want);
});

test('derive writes out[0..32) only and leaves key and input as they were', (t) => {
  const key = randomBytes(32);
  const input = randomBytes(16);
  const [k0, i0] = [Buffer.from(key), Buffer.from(input)];
  const out = Buffer.alloc(48, 0xee);
  h.derive(out, key, input);
  t.deepEqual(out.subarray(0, 32), hchacha20Ref(key, input));
  t.deepEqual(out.subarray(32), Buffer.alloc(16, 0xee));
  t.deepEqual([key, input], [k0, i0]);
  const view = Buffer.alloc(64, 0xee);
  h.derive(view.subarray(16, 48), key, input);
  t.deepEqual([view.subarray(0, 16), view.subarray(48)], [Buffer.alloc(16, 0xee), Buffer.alloc(16, 0xee)], 'into a view: nothing around it');
});

test('an instance keeps nothing from one derive to the next, and two instances agree', (t) => {
  const [k1, n1, k2, n2] = [randomBytes(32), randomBytes(16), randomBytes(32), randomBytes(16)];
  const first = derive(k1, n1);
  derive(k2, n2);
  t.deepEqual(derive(k1, n1), first);
  const other = Buffer.alloc(32);
  new HChaCha20().derive(other, k1, n1);
  t.deepEqual(other, first);
});
