// The AEADs bench/crypto.ts weighs, each called as the peer I/O thread would call it: what
// DiVES runs (src/crypto/aead.ts), libsodium through koffi (bench/libsodium.ts), sodium-native
// with one exact-length view per call, and node:crypto with a Cipher per datagram, whose
// output and tag (new Buffers) are copied into the slot. Bench main thread.

import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { loadSodium } from './libsodium.js';
import { loadAead } from '../src/crypto/aead.js';

export type Mode = 'encrypt' | 'authenticate';
export const HEADER = 24;
export const MAC = 16;

export interface Slot {
  /** The whole datagram: header, payload, MAC. */
  buf: Uint8Array;
  /** buf[0..HEADER), made once: the associated data of "encrypt". */
  header: Uint8Array;
  /** buf past its header, made once: where koffi reads and writes the payload. */
  body: Uint8Array;
}

/** One AEAD as the peer I/O thread would call it; neither call throws. */
export interface Aead {
  name: string;
  nonceLen: 12 | 24;
  /** Seals slot's payload of len bytes in place and writes the MAC at its tail; false when the library refused. */
  seal(slot: Slot, len: number, mode: Mode, nonce: Uint8Array): boolean;
  /** Verifies slot's datagram and (encrypt) decrypts its payload into out, exactly len bytes; false when not genuine. */
  open(slot: Slot, len: number, mode: Mode, nonce: Uint8Array, out: Uint8Array): boolean;
}

export const KEY = new Uint8Array(randomBytes(32));
export const EMPTY = new Uint8Array(0);

export function copyBytes(dst: Uint8Array, dstAt: number, src: Uint8Array, srcAt: number, n: number): void {
  for (let i = 0; i < n; i++) dst[dstAt + i] = src[srcAt + i];
}

export function nodeCrypto(alg: 'chacha20-poly1305' | 'aes-256-gcm', name: string): Aead {
  const key = createSecretKey(KEY);
  const opts = { authTagLength: MAC };
  const cipher = alg === 'aes-256-gcm' ? (n: Uint8Array) => createCipheriv('aes-256-gcm', key, n, opts) : (n: Uint8Array) => createCipheriv('chacha20-poly1305', key, n, opts);
  const decipher = alg === 'aes-256-gcm' ? (n: Uint8Array) => createDecipheriv('aes-256-gcm', key, n, opts) : (n: Uint8Array) => createDecipheriv('chacha20-poly1305', key, n, opts);
  return {
    name,
    nonceLen: 12,
    seal(slot, len, mode, nonce) {
      const c = cipher(nonce);
      if (mode === 'encrypt') {
        c.setAAD(slot.header);
        slot.buf.set(c.update(slot.buf.subarray(HEADER, HEADER + len)), HEADER);
      } else c.setAAD(slot.buf.subarray(0, HEADER + len));
      c.final();
      slot.buf.set(c.getAuthTag(), HEADER + len);
      return true;
    },
    open(slot, len, mode, nonce, out) {
      const d = decipher(nonce);
      d.setAuthTag(slot.buf.subarray(HEADER + len, HEADER + len + MAC));
      try {
        if (mode === 'encrypt') {
          d.setAAD(slot.header);
          out.set(d.update(slot.buf.subarray(HEADER, HEADER + len)));
        } else d.setAAD(slot.buf.subarray(0, HEADER + len));
        d.final();
        return true;
      } catch {
        return false;
      }
    },
  };
}

type SnSeal = (c: Uint8Array, mac: Uint8Array, m: Uint8Array, ad: Uint8Array, nsec: null, npub: Uint8Array, k: Uint8Array) => number;
type SnOpen = (m: Uint8Array, nsec: null, c: Uint8Array, mac: Uint8Array, ad: Uint8Array, npub: Uint8Array, k: Uint8Array) => void;

export function sodiumNative(variant: 'xchacha20' | 'chacha20'): Aead {
  const sn = createRequire(import.meta.url)('sodium-native') as Record<string, SnSeal | SnOpen>;
  const seal = sn[`crypto_aead_${variant}poly1305_ietf_encrypt_detached`] as SnSeal;
  const open = sn[`crypto_aead_${variant}poly1305_ietf_decrypt_detached`] as SnOpen;
  const mac = new Uint8Array(MAC);
  return {
    name: `sodium-native ${variant}-poly1305`,
    nonceLen: variant === 'xchacha20' ? 24 : 12,
    seal(slot, len, mode, nonce) {
      try {
        if (mode === 'encrypt') {
          const p = slot.buf.subarray(HEADER, HEADER + len);
          seal(p, mac, p, slot.header, null, nonce, KEY);
        } else seal(EMPTY, mac, EMPTY, slot.buf.subarray(0, HEADER + len), null, nonce, KEY);
      } catch {
        return false;
      }
      copyBytes(slot.buf, HEADER + len, mac, 0, MAC);
      return true;
    },
    open(slot, len, mode, nonce, out) {
      copyBytes(mac, 0, slot.buf, HEADER + len, MAC);
      // decrypt_detached throws when the MAC does not match.
      try {
        if (mode === 'encrypt') open(out, null, slot.buf.subarray(HEADER, HEADER + len), mac, slot.header, nonce, KEY);
        else open(EMPTY, null, EMPTY, mac, slot.buf.subarray(0, HEADER + len), nonce, KEY);
        return true;
      } catch {
        return false;
      }
    },
  };
}

type SealFn = (c: Uint8Array, mac: Uint8Array, m: Uint8Array, mlen: number, ad: Uint8Array, adlen: number, nonce: Uint8Array, key: Uint8Array) => number;
type OpenFn = (m: Uint8Array, c: Uint8Array, clen: number, mac: Uint8Array, ad: Uint8Array, adlen: number, nonce: Uint8Array, key: Uint8Array) => number;

/** An AEAD called with views made once and lengths as numbers, the MAC in a 16-byte scratch: as the peer I/O thread calls one. */
function inPlace(name: string, nonceLen: 12 | 24, seal: SealFn, open: OpenFn): Aead {
  const mac = new Uint8Array(MAC);
  return {
    name,
    nonceLen,
    seal(slot, len, mode, nonce) {
      // The header is at the slot's start, so the slot itself is the associated data.
      const r = mode === 'encrypt' ? seal(slot.body, mac, slot.body, len, slot.buf, HEADER, nonce, KEY) : seal(slot.body, mac, slot.body, 0, slot.buf, HEADER + len, nonce, KEY);
      copyBytes(slot.buf, HEADER + len, mac, 0, MAC);
      return r === 0;
    },
    open(slot, len, mode, nonce, out) {
      copyBytes(mac, 0, slot.buf, HEADER + len, MAC);
      return (mode === 'encrypt' ? open(out, slot.body, len, mac, slot.buf, HEADER, nonce, KEY) : open(out, slot.body, 0, mac, slot.buf, HEADER + len, nonce, KEY)) === 0;
    },
  };
}

/** libsodium's XChaCha20-Poly1305 through koffi (bench/libsodium.ts). */
export function koffiSodium(): Aead {
  const s = loadSodium();
  return inPlace('libsodium xchacha20 via koffi', 24, s.sealDetached, s.openDetached);
}

/** What DiVES runs (src/crypto/aead.ts), as src/crypto/datagram-sealer.ts calls it: RFC 8439 under a subkey (KEY here), the 12-byte IV. */
export function divesAead(): Aead {
  const a = loadAead();
  return inPlace(`DiVES (src/crypto/aead.ts)`, 12, a.seal, a.open);
}
