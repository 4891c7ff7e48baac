// Fixtures for the DatagramSealer tests (test/crypto/datagram-sealer*.test.ts): the real
// OpenSSL AEAD, two keys, the sessions and payload they seal, and helpers that seal and open
// a datagram in a slot of its own and read its nonce and counter.

import { loadAead } from '../../src/crypto/aead.js';
import { DatagramSealer, type SealKey, type Subkey } from '../../src/crypto/datagram-sealer.js';
import { SEAL_COUNTER_AT, SEAL_HDR_LEN, SEAL_OVERHEAD, SEAL_SESSION_AT, sealWord } from '../../src/crypto/sealed-datagram.js';

export const aead = loadAead();
export const TWO_32 = 0x1_0000_0000;

export function sealKey(id: number): SealKey {
  return { id, key: Buffer.alloc(32, id & 0xff) };
}
export const A = sealKey(0xaaaa_0001);
export const B = sealKey(0xbbbb_0002);

export const SESSION = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
/** Receivers' sessions; the first has its high bits set in both words, so they must be read unsigned. */
export const RX = Uint8Array.from([0xfe, 0xdc, 0xba, 0x98, 0x87, 0x65, 0x43, 0x21]);
export const RX2 = Uint8Array.from([0xfe, 0xdc, 0xba, 0x98, 0x87, 0x65, 0x43, 0x20]);
/** A vid word and the start of a frame: what a peer datagram carries. */
export const PAYLOAD = Buffer.from('000a0001ffffffffffff5254000000010806', 'hex');

export function sealer(keys: SealKey[], sendId: number, opts: { encrypt?: boolean; counter?: Float64Array; session?: Uint8Array } = {}): DatagramSealer {
  const s = new DatagramSealer(aead, opts.session ?? SESSION, opts.counter ?? new Float64Array(1), opts.encrypt ?? true);
  s.setKeys(keys, sendId);
  return s;
}

/** A session's two big-endian 32-bit words, as seal() takes the receiver's. */
export function words(session: Uint8Array): [number, number] {
  const b = Buffer.from(session);
  return [b.readUInt32BE(0), b.readUInt32BE(4)];
}

/** `payload` sealed by `s`, as the datagram's bytes, addressed to session `to` when given, with `cache` when given; throws when seal() refuses. */
export function seal(s: DatagramSealer, payload: Buffer = PAYLOAD, to?: Uint8Array, cache?: Subkey): Buffer {
  const slot = Buffer.alloc(SEAL_OVERHEAD + payload.length + 32);
  const body = slot.subarray(SEAL_HDR_LEN);
  payload.copy(body);
  const len = to ? s.seal(slot, body, payload.length, true, ...words(to), cache) : s.seal(slot, body, payload.length, false, 0, 0, cache);
  if (len < 0) throw new Error(`seal() returned ${len}`);
  return Buffer.from(slot.subarray(0, len));
}

/** open() of a copy of `datagram` in a slot larger than it, with `cache` when given: the result, and the payload when genuine. */
export function open(s: DatagramSealer, datagram: Buffer, cache?: Subkey): { n: number; payload: Buffer | null; slot: Buffer } {
  const slot = Buffer.alloc(datagram.length + 64, 0x33);
  datagram.copy(slot);
  const n = s.open(slot, slot.subarray(SEAL_HDR_LEN), datagram.length, cache);
  return { n, payload: n >= 0 ? Buffer.from(slot.subarray(SEAL_HDR_LEN, SEAL_HDR_LEN + n)) : null, slot };
}

/** The counter in a datagram's header, as one number. */
export function counterOf(d: Buffer): number {
  return sealWord(d, SEAL_COUNTER_AT) * TWO_32 + sealWord(d, SEAL_COUNTER_AT + 4);
}

/** The XChaCha20-Poly1305 nonce of datagram d: the header's session, then `to` (the receiver's session, or 8 zero bytes), then the header's counter. */
export function nonceOf(d: Uint8Array, to: Uint8Array = new Uint8Array(8)): Buffer {
  return Buffer.concat([d.subarray(SEAL_SESSION_AT, SEAL_SESSION_AT + 8), to, d.subarray(SEAL_COUNTER_AT, SEAL_COUNTER_AT + 8)]);
}
