// libsodium's XChaCha20-Poly1305 (IETF) through koffi, from the system's libsodium (Debian:
// libsodium23), called as the peer I/O thread would call an AEAD: views made once, lengths as
// numbers, the MAC in a fixed scratch. For `npm run bench -- crypto` (bench/crypto.ts), which
// weighs it against node:crypto, sodium-native and what DiVES runs (src/crypto/aead.ts: the
// IETF construction under a cached HChaCha20 subkey, libsodium for short datagrams and
// Node's OpenSSL for long ones). Bench main thread.

import { createRequire } from 'node:module';
import { DivesError } from '../src/core/errors.js';

type Koffi = typeof import('koffi').default;

/** Bytes of key, nonce and MAC of crypto_aead_xchacha20poly1305_ietf. */
export const AEAD_KEY_LEN = 32;
export const AEAD_NONCE_LEN = 24;
export const AEAD_MAC_LEN = 16;

export interface Sodium {
  /** Encrypts m[0..mlen) into c (may be m) and writes the MAC to mac; 0 on success. */
  sealDetached(c: Uint8Array, mac: Uint8Array, m: Uint8Array, mlen: number, ad: Uint8Array, adlen: number, nonce: Uint8Array, key: Uint8Array): number;
  /** Checks mac over c[0..clen) and ad[0..adlen) and decrypts into m (may be c); 0 when genuine, -1 when not (m[0..clen) is then zeroed). */
  openDetached(m: Uint8Array, c: Uint8Array, clen: number, mac: Uint8Array, ad: Uint8Array, adlen: number, nonce: Uint8Array, key: Uint8Array): number;
  /** Fills buf with random bytes from the kernel's generator. */
  randomBytes(buf: Uint8Array): void;
}

let bound: Sodium | undefined;

/**
 * Binds libsodium on this thread the first time and returns the same object after. Throws
 * DivesError EINTERNAL with the package to install when it cannot be loaded, so a thread
 * calls it once at start-up; the per-datagram calls never throw.
 */
export function loadSodium(): Sodium {
  if (bound !== undefined) return bound;
  let lib: ReturnType<Koffi['load']>;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as Koffi;
    lib = koffi.load('libsodium.so.23');
  } catch (err) {
    throw new DivesError(
      'EINTERNAL',
      `libsodium cannot be loaded (${err instanceof Error ? err.message : String(err)}); install it (Debian: apt-get install libsodium23)`,
      { cause: err },
    );
  }
  if ((lib.func('int sodium_init()') as () => number)() < 0) throw new DivesError('EINTERNAL', 'libsodium: sodium_init() failed');
  const seal = lib.func(
    'int crypto_aead_xchacha20poly1305_ietf_encrypt_detached(void *c, void *mac, void *maclen_p, const void *m, uint64_t mlen, const void *ad, uint64_t adlen, const void *nsec, const void *npub, const void *k)',
  );
  const open = lib.func(
    'int crypto_aead_xchacha20poly1305_ietf_decrypt_detached(void *m, void *nsec, const void *c, uint64_t clen, const void *mac, const void *ad, uint64_t adlen, const void *npub, const void *k)',
  );
  const random = lib.func('void randombytes_buf(void *buf, size_t size)');
  const api: Sodium = {
    sealDetached: (c, mac, m, mlen, ad, adlen, nonce, key) => seal(c, mac, null, m, mlen, ad, adlen, null, nonce, key) as number,
    openDetached: (m, c, clen, mac, ad, adlen, nonce, key) => open(m, null, c, clen, mac, ad, adlen, nonce, key) as number,
    randomBytes: (buf) => {
      random(buf, buf.length);
    },
  };
  bound = Object.freeze(api);
  return bound;
}
