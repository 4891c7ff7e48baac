// DatagramSealer: seals and opens datagrams in the envelope of src/crypto/sealed-datagram.ts
// with XChaCha20-Poly1305, in place in the slot they are sent from or received into. One per
// thread that seals: the peer I/O thread (peer datagrams, data subkeys) and main's discovery
// (announcements, discovery subkeys); see src/crypto/key-ring.ts.
//
// XChaCha20-Poly1305's 24-byte nonce is here the sender's session, the receiver's session
// (zeros when unaddressed) and the counter. Its first 16 bytes make the subkey
// (src/crypto/hchacha20.ts), one per pair of sessions: a Subkey cache (one per peer and
// way) keeps it, so per datagram only ChaCha20-Poly1305 (src/crypto/aead.ts) runs, under
// the subkey with the nonce 0000 || counter. The bytes on the wire are those of
// XChaCha20-Poly1305 with the full nonce (test/crypto/datagram-sealer.test.ts checks it
// against libsodium).
//
// Nothing here throws or allocates per datagram: keys and subkeys sit in buffers made at
// start, the IV and MAC in fixed scratch buffers, and a slot's payload view (`body`, the
// slot past the header) is made once by the caller. open() returns the payload's length or
// a negative SEAL_* result the caller counts; the session and replay checks are the
// caller's, which knows the peer (src/peer/peer-seal.ts).
//
// Thread safety: `counter` may be a SharedArrayBuffer's Float64Array so a restarted peer
// thread goes on numbering where the last one stopped; only the thread running the sealer
// writes it, and it stores the next number before it uses one, so none is used twice.

import { AEAD_IV_LEN, AEAD_KEY_LEN, AEAD_MAC_LEN, type Aead } from './aead.js';
import { HChaCha20 } from './hchacha20.js';
import {
  SEAL_COUNTER_AT,
  SEAL_HDR_LEN,
  SEAL_MAC_LEN,
  SEAL_OVERHEAD,
  SEAL_SESSION_AT,
  sealAddressed,
  sealEncrypted,
  sealFlagsValid,
  sealKeyId,
  sealWord,
  writeSealHeader,
} from './sealed-datagram.js';

/** A key this thread seals or opens with: the cluster key's id and one of its subkeys. */
export interface SealKey {
  id: number;
  key: Uint8Array;
}

/** Keys held at once: the one in use, the one being rotated to, and room to spare. */
export const MAX_KEYS = 4;
/** open(): the MAC is not genuine, or the header is not one this version writes. */
export const SEAL_BAD = -1;
/** open(): sealed with a key id this switch does not hold. */
export const SEAL_UNKNOWN_KEY = -2;

const TWO_32 = 0x1_0000_0000;
/** Key generations are numbered across every sealer of the thread, so a Subkey filled by one is never taken by another. */
let nextGen = 1;

/** The subkey of one pair of sessions under one held key, and which pair it is: kept per peer and way. */
export class Subkey {
  readonly key = new Uint8Array(AEAD_KEY_LEN);
  /** The sealer's key generation it was made in (-1: never); setKeys() starts a new one. */
  gen = -1;
  keyId = 0;
  aHi = 0;
  aLo = 0;
  bHi = 0;
  bLo = 0;
}

export class DatagramSealer {
  private readonly ids = new Uint32Array(MAX_KEYS);
  private readonly keys: Uint8Array[] = Array.from({ length: MAX_KEYS }, () => new Uint8Array(AEAD_KEY_LEN));
  private count = 0;
  /** Index in ids/keys of the key datagrams are sealed with; -1: none. */
  private send = -1;
  /** A new one at every setKeys, so every cached Subkey is made again. */
  private gen = 0;
  private readonly iv = new Uint8Array(AEAD_IV_LEN);
  private readonly mac = Buffer.alloc(AEAD_MAC_LEN);
  private readonly pair = new Uint8Array(16);
  private readonly hchacha = new HChaCha20();
  /** For datagrams that have no cache of their own (keepalives to a peer not yet known, announcements). */
  private readonly scratch = new Subkey();
  /** This switch's session as two words. */
  private readonly myHi: number;
  private readonly myLo: number;

  constructor(
    private readonly aead: Aead,
    /** This switch's 8-byte session. */
    private readonly session: Uint8Array,
    /** counter[0] is the number of the next datagram sealed. */
    private readonly counter: Float64Array = new Float64Array(1),
    /** Encrypt payloads (--encrypt); otherwise they are authenticated only. */
    private encrypt = true,
  ) {
    this.myHi = sealWord(session, 0);
    this.myLo = sealWord(session, 4);
  }

  /** Hold these keys (at most MAX_KEYS) and seal with the one whose id is sendId. */
  setKeys(keys: readonly SealKey[], sendId: number): void {
    this.count = Math.min(keys.length, MAX_KEYS);
    this.send = -1;
    this.gen = nextGen++;
    for (let i = 0; i < this.count; i++) {
      this.ids[i] = keys[i].id;
      this.keys[i].set(keys[i].key.subarray(0, AEAD_KEY_LEN));
      if (keys[i].id === sendId) this.send = i;
    }
  }

