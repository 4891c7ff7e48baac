// Aead: ChaCha20-Poly1305 (RFC 8439) for sealed datagrams. Long datagrams go to the OpenSSL
// inside Node itself (its libcrypto symbols are exported to the process, for native add-ons;
// libcrypto.so.3 when a Node build does not export them), whose AVX-512 ChaCha20 and
// Poly1305 are the fastest here on a 64 KiB segment; short ones to the system's libsodium
// when it is installed (Debian: libsodium23), one call where OpenSSL takes five. Both are
// called through koffi, the FFI DiVES already uses for its system calls, and give the same
// bytes. With the per-session-pair subkey of src/crypto/hchacha20.ts this is
// XChaCha20-Poly1305 (src/crypto/datagram-sealer.ts). Loaded on first use by a thread that
// seals (the peer I/O thread, main for discovery).
//
// Why these and not node:crypto or sodium-native: `npm run bench -- crypto` (docs/security.md,
// "Why this cipher and this library"). node:crypto makes a Cipher object and buffers per
// datagram; sodium-native needs a view of the exact length per call. Here each call passes
// views made once (a slot, the slot past its header, fixed scratch buffers) and lengths as
// numbers, so sealing or opening a datagram allocates nothing.
//
// Thread safety: koffi binds per thread, and each thread has its own two cipher contexts
// (one to seal, one to open); nothing is shared.

import { createRequire } from 'node:module';
import { DivesError } from '../core/errors.js';

type Koffi = typeof import('koffi').default;
type Fn = (...args: unknown[]) => number;

/** Bytes of key, nonce (IV) and MAC of ChaCha20-Poly1305. */
export const AEAD_KEY_LEN = 32;
export const AEAD_IV_LEN = 12;
export const AEAD_MAC_LEN = 16;

/** Datagrams (payload and associated data) shorter than this go to libsodium when it is there (npm run bench -- crypto). */
export const AEAD_SHORT = 1024;
const EVP_CTRL_AEAD_GET_TAG = 0x10;
const EVP_CTRL_AEAD_SET_TAG = 0x11;

export interface Aead {
  /** Which libraries do the work, for `show keys` and the start-up log. */
  readonly libraries: string;
  /** Encrypts m[0..mlen) into c (may be m), authenticating ad[0..adlen) too, and writes the MAC to mac; 0 on success. */
  seal(c: Uint8Array, mac: Uint8Array, m: Uint8Array, mlen: number, ad: Uint8Array, adlen: number, iv: Uint8Array, key: Uint8Array): number;
  /** Checks mac over ad[0..adlen) and c[0..clen) and decrypts into m (may be c); 0 when genuine, -1 when not (m[0..clen) then holds garbage). */
  open(m: Uint8Array, c: Uint8Array, clen: number, mac: Uint8Array, ad: Uint8Array, adlen: number, iv: Uint8Array, key: Uint8Array): number;
}

let bound: Aead | undefined;

function libcrypto(koffi: Koffi): ReturnType<Koffi['load']> {
  // Node's own OpenSSL first: no library to install, and the same code the process trusts.
  for (const name of [null, 'libcrypto.so.3']) {
    try {
      const lib = name === null ? koffi.load(null as unknown as string) : koffi.load(name);
      lib.func('const void *EVP_chacha20_poly1305()');
      return lib;
    } catch {
      // Try the next.
    }
  }
  throw new DivesError('EINTERNAL', 'a cluster key needs ChaCha20-Poly1305 from OpenSSL, which neither this Node nor libcrypto.so.3 provides (Debian: apt-get install libssl3)');
}

