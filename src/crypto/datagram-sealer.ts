// DatagramSealer: seals and opens datagrams in the envelope of src/peer/wire/sealed-datagram.ts
// with XChaCha20-Poly1305 (src/crypto/sodium.ts), in place in the slot they are sent from or
// received into. One per thread that seals: the peer I/O thread (peer datagrams, data
// subkeys) and main's discovery (announcements, discovery subkeys); see src/crypto/key-ring.ts.
//
// Nothing here throws or allocates per datagram: the keys sit in buffers made at start, the
// nonce and MAC in fixed scratch buffers, and a slot's payload view (`body`, the slot past
// the header) is made once by the caller. open() returns the payload's length or a
// negative SEAL_* result the caller counts; the session and replay checks are the caller's,
// which knows the peer (src/peer/peer-record.ts).
//
// Thread safety: `counter` may be a SharedArrayBuffer's Float64Array so a restarted peer
// thread goes on numbering where the last one stopped; only the thread running the sealer
// writes it, and it stores the next number before it uses one, so none is used twice.

import { AEAD_KEY_LEN, AEAD_MAC_LEN, AEAD_NONCE_LEN, type Sodium } from './sodium.js';
import {
  SEAL_HDR_LEN,
  SEAL_MAC_LEN,
  SEAL_OVERHEAD,
  SEAL_SESSION_AT,
  sealAddressed,
  sealEncrypted,
  sealFlagsValid,
  sealKeyId,
  writeSealHeader,
} from '../peer/wire/sealed-datagram.js';

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

export class DatagramSealer {
  private readonly ids = new Uint32Array(MAX_KEYS);
  private readonly keys: Uint8Array[] = Array.from({ length: MAX_KEYS }, () => new Uint8Array(AEAD_KEY_LEN));
  private count = 0;
  /** Index in ids/keys of the key datagrams are sealed with; -1: none. */
  private send = -1;
  private readonly nonce = new Uint8Array(AEAD_NONCE_LEN);
  private readonly mac = Buffer.alloc(AEAD_MAC_LEN);

  constructor(
    private readonly sodium: Sodium,
    /** This switch's 8-byte session. */
    private readonly session: Uint8Array,
    /** counter[0] is the number of the next datagram sealed. */
    private readonly counter: Float64Array = new Float64Array(1),
    /** Encrypt payloads (--encrypt); otherwise they are authenticated only. */
    private encrypt = true,
  ) {}

  /** Hold these keys (at most MAX_KEYS) and seal with the one whose id is sendId. */
  setKeys(keys: readonly SealKey[], sendId: number): void {
    this.count = Math.min(keys.length, MAX_KEYS);
    this.send = -1;
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
   * datagram opens only at the switch whose session is toHi:toLo (see
   * src/peer/wire/sealed-datagram.ts). Returns the datagram's length, or SEAL_BAD when no
   * key is held to seal with or the slot cannot hold the payload.
   */
  seal(slot: Buffer, body: Uint8Array, len: number, addressed = false, toHi = 0, toLo = 0): number {
    const k = this.send;
    // libsodium writes where it is told: a payload the slot cannot hold is refused here.
    if (k < 0 || !(len >= 0 && SEAL_OVERHEAD + len <= slot.length && body.length >= len)) return SEAL_BAD;
    const c = this.counter[0];
    this.counter[0] = c + 1;
    const hi = Math.floor(c / TWO_32);
    writeSealHeader(slot, this.ids[k], this.session, hi, c - hi * TWO_32, this.encrypt, addressed);
    this.loadNonce(slot);
    if (addressed) this.loadTail(toHi, toLo);
    const r = this.encrypt
      ? this.sodium.sealDetached(body, this.mac, body, len, slot, SEAL_HDR_LEN, this.nonce, this.keys[k])
      : this.sodium.sealDetached(body, this.mac, body, 0, slot, SEAL_HDR_LEN + len, this.nonce, this.keys[k]);
    if (r !== 0) return SEAL_BAD;
    this.mac.copy(slot, SEAL_HDR_LEN + len);
    return len + SEAL_OVERHEAD;
  }

  /**
   * Open the sealed datagram slot[0..len) (looksSealed true) in place: on success the
   * payload, decrypted, is at body[0..result). An addressed datagram opens only when it was
   * sealed for this switch's session. SEAL_BAD when the MAC or header is not genuine (the
   * header and MAC are unchanged, but libsodium zeroes an encrypted payload it refuses),
   * SEAL_UNKNOWN_KEY when its key id is not held.
   */
  open(slot: Buffer, body: Uint8Array, len: number): number {
    if (!sealFlagsValid(slot)) return SEAL_BAD;
    const k = this.find(sealKeyId(slot));
    if (k < 0) return SEAL_UNKNOWN_KEY;
    const plen = len - SEAL_OVERHEAD;
    this.loadNonce(slot);
    if (sealAddressed(slot)) for (let i = 0; i < 8; i++) this.nonce[16 + i] = this.session[i];
    slot.copy(this.mac, 0, len - SEAL_MAC_LEN, len);
    const r = sealEncrypted(slot)
      ? this.sodium.openDetached(body, body, plen, this.mac, slot, SEAL_HDR_LEN, this.nonce, this.keys[k])
      : this.sodium.openDetached(body, body, 0, this.mac, slot, SEAL_HDR_LEN + plen, this.nonce, this.keys[k]);
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

  /** The nonce: the header's session and counter, then 8 zero bytes (loadTail may fill them). */
  private loadNonce(slot: Uint8Array): void {
    const n = this.nonce;
    for (let i = 0; i < 16; i++) n[i] = slot[SEAL_SESSION_AT + i];
    for (let i = 16; i < 24; i++) n[i] = 0;
  }

  /** The nonce's last 8 bytes: the receiver's session, big-endian. */
  private loadTail(hi: number, lo: number): void {
    const n = this.nonce;
    n[16] = hi >>> 24;
    n[17] = (hi >>> 16) & 0xff;
    n[18] = (hi >>> 8) & 0xff;
    n[19] = hi & 0xff;
    n[20] = lo >>> 24;
    n[21] = (lo >>> 16) & 0xff;
    n[22] = (lo >>> 8) & 0xff;
    n[23] = lo & 0xff;
  }
}