  setEncrypt(encrypt: boolean): void {
    this.encrypt = encrypt;
  }

  /** The id of the key datagrams are sealed with; -1 when none is held. */
  get sendId(): number {
    return this.send < 0 ? -1 : this.ids[this.send];
  }

  /**
   * Seal the payload at slot[SEAL_HDR_LEN, SEAL_HDR_LEN + len): write the header before it
   * and the MAC after it. `body` is slot.subarray(SEAL_HDR_LEN). With `addressed`, the
   * datagram opens only at the switch whose session is toHi:toLo. `cache` keeps the subkey
   * for the next datagram to the same session. Returns the datagram's length, or SEAL_BAD
   * when no key is held to seal with or the slot cannot hold the payload.
   */
  seal(slot: Buffer, body: Uint8Array, len: number, addressed = false, toHi = 0, toLo = 0, cache: Subkey = this.scratch): number {
    const k = this.send;
    // OpenSSL writes where it is told: a payload the slot cannot hold is refused here.
    if (k < 0 || !(len >= 0 && SEAL_OVERHEAD + len <= slot.length && body.length >= len)) return SEAL_BAD;
    const c = this.counter[0];
    this.counter[0] = c + 1;
    const hi = Math.floor(c / TWO_32);
    writeSealHeader(slot, this.ids[k], this.session, hi, c - hi * TWO_32, this.encrypt, addressed);
    const key = this.subkey(cache, k, this.myHi, this.myLo, addressed ? toHi : 0, addressed ? toLo : 0);
    this.loadIv(slot);
    const r = this.encrypt
      ? this.aead.seal(body, this.mac, body, len, slot, SEAL_HDR_LEN, this.iv, key)
      : this.aead.seal(body, this.mac, body, 0, slot, SEAL_HDR_LEN + len, this.iv, key);
    if (r !== 0) return SEAL_BAD;
    this.mac.copy(slot, SEAL_HDR_LEN + len);
    return len + SEAL_OVERHEAD;
  }

  /**
   * Open the sealed datagram slot[0..len) (looksSealed true) in place: on success the
   * payload, decrypted, is at body[0..result). An addressed datagram opens only when it was
   * sealed for this switch's session. SEAL_BAD when the MAC or header is not genuine (the
   * header and MAC are unchanged; an encrypted payload is then garbage), SEAL_UNKNOWN_KEY
   * when its key id is not held. `cache` keeps the subkey for the sender's next datagram.
   */
  open(slot: Buffer, body: Uint8Array, len: number, cache: Subkey = this.scratch): number {
    if (!sealFlagsValid(slot)) return SEAL_BAD;
    const k = this.find(sealKeyId(slot));
    if (k < 0) return SEAL_UNKNOWN_KEY;
    const plen = len - SEAL_OVERHEAD;
    const addressed = sealAddressed(slot);
    const key = this.subkey(cache, k, sealWord(slot, SEAL_SESSION_AT), sealWord(slot, SEAL_SESSION_AT + 4), addressed ? this.myHi : 0, addressed ? this.myLo : 0);
    this.loadIv(slot);
    slot.copy(this.mac, 0, len - SEAL_MAC_LEN, len);
    const r = sealEncrypted(slot)
      ? this.aead.open(body, body, plen, this.mac, slot, SEAL_HDR_LEN, this.iv, key)
      : this.aead.open(body, body, 0, this.mac, slot, SEAL_HDR_LEN + plen, this.iv, key);
    return r === 0 ? plen : SEAL_BAD;
  }

  /** The ids held, for messages. */
  heldIds(): number[] {
    return Array.from(this.ids.subarray(0, this.count));
  }

  private find(id: number): number {
    for (let i = 0; i < this.count; i++) if (this.ids[i] === id) return i;
    return -1;
  }

  /** The subkey of sessions a then b under held key k: the cached one when it is that, else made into the cache. */
  private subkey(c: Subkey, k: number, aHi: number, aLo: number, bHi: number, bLo: number): Uint8Array {
    const id = this.ids[k];
    if (c.gen === this.gen && c.keyId === id && c.aHi === aHi && c.aLo === aLo && c.bHi === bHi && c.bLo === bLo) return c.key;
    const p = this.pair;
    putWord(p, 0, aHi);
    putWord(p, 4, aLo);
    putWord(p, 8, bHi);
    putWord(p, 12, bLo);
    this.hchacha.derive(c.key, this.keys[k], p);
    c.gen = this.gen;
    c.keyId = id;
    c.aHi = aHi;
    c.aLo = aLo;
    c.bHi = bHi;
    c.bLo = bLo;
    return c.key;
  }

  /** The IV: four zero bytes, then the header's counter. */
  private loadIv(slot: Uint8Array): void {
    const v = this.iv;
    for (let i = 0; i < 8; i++) v[4 + i] = slot[SEAL_COUNTER_AT + i];
  }
}

function putWord(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = (v >>> 16) & 0xff;
  out[at + 2] = (v >>> 8) & 0xff;
  out[at + 3] = v & 0xff;
}
