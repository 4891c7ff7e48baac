// The independent reference the crypto tests check DiVES's own cipher code against:
// libsodium, through the sodium-native devDependency (its prebuilt add-on). DiVES never
// loads it; only tests do (test/crypto/aead.test.ts, hchacha20.test.ts,
// datagram-sealer*.test.ts, test/peer/*seal*.test.ts). Typed here for just the calls they make, and wrapped so a
// test reads as "what libsodium says", allocating freely.
//
// sodium-native has no crypto_core_hchacha20, so hchacha20Ref() takes HChaCha20 out of
// libsodium's ChaCha20 block function: HChaCha20 is that block with the 16-byte input in
// state words 12..15 (the IETF counter and nonce), less the block's final feed-forward
// addition, and only words 0..3 and 12..15 kept (draft-irtf-cfrg-xchacha-03, 2.2). The
// feed-forward adds the initial state, which is known there (the constants and the
// input), so subtracting it back gives the HChaCha20 words exactly.

import { createRequire } from 'node:module';

type Bytes = Uint8Array;

interface SodiumNative {
  crypto_aead_chacha20poly1305_ietf_encrypt_detached(c: Bytes, mac: Bytes, m: Bytes, ad: Bytes | null, nsec: null, npub: Bytes, k: Bytes): number;
  /** Throws when the MAC is not genuine. */
  crypto_aead_chacha20poly1305_ietf_decrypt_detached(m: Bytes, nsec: null, c: Bytes, mac: Bytes, ad: Bytes | null, npub: Bytes, k: Bytes): void;
  crypto_aead_xchacha20poly1305_ietf_encrypt_detached(c: Bytes, mac: Bytes, m: Bytes, ad: Bytes | null, nsec: null, npub: Bytes, k: Bytes): number;
  /** Throws when the MAC is not genuine. */
  crypto_aead_xchacha20poly1305_ietf_decrypt_detached(m: Bytes, nsec: null, c: Bytes, mac: Bytes, ad: Bytes | null, npub: Bytes, k: Bytes): void;
  crypto_stream_chacha20_ietf_xor_ic(c: Bytes, m: Bytes, n: Bytes, ic: number, k: Bytes): void;
  crypto_stream_chacha20_ietf(c: Bytes, n: Bytes, k: Bytes): void;
  crypto_stream_xchacha20(c: Bytes, n: Bytes, k: Bytes): void;
}

export const sodium = createRequire(import.meta.url)('sodium-native') as SodiumNative;

/** libsodium's ChaCha20-Poly1305 (IETF, 12-byte nonce): ciphertext and detached MAC of m with associated data ad. */
export function chachaSealRef(m: Bytes, ad: Bytes, iv: Bytes, key: Bytes): { c: Buffer; mac: Buffer } {
  const c = Buffer.alloc(m.length);
  const mac = Buffer.alloc(16);
  sodium.crypto_aead_chacha20poly1305_ietf_encrypt_detached(c, mac, m, ad, null, iv, key);
  return { c, mac };
}

/** libsodium's ChaCha20-Poly1305 (IETF) open: the plaintext, or null when the MAC is not genuine. */
export function chachaOpenRef(c: Bytes, mac: Bytes, ad: Bytes, iv: Bytes, key: Bytes): Buffer | null {
  const m = Buffer.alloc(c.length);
  try {
    sodium.crypto_aead_chacha20poly1305_ietf_decrypt_detached(m, null, c, mac, ad, iv, key);
  } catch {
    return null;
  }
  return m;
}

/** libsodium's XChaCha20-Poly1305 (IETF, 24-byte nonce): ciphertext and detached MAC of m with associated data ad. */
export function xchachaSealRef(m: Bytes, ad: Bytes, nonce: Bytes, key: Bytes): { c: Buffer; mac: Buffer } {
  const c = Buffer.alloc(m.length);
  const mac = Buffer.alloc(16);
  sodium.crypto_aead_xchacha20poly1305_ietf_encrypt_detached(c, mac, m, ad, null, nonce, key);
  return { c, mac };
}

/** libsodium's XChaCha20-Poly1305 (IETF) open: the plaintext, or null when the MAC is not genuine. */
export function xchachaOpenRef(c: Bytes, mac: Bytes, ad: Bytes, nonce: Bytes, key: Bytes): Buffer | null {
  const m = Buffer.alloc(c.length);
  try {
    sodium.crypto_aead_xchacha20poly1305_ietf_decrypt_detached(m, null, c, mac, ad, nonce, key);
  } catch {
    return null;
  }
  return m;
}

const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574];

/** HChaCha20(key, input[0..16)) from libsodium's ChaCha20 block (see the header). */
export function hchacha20Ref(key: Bytes, input: Bytes): Buffer {
  const inp = Buffer.from(input.subarray(0, 16));
  const block = Buffer.alloc(64);
  sodium.crypto_stream_chacha20_ietf_xor_ic(block, Buffer.alloc(64), inp.subarray(4, 16), inp.readUInt32LE(0), key);
  const out = Buffer.alloc(32);
  for (let i = 0; i < 4; i++) {
    out.writeUInt32LE((block.readUInt32LE(i * 4) - SIGMA[i]) >>> 0, i * 4);
    out.writeUInt32LE((block.readUInt32LE(48 + i * 4) - inp.readUInt32LE(i * 4)) >>> 0, 16 + i * 4);
  }
  return out;
}

/** `n` bytes of libsodium's XChaCha20 key stream for a 24-byte nonce. */
export function xchachaStreamRef(n: number, nonce: Bytes, key: Bytes): Buffer {
  const out = Buffer.alloc(n);
  sodium.crypto_stream_xchacha20(out, nonce, key);
  return out;
}

/** `n` bytes of libsodium's ChaCha20 (IETF) key stream for a 12-byte nonce, from block 0. */
export function chachaStreamRef(n: number, iv: Bytes, key: Bytes): Buffer {
  const out = Buffer.alloc(n);
  sodium.crypto_stream_chacha20_ietf(out, iv, key);
  return out;
}