/** libsodium's ChaCha20-Poly1305 (IETF), when the system has it; null when not (OpenSSL then does every datagram). */
function libsodium(koffi: Koffi): { seal: Fn; open: Fn } | null {
  try {
    const lib = koffi.load('libsodium.so.23');
    if ((lib.func('int sodium_init()') as () => number)() < 0) return null;
    return {
      seal: lib.func(
        'int crypto_aead_chacha20poly1305_ietf_encrypt_detached(void *c, void *mac, void *maclen_p, const void *m, uint64_t mlen, const void *ad, uint64_t adlen, const void *nsec, const void *npub, const void *k)',
      ) as Fn,
      open: lib.func(
        'int crypto_aead_chacha20poly1305_ietf_decrypt_detached(void *m, void *nsec, const void *c, uint64_t clen, const void *mac, const void *ad, uint64_t adlen, const void *npub, const void *k)',
      ) as Fn,
    };
  } catch {
    return null;
  }
}

/**
 * Binds OpenSSL's ChaCha20-Poly1305 on this thread the first time and returns the same
 * object after. Throws DivesError EINTERNAL when it cannot, so a thread calls it once at
 * start-up; the per-datagram calls never throw.
 */
export function loadAead(): Aead {
  if (bound !== undefined) return bound;
  const koffi = createRequire(import.meta.url)('koffi') as Koffi;
  const lib = libcrypto(koffi);
  const cipher = (lib.func('const void *EVP_chacha20_poly1305()') as () => unknown)();
  const ctxNew = lib.func('void *EVP_CIPHER_CTX_new()') as () => unknown;
  const init = lib.func('int EVP_CipherInit_ex(void *ctx, const void *type, void *impl, const void *key, const void *iv, int enc)') as Fn;
  const update = lib.func('int EVP_CipherUpdate(void *ctx, void *out, void *outl, const void *in, int inl)') as Fn;
  const final = lib.func('int EVP_CipherFinal_ex(void *ctx, void *out, void *outl)') as Fn;
  const ctrl = lib.func('int EVP_CIPHER_CTX_ctrl(void *ctx, int type, int arg, void *ptr)') as Fn;
  const enc = ctxNew();
  const dec = ctxNew();
  if (enc === null || dec === null || init(enc, cipher, null, null, null, 1) !== 1 || init(dec, cipher, null, null, null, 0) !== 1) {
    throw new DivesError('EINTERNAL', 'OpenSSL: cannot set up a ChaCha20-Poly1305 context');
  }
  const outl = new Int32Array(1);
  const spare = new Uint8Array(16);
  const na = libsodium(koffi);
  bound = Object.freeze({
    libraries: na === null ? 'OpenSSL' : `libsodium below ${AEAD_SHORT} bytes, OpenSSL above`,
    seal(c, mac, m, mlen, ad, adlen, iv, key) {
      if (na !== null && mlen + adlen < AEAD_SHORT) return na.seal(c, mac, null, m, mlen, ad, adlen, null, iv, key) === 0 ? 0 : -1;
      if (init(enc, null, null, key, iv, 1) !== 1 || update(enc, null, outl, ad, adlen) !== 1) return -1;
      if (mlen > 0 && update(enc, c, outl, m, mlen) !== 1) return -1;
      if (final(enc, spare, outl) !== 1) return -1;
      return ctrl(enc, EVP_CTRL_AEAD_GET_TAG, AEAD_MAC_LEN, mac) === 1 ? 0 : -1;
    },
    open(m, c, clen, mac, ad, adlen, iv, key) {
      if (na !== null && clen + adlen < AEAD_SHORT) return na.open(m, null, c, clen, mac, ad, adlen, iv, key) === 0 ? 0 : -1;
      if (init(dec, null, null, key, iv, 0) !== 1 || update(dec, null, outl, ad, adlen) !== 1) return -1;
      if (clen > 0 && update(dec, m, outl, c, clen) !== 1) return -1;
      if (ctrl(dec, EVP_CTRL_AEAD_SET_TAG, AEAD_MAC_LEN, mac) !== 1) return -1;
      return final(dec, spare, outl) === 1 ? 0 : -1;
    },
  } satisfies Aead);
  return bound;
}
