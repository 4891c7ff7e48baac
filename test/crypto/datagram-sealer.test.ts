// Tests for src/crypto/datagram-sealer.ts: datagrams sealed in place open in place, in
// both modes; an addressed one opens only at the sealer of the session it was sealed for;
// no changed bit anywhere passes; keys are found by id through a rotation; and the counter
// is never used twice, also by two sealers sharing one SharedArrayBuffer (a restarted peer
// thread). The bytes on the wire are standard XChaCha20-Poly1305, checked byte for byte
// against libsodium (sodium-native, test/crypto/libsodium-reference.ts): nonce = sender's
// session | receiver's session or zeros | counter, AD = the header (and the payload when
// it is not encrypted). The Subkey cache is reused for one pair of sessions and remade
// for another pair or after setKeys, and never opens a datagram under another pair's
// subkey. Pure units on ava's thread, with the real OpenSSL AEAD (src/crypto/aead.ts).

import test from 'ava';
import { randomBytes } from 'node:crypto';
import { loadAead, type Aead } from '../../src/crypto/aead.js';
import { DatagramSealer, MAX_KEYS, SEAL_BAD, SEAL_UNKNOWN_KEY, Subkey, type SealKey } from '../../src/crypto/datagram-sealer.js';
import { HChaCha20 } from '../../src/crypto/hchacha20.js';
import {
  SEAL_COUNTER_AT,
  SEAL_F_ADDRESSED,
  SEAL_F_ENCRYPTED,
  SEAL_HDR_LEN,
  SEAL_MAC_LEN,
  SEAL_OVERHEAD,
  SEAL_SESSION_AT,
  sealAddressed,
  sealEncrypted,
  sealKeyId,
  sealWord,
  writeSealHeader,
} from '../../src/peer/wire/sealed-datagram.js';
import { chachaOpenRef, hchacha20Ref, xchachaOpenRef, xchachaSealRef } from './libsodium-reference.js';

const aead = loadAead();
const TWO_32 = 0x1_0000_0000;

function sealKey(id: number): SealKey {
  return { id, key: Buffer.alloc(32, id & 0xff) };
}
const A = sealKey(0xaaaa_0001);
const B = sealKey(0xbbbb_0002);

const SESSION = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
/** Receivers' sessions; the first has its high bits set in both words, so they must be read unsigned. */
const RX = Uint8Array.from([0xfe, 0xdc, 0xba, 0x98, 0x87, 0x65, 0x43, 0x21]);
const RX2 = Uint8Array.from([0xfe, 0xdc, 0xba, 0x98, 0x87, 0x65, 0x43, 0x20]);
/** A vid word and the start of a frame: what a peer datagram carries. */
const PAYLOAD = Buffer.from('000a0001ffffffffffff5254000000010806', 'hex');

function sealer(keys: SealKey[], sendId: number, opts: { encrypt?: boolean; counter?: Float64Array; session?: Uint8Array } = {}): DatagramSealer {
  const s = new DatagramSealer(aead, opts.session ?? SESSION, opts.counter ?? new Float64Array(1), opts.encrypt ?? true);
  s.setKeys(keys, sendId);
  return s;
}

/** A session's two big-endian 32-bit words, as seal() takes the receiver's. */
function words(session: Uint8Array): [number, number] {
  const b = Buffer.from(session);
  return [b.readUInt32BE(0), b.readUInt32BE(4)];
}

/** `payload` sealed by `s`, as the datagram's bytes, addressed to session `to` when given, with `cache` when given; throws when seal() refuses. */
function seal(s: DatagramSealer, payload: Buffer = PAYLOAD, to?: Uint8Array, cache?: Subkey): Buffer {
  const slot = Buffer.alloc(SEAL_OVERHEAD + payload.length + 32);
  const body = slot.subarray(SEAL_HDR_LEN);
  payload.copy(body);
  const len = to ? s.seal(slot, body, payload.length, true, ...words(to), cache) : s.seal(slot, body, payload.length, false, 0, 0, cache);
  if (len < 0) throw new Error(`seal() returned ${len}`);
  return Buffer.from(slot.subarray(0, len));
}

/** open() of a copy of `datagram` in a slot larger than it, with `cache` when given: the result, and the payload when genuine. */
function open(s: DatagramSealer, datagram: Buffer, cache?: Subkey): { n: number; payload: Buffer | null; slot: Buffer } {
  const slot = Buffer.alloc(datagram.length + 64, 0x33);
  datagram.copy(slot);
  const n = s.open(slot, slot.subarray(SEAL_HDR_LEN), datagram.length, cache);
  return { n, payload: n >= 0 ? Buffer.from(slot.subarray(SEAL_HDR_LEN, SEAL_HDR_LEN + n)) : null, slot };
}

/** The counter in a datagram's header, as one number. */
function counterOf(d: Buffer): number {
  return sealWord(d, SEAL_COUNTER_AT) * TWO_32 + sealWord(d, SEAL_COUNTER_AT + 4);
}

// --- round trips ----------------------------------------------------------------------------

test('an encrypted datagram opens to its payload, which is not readable in the sealed datagram', (t) => {
  const d = seal(sealer([A], A.id));
  t.is(d.length, PAYLOAD.length + SEAL_OVERHEAD);
  t.true(sealEncrypted(d));
  t.notDeepEqual(d.subarray(SEAL_HDR_LEN, SEAL_HDR_LEN + PAYLOAD.length), PAYLOAD);
  t.false(d.includes(PAYLOAD.subarray(4, 12)), 'no run of the frame in clear');
  const r = open(sealer([A], A.id, { session: new Uint8Array(8) }), d);
  t.is(r.n, PAYLOAD.length);
  t.deepEqual(r.payload, PAYLOAD);
});

test('an authenticate-only datagram carries its payload in clear and opens to it', (t) => {
  const d = seal(sealer([A], A.id, { encrypt: false }));
  t.false(sealEncrypted(d));
  t.deepEqual(d.subarray(SEAL_HDR_LEN, SEAL_HDR_LEN + PAYLOAD.length), PAYLOAD);
  const r = open(sealer([A], A.id), d);
  t.is(r.n, PAYLOAD.length);
  t.deepEqual(r.payload, PAYLOAD);
});

test('the receiver reads the mode from each datagram, whatever its own setting; setEncrypt switches the sender', (t) => {
  const tx = sealer([A], A.id, { encrypt: false });
  const plain = seal(tx);
  tx.setEncrypt(true);
  const secret = seal(tx);
  t.deepEqual([sealEncrypted(plain), sealEncrypted(secret)], [false, true]);
  for (const encrypt of [false, true]) {
    const rx = sealer([A], A.id, { encrypt });
    t.deepEqual(open(rx, plain).payload, PAYLOAD);
    t.deepEqual(open(rx, secret).payload, PAYLOAD);
  }
});

test('the header names the sender\'s key, session and counter, and the MAC follows the payload', (t) => {
  const d = seal(sealer([A], A.id));
  t.is(sealKeyId(d), A.id);
  t.deepEqual(d.subarray(SEAL_SESSION_AT, SEAL_SESSION_AT + 8), Buffer.from(SESSION));
  t.is(counterOf(d), 0);
  t.is(d.length - SEAL_HDR_LEN - PAYLOAD.length, SEAL_MAC_LEN);
});

test('an empty payload seals to a bare header and MAC and opens to length 0', (t) => {
  for (const encrypt of [true, false]) {
    const d = seal(sealer([A], A.id, { encrypt }), Buffer.alloc(0));
    t.is(d.length, SEAL_OVERHEAD);
    t.is(open(sealer([A], A.id), d).n, 0);
  }
});

/** The XChaCha20-Poly1305 nonce of datagram d: the header's session, then `to` (the receiver's session, or 8 zero bytes), then the header's counter. */
function nonceOf(d: Uint8Array, to: Uint8Array = new Uint8Array(8)): Buffer {
  return Buffer.concat([d.subarray(SEAL_SESSION_AT, SEAL_SESSION_AT + 8), to, d.subarray(SEAL_COUNTER_AT, SEAL_COUNTER_AT + 8)]);
}

/** libsodium's own open of datagram d with the receiver's session `to` in the nonce: 0 when genuine (and then the payload, when encrypted, is checked). */
function openRaw(d: Buffer, to: Uint8Array, key: Uint8Array = A.key): { r: number; m: Buffer } {
  const nonce = nonceOf(d, to);
  const mac = d.subarray(d.length - SEAL_MAC_LEN);
  const plen = d.length - SEAL_OVERHEAD;
  const m = sealEncrypted(d)
    ? xchachaOpenRef(d.subarray(SEAL_HDR_LEN, SEAL_HDR_LEN + plen), mac, d.subarray(0, SEAL_HDR_LEN), nonce, key)
    : xchachaOpenRef(Buffer.alloc(0), mac, d.subarray(0, SEAL_HDR_LEN + plen), nonce, key);
  return { r: m === null ? -1 : 0, m: m ?? Buffer.alloc(0) };
}

/**
 * The datagram libsodium makes of `payload` under this header (its flags say the mode) as
 * the wire format says: XChaCha20-Poly1305 with nonceOf(header, to); encrypted, the AD is
 * the header and the payload is the message; authenticate-only, the AD is header and
 * payload and the message is empty.
 */
function refDatagram(header: Uint8Array, payload: Uint8Array, to: Uint8Array, key: Uint8Array): Buffer {
  const h = Buffer.from(header.subarray(0, SEAL_HDR_LEN));
  const nonce = nonceOf(h, to);
  if (sealEncrypted(h)) {
    const { c, mac } = xchachaSealRef(payload, h, nonce, key);
    return Buffer.concat([h, c, mac]);
  }
  const { mac } = xchachaSealRef(Buffer.alloc(0), Buffer.concat([h, payload]), nonce, key);
  return Buffer.concat([h, payload, mac]);
}

test('the AEAD nonce is the header\'s session, 8 zero bytes and the counter, and the AD is the header (and payload when in clear)', (t) => {
  // Opened here with libsodium directly, so the wire format is pinned independently of open().
  for (const encrypt of [true, false]) {
    const d = seal(sealer([A], A.id, { encrypt, counter: new Float64Array([0x1_2345_6789]) }));
    t.false(sealAddressed(d));
    const { r, m } = openRaw(d, new Uint8Array(8));
    t.is(r, 0, encrypt ? 'encrypted' : 'authenticate-only');
    if (encrypt) t.deepEqual(m, PAYLOAD);
    // The nonce order of before (session, counter, zeros) does not open it.
    const old = Buffer.concat([d.subarray(SEAL_SESSION_AT, SEAL_SESSION_AT + 16), new Uint8Array(8)]);
    const mac = d.subarray(d.length - SEAL_MAC_LEN);
    const opened = encrypt
      ? xchachaOpenRef(d.subarray(SEAL_HDR_LEN, d.length - SEAL_MAC_LEN), mac, d.subarray(0, SEAL_HDR_LEN), old, A.key)
      : xchachaOpenRef(Buffer.alloc(0), mac, d.subarray(0, d.length - SEAL_MAC_LEN), old, A.key);
    t.is(opened, null, 'not with the nonce session | counter | zeros');
  }
});

test('an addressed datagram\'s nonce has the receiver\'s session instead of the zero bytes, before the counter, and its header says so', (t) => {
  for (const encrypt of [true, false]) {
    const d = seal(sealer([A], A.id, { encrypt, counter: new Float64Array([0x1_2345_6789]) }), PAYLOAD, RX);
    t.true(sealAddressed(d));
    t.is(d[1], (encrypt ? SEAL_F_ENCRYPTED : 0) | SEAL_F_ADDRESSED);
    t.deepEqual(d.subarray(SEAL_SESSION_AT, SEAL_SESSION_AT + 8), Buffer.from(SESSION), 'the header carries the sender\'s session, not the receiver\'s');
    const { r, m } = openRaw(d, RX);
    t.is(r, 0, encrypt ? 'encrypted' : 'authenticate-only');
    if (encrypt) t.deepEqual(m, PAYLOAD);
    t.not(openRaw(d, new Uint8Array(8)).r, 0, 'not with the zero bytes');
    t.not(openRaw(d, RX2).r, 0, 'not with a session one bit off');
  }
});

/** Random cases for the byte-for-byte checks: modes, payload sizes, sessions and counters (across 2^32 and up to 2^53). */
function wireCases(): { encrypt: boolean; addressed: boolean; size: number; from: Buffer; to: Buffer; counter: number }[] {
  const counters = [0, 1, 0xffff_ffff, TWO_32, 0x1_2345_6789, 2 ** 53 - 2];
  const out = [];
  for (const encrypt of [true, false]) {
    for (const addressed of [false, true]) {
      for (const [i, size] of [0, 1, 8, 15, 16, 17, 64, 65, 1400, 1500, 9000, 65_000].entries()) {
        out.push({ encrypt, addressed, size, from: randomBytes(8), to: addressed ? randomBytes(8) : Buffer.alloc(8), counter: counters[i % counters.length] });
      }
    }
  }
  return out;
}

test('a sealed datagram is, byte for byte, libsodium\'s XChaCha20-Poly1305 over it: both modes, addressed or not, any size, session and counter', (t) => {
  let same = 0;
  const cases = wireCases();
  for (const c of cases) {
    const key = randomBytes(32);
    const payload = randomBytes(c.size);
    const s = new DatagramSealer(aead, c.from, new Float64Array([c.counter]), c.encrypt);
    s.setKeys([{ id: 0x5eed_0001, key }], 0x5eed_0001);
    const d = seal(s, payload, c.addressed ? c.to : undefined);
    const want = refDatagram(d, payload, c.to, key);
    const what = `${c.encrypt ? 'encrypted' : 'authenticate-only'}${c.addressed ? ', addressed' : ''}, ${c.size} bytes, counter ${c.counter}`;
    if (!d.equals(want)) t.fail(`${what}: not libsodium's bytes`);
    else if (counterOf(d) !== c.counter || !d.subarray(SEAL_SESSION_AT, SEAL_SESSION_AT + 8).equals(c.from)) t.fail(`${what}: header`);
    else same++;
  }
  t.is(same, cases.length);
});

test('a datagram libsodium sealed by the wire format opens here, both modes, addressed or not, any size, session and counter', (t) => {
  let opened = 0;
  const cases = wireCases();
  for (const c of cases) {
    const key = randomBytes(32);
    const payload = randomBytes(c.size);
    const header = Buffer.alloc(SEAL_HDR_LEN);
    const hi = Math.floor(c.counter / TWO_32);
    writeSealHeader(header, 0x5eed_0002, c.from, hi, c.counter - hi * TWO_32, c.encrypt, c.addressed);
    const d = refDatagram(header, payload, c.to, key);
    const rx = new DatagramSealer(aead, c.addressed ? c.to : randomBytes(8));
    rx.setKeys([{ id: 0x5eed_0002, key }], 0x5eed_0002);
    const r = open(rx, d);
    if (r.n !== c.size || !(r.payload as Buffer).equals(payload)) t.fail(`${c.encrypt ? 'encrypted' : 'authenticate-only'}${c.addressed ? ', addressed' : ''}, ${c.size} bytes: open returned ${r.n}`);
    else opened++;
  }
  t.is(opened, cases.length);
});

test('the same payload sealed twice gives two different datagrams: the counter changes the nonce', (t) => {
  const s = sealer([A], A.id);
  const [a, b] = [seal(s), seal(s)];
  t.notDeepEqual(a.subarray(SEAL_HDR_LEN), b.subarray(SEAL_HDR_LEN), 'ciphertext and MAC differ');
  const plain = sealer([A], A.id, { encrypt: false });
  t.notDeepEqual(seal(plain).subarray(-SEAL_MAC_LEN), seal(plain).subarray(-SEAL_MAC_LEN), 'so do the MACs in the clear');
});

// --- what does not open ---------------------------------------------------------------------

for (const [encrypt, addressed] of [[true, false], [false, false], [true, true], [false, true]]) {
  test(`every single-bit change of a${encrypt ? 'n encrypted' : 'n authenticate-only'}${addressed ? ', addressed' : ''} datagram is refused: header, payload and MAC`, (t) => {
    const d = seal(sealer([A], A.id, { encrypt }), PAYLOAD.subarray(0, 8), addressed ? RX : undefined);
    const rx = sealer([A], A.id, { session: RX });
    t.is(open(rx, d).n, 8, 'unchanged, it opens');
    let refused = 0;
    for (let bit = 0; bit < d.length * 8; bit++) {
      const changed = Buffer.from(d);
      changed[bit >> 3] ^= 1 << (bit & 7);
      const at = bit >> 3;
      // A changed key id names a key this receiver does not hold; anything else fails the MAC or the header check.
      const want = at >= 4 && at < 8 ? SEAL_UNKNOWN_KEY : SEAL_BAD;
      const r = open(rx, changed);
      if (r.n !== want) t.fail(`bit ${bit} (byte ${at}): open returned ${r.n}, not ${want}`);
      else refused++;
    }
    t.is(refused, d.length * 8);
  });
}

/**
 * PAYLOAD sealed by hand, MAC and all, with header byte `at` set to `value` afterwards: the
 * nonce's tail is the receiver's session when the flags say addressed, as open() reads it.
 */
function handSealed(at: number, value: number, rxSession: Uint8Array): Buffer {
  const header = Buffer.alloc(SEAL_HDR_LEN);
  writeSealHeader(header, A.id, SESSION, 0, 9, true);
  header[at] = value;
  return refDatagram(header, PAYLOAD, sealAddressed(header) ? rxSession : new Uint8Array(8), A.key);
}

test('a genuine datagram with a flag or reserved byte this version does not write is refused as SEAL_BAD', (t) => {
  // Sealed by hand, MAC and all, as a later version might: only the header check stops it.
  const rx = sealer([A], A.id, { session: RX });
  for (const value of [0x00, 0x01, 0x02, 0x03]) {
    t.deepEqual(open(rx, handSealed(1, value, RX)).payload, PAYLOAD, `the same sealed by hand with known flags ${value} opens`);
  }
  for (const [at, value] of [[1, 0x04], [1, 0x07], [1, 0x80], [1, 0x82], [2, 0x01], [3, 0x10]]) {
    t.is(open(rx, handSealed(at, value, RX)).n, SEAL_BAD, `byte ${at} = ${value}`);
  }
});

test('a datagram that fails to open leaves its header, its MAC and what follows as they were; an authenticate-only one is kept whole', (t) => {
  // An encrypted payload that fails is garbage afterwards (OpenSSL decrypts before it
  // checks the MAC): SEAL_BAD tells the caller to drop it, and nothing here looks at it.
  for (const encrypt of [true, false]) {
    for (const at of [SEAL_HDR_LEN, -1]) {
      const d = seal(sealer([A], A.id, { encrypt }));
      d[at < 0 ? d.length + at : at] ^= 0x40;
      const r = open(sealer([A], A.id), d);
      const what = `${encrypt ? 'encrypted' : 'authenticate-only'}, ${at < 0 ? 'MAC' : 'payload'} changed`;
      t.is(r.n, SEAL_BAD, what);
      t.deepEqual(r.slot.subarray(0, SEAL_HDR_LEN), d.subarray(0, SEAL_HDR_LEN), `${what}: header`);
      t.deepEqual(r.slot.subarray(d.length - SEAL_MAC_LEN, d.length), d.subarray(d.length - SEAL_MAC_LEN), `${what}: MAC`);
      t.deepEqual(r.slot.subarray(d.length), Buffer.alloc(64, 0x33), `${what}: nothing past the datagram`);
      if (!encrypt) t.deepEqual(r.slot.subarray(0, d.length), d, `${what}: the whole datagram`);
    }
  }
});

test('an addressed datagram that opens nowhere else leaves the header there as it was', (t) => {
  const d = seal(sealer([A], A.id), PAYLOAD, RX);
  const r = open(sealer([A], A.id, { session: RX2 }), d);
  t.is(r.n, SEAL_BAD);
  t.deepEqual(r.slot.subarray(0, SEAL_HDR_LEN), d.subarray(0, SEAL_HDR_LEN), 'header');
  t.deepEqual(r.slot.subarray(d.length - SEAL_MAC_LEN, d.length), d.subarray(d.length - SEAL_MAC_LEN), 'MAC');
});

test('a datagram sealed with a key id not held is SEAL_UNKNOWN_KEY; one sealed with another key under the same id is SEAL_BAD', (t) => {
  const d = seal(sealer([B], B.id));
  t.is(open(sealer([A], A.id), d).n, SEAL_UNKNOWN_KEY);
  const impostor = { id: A.id, key: B.key };
  t.is(open(sealer([A], A.id), seal(sealer([impostor], A.id))).n, SEAL_BAD);
});

// --- addressed datagrams ------------------------------------------------------------------

for (const encrypt of [true, false]) {
  test(`an addressed${encrypt ? '' : ' authenticate-only'} datagram opens at the sealer of its session only; an unaddressed one at any holding the key`, (t) => {
    const tx = sealer([A], A.id, { encrypt });
    const rx = sealer([A], A.id, { session: RX });
    const other = sealer([A], A.id, { session: RX2 });
    const addressed = seal(tx, PAYLOAD, RX);
    t.deepEqual(open(rx, addressed).payload, PAYLOAD, 'at the receiver it was sealed for');
    t.is(open(other, addressed).n, SEAL_BAD, 'at another with the same key and a session one bit off');
    t.is(open(tx, addressed).n, SEAL_BAD, 'at its sender');
    t.is(open(sealer([A], A.id), addressed).n, SEAL_BAD, 'at a switch of the sender\'s session');
    const unaddressed = seal(tx);
    t.false(sealAddressed(unaddressed));
    t.deepEqual(open(rx, unaddressed).payload, PAYLOAD);
    t.deepEqual(open(other, unaddressed).payload, PAYLOAD);
  });
}

test('an addressed datagram with its flag cleared, or an unaddressed one with the flag set, is SEAL_BAD', (t) => {
  const rx = sealer([A], A.id, { session: RX });
  const addressed = seal(sealer([A], A.id), PAYLOAD, RX);
  addressed[1] &= ~SEAL_F_ADDRESSED;
  t.is(open(rx, addressed).n, SEAL_BAD, 'the flag is in the AD and picks the nonce');
  const unaddressed = seal(sealer([A], A.id));
  unaddressed[1] |= SEAL_F_ADDRESSED;
  t.is(open(rx, unaddressed).n, SEAL_BAD);
});

test('an addressed datagram to a zero session opens only at a sealer with flag and zero session alike', (t) => {
  // The zero tail is also the unaddressed nonce: the ADDRESSED flag in the AD keeps the two apart.
  const zero = new Uint8Array(8);
  const d = seal(sealer([A], A.id), PAYLOAD, zero);
  t.true(sealAddressed(d));
  t.deepEqual(open(sealer([A], A.id, { session: zero }), d).payload, PAYLOAD);
  t.is(open(sealer([A], A.id, { session: RX }), d).n, SEAL_BAD);
  const flipped = Buffer.from(d);
  flipped[1] &= ~SEAL_F_ADDRESSED;
  t.is(open(sealer([A], A.id, { session: zero }), flipped).n, SEAL_BAD, 'the same MAC does not pass as unaddressed');
});

test('addressed datagrams use the counter like any other and leave the sealer\'s nonce clean for the next', (t) => {
  const counter = new Float64Array(1);
  const tx = sealer([A], A.id, { counter });
  const a = seal(tx, PAYLOAD, RX);
  const b = seal(tx);
  t.deepEqual([counterOf(a), counterOf(b), counter[0]], [0, 1, 2]);
  t.deepEqual(open(sealer([A], A.id, { session: RX2 }), b).payload, PAYLOAD, 'the unaddressed one after it has the zero tail again');
});

// --- keys and rotation --------------------------------------------------------------------

test('a sealer holding keys A and B opens datagrams of both and seals with the send key', (t) => {
  const both = sealer([A, B], A.id);
  t.is(both.sendId, A.id);
  t.deepEqual(both.heldIds(), [A.id, B.id]);
  t.deepEqual(open(both, seal(sealer([A], A.id))).payload, PAYLOAD);
  t.deepEqual(open(both, seal(sealer([B], B.id))).payload, PAYLOAD);
  t.is(sealKeyId(seal(both)), A.id);
  both.setKeys([A, B], B.id);
  t.is(both.sendId, B.id);
  const d = seal(both);
  t.is(sealKeyId(d), B.id);
  t.deepEqual(open(sealer([B], B.id), d).payload, PAYLOAD, 'a switch holding only B opens it');
  t.is(open(sealer([A], A.id), d).n, SEAL_UNKNOWN_KEY, 'one holding only A does not');
});

test('setKeys replaces the keys held: a key dropped no longer opens', (t) => {
  const s = sealer([A, B], A.id);
  const fromB = seal(sealer([B], B.id));
  s.setKeys([A], A.id);
  t.deepEqual(s.heldIds(), [A.id]);
  t.is(open(s, fromB).n, SEAL_UNKNOWN_KEY);
});

test('setKeys holds at most MAX_KEYS keys and ignores the rest', (t) => {
  t.is(MAX_KEYS, 4);
  const keys = Array.from({ length: MAX_KEYS + 2 }, (_, i) => sealKey(0x1000 + i));
  const s = sealer(keys, keys[0].id);
  t.deepEqual(s.heldIds(), keys.slice(0, MAX_KEYS).map((k) => k.id));
  t.deepEqual(open(s, seal(sealer([keys[MAX_KEYS - 1]], keys[MAX_KEYS - 1].id))).payload, PAYLOAD, 'the last one held');
  t.is(open(s, seal(sealer([keys[MAX_KEYS]], keys[MAX_KEYS].id))).n, SEAL_UNKNOWN_KEY, 'the first one past the limit');
});

test('with no key to seal with, seal() returns SEAL_BAD and uses no counter', (t) => {
  const counter = new Float64Array([7]);
  const none = new DatagramSealer(aead, SESSION, counter);
  t.is(none.sendId, -1);
  const slot = Buffer.alloc(128);
  t.is(none.seal(slot, slot.subarray(SEAL_HDR_LEN), 10), SEAL_BAD);
  const notHeld = sealer([A], B.id, { counter });
  t.is(notHeld.sendId, -1, 'a send id that is not among the keys');
  t.is(notHeld.seal(slot, slot.subarray(SEAL_HDR_LEN), 10), SEAL_BAD);
  t.is(counter[0], 7);
  t.is(open(notHeld, seal(sealer([A], A.id))).n, PAYLOAD.length, 'it still opens with the keys it holds');
});

// --- the counter ----------------------------------------------------------------------------

test('each datagram takes the next counter, and the counter stored is the next one to use', (t) => {
  const counter = new Float64Array(1);
  const s = sealer([A], A.id, { counter });
  for (let i = 0; i < 5; i++) {
    t.is(counterOf(seal(s)), i);
    t.is(counter[0], i + 1);
  }
});

test('the next counter is stored before the datagram is sealed with the current one', (t) => {
  const counter = new Float64Array([41]);
  const stored: number[] = [];
  const spy: Aead = {
    ...aead,
    seal: (...args: Parameters<Aead['seal']>) => {
      stored.push(counter[0]);
      return aead.seal(...args);
    },
  };
  const s = new DatagramSealer(spy, SESSION, counter);
  s.setKeys([A], A.id);
  const d = seal(s);
  t.is(counterOf(d), 41);
  t.deepEqual(stored, [42], 'counter[0] already held 42 when the AEAD ran');
});

test('counters run on across the 32-bit boundary in the header\'s two halves', (t) => {
  const counter = new Float64Array([TWO_32 - 1]);
  const s = sealer([A], A.id, { counter });
  const [a, b] = [seal(s), seal(s)];
  t.deepEqual([sealWord(a, SEAL_COUNTER_AT), sealWord(a, SEAL_COUNTER_AT + 4)], [0, 0xffff_ffff]);
  t.deepEqual([sealWord(b, SEAL_COUNTER_AT), sealWord(b, SEAL_COUNTER_AT + 4)], [1, 0]);
  t.deepEqual(open(sealer([A], A.id), b).payload, PAYLOAD);
});

test('two sealers sharing one SharedArrayBuffer counter never seal with the same counter', (t) => {
  // What a restarted peer thread does: a new sealer, the same session, the counter kept in shared memory.
  const sab = new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT);
  const first = sealer([A], A.id, { counter: new Float64Array(sab) });
  const second = sealer([A], A.id, { counter: new Float64Array(sab) });
  const seen = new Set<number>();
  for (let i = 0; i < 50; i++) {
    for (const s of i % 3 === 0 ? [first, second, second] : [first]) {
      const c = counterOf(seal(s));
      t.false(seen.has(c), `counter ${c} used twice`);
      seen.add(c);
    }
  }
  t.is(seen.size, 50 + 2 * 17);
  t.is(new Float64Array(sab)[0], seen.size, 'the shared counter is the next one to use');
});

// --- the Subkey cache ---------------------------------------------------------------------

/** Runs fn and returns how many subkeys (HChaCha20 derivations) it made; the method is restored afterwards. */
function derivations(fn: () => void): number {
  const real = HChaCha20.prototype.derive;
  let n = 0;
  HChaCha20.prototype.derive = function (this: HChaCha20, ...args: Parameters<HChaCha20['derive']>): void {
    n++;
    real.apply(this, args);
  };
  try {
    fn();
  } finally {
    HChaCha20.prototype.derive = real;
  }
  return n;
}

/** Senders' sessions for the cache tests. */
const S1 = Uint8Array.from([0x81, 0x11, 0x11, 0x11, 0x91, 0x11, 0x11, 0x11]);
const S2 = Uint8Array.from([0x82, 0x22, 0x22, 0x22, 0x92, 0x22, 0x22, 0x22]);

test('a Subkey given to seal() and open() is HChaCha20 of the key and the two sessions (the nonce\'s first 16 bytes), made once for the pair', (t) => {
  const c = new Subkey();
  t.is(c.gen, -1, 'a new cache matches nothing');
  const tx = sealer([A], A.id);
  const ds: Buffer[] = [];
  t.is(derivations(() => {
    for (let i = 0; i < 5; i++) ds.push(seal(tx, PAYLOAD, RX, c));
  }), 1, 'one subkey for five datagrams to one session');
  t.deepEqual(Buffer.from(c.key), hchacha20Ref(A.key, nonceOf(ds[0], RX)));
  t.is(c.keyId, A.id);
  t.deepEqual([c.aHi, c.aLo, c.bHi, c.bLo], [...words(SESSION), ...words(RX)]);
  const rx = sealer([A], A.id, { session: RX });
  const rc = new Subkey();
  t.is(derivations(() => {
    for (const d of ds) t.deepEqual(open(rx, d, rc).payload, PAYLOAD);
  }), 1, 'and one to open them');
  t.deepEqual(rc.key, c.key, 'the receiver makes the same subkey');
  const uc = new Subkey();
  seal(tx, PAYLOAD, undefined, uc);
  t.deepEqual(Buffer.from(uc.key), hchacha20Ref(A.key, Buffer.concat([SESSION, new Uint8Array(8)])), 'unaddressed: the session and 8 zero bytes');
});

test('what runs per datagram is ChaCha20-Poly1305 under the cached subkey with the IV 0000 || counter: a spoiled cache stays spoiled for its pair', (t) => {
  const c = new Subkey();
  const tx = sealer([A], A.id, { counter: new Float64Array([0x1_0000_0005]) });
  const rx = sealer([A], A.id, { session: RX });
  t.is(open(rx, seal(tx, PAYLOAD, RX, c)).n, PAYLOAD.length);
  c.key.fill(0x42);
  const d = seal(tx, PAYLOAD, RX, c);
  t.is(open(rx, d).n, SEAL_BAD, 'sealed under the spoiled subkey, not one made again');
  const iv = Buffer.concat([Buffer.alloc(4), d.subarray(SEAL_COUNTER_AT, SEAL_COUNTER_AT + 8)]);
  const opened = chachaOpenRef(d.subarray(SEAL_HDR_LEN, d.length - SEAL_MAC_LEN), d.subarray(d.length - SEAL_MAC_LEN), d.subarray(0, SEAL_HDR_LEN), iv, Buffer.alloc(32, 0x42));
  t.deepEqual(opened, PAYLOAD, 'libsodium\'s ChaCha20-Poly1305 with that key and IV opens it');
  // setKeys, even with the same keys, makes every cache again.
  tx.setKeys([A], A.id);
  t.is(derivations(() => t.deepEqual(open(rx, seal(tx, PAYLOAD, RX, c)).payload, PAYLOAD)), 1);
  t.deepEqual(Buffer.from(c.key), hchacha20Ref(A.key, Buffer.concat([SESSION, RX])));
});

test('a rotation remakes the caches on both sides: the new send key seals, the receiver\'s cache follows the key id, and setKeys there remakes it too', (t) => {
  const tx = sealer([A, B], A.id);
  const rx = sealer([A, B], A.id, { session: RX });
  const [c, rc] = [new Subkey(), new Subkey()];
  t.deepEqual(open(rx, seal(tx, PAYLOAD, RX, c), rc).payload, PAYLOAD);
  tx.setKeys([A, B], B.id);
  let d: Buffer = Buffer.alloc(0);
  t.is(derivations(() => (d = seal(tx, PAYLOAD, RX, c))), 1);
  t.is(sealKeyId(d), B.id);
  t.is(c.keyId, B.id);
  t.deepEqual(Buffer.from(c.key), hchacha20Ref(B.key, Buffer.concat([SESSION, RX])));
  t.is(derivations(() => t.deepEqual(open(rx, d, rc).payload, PAYLOAD)), 1, 'the receiver\'s cache is made again for key B');
  t.deepEqual(open(sealer([B], B.id, { session: RX }), d).payload, PAYLOAD, 'a switch holding only B opens it');
  rx.setKeys([B], B.id);
  t.is(derivations(() => t.deepEqual(open(rx, seal(tx, PAYLOAD, RX, c), rc).payload, PAYLOAD)), 1, 'a setKeys at the receiver remakes its cache; the sender\'s is kept');
  // Another key under the same id: the cache is not kept for the id alone.
  const twin = { id: B.id, key: A.key };
  tx.setKeys([twin], B.id);
  const e = seal(tx, PAYLOAD, RX, c);
  t.deepEqual(Buffer.from(c.key), hchacha20Ref(A.key, Buffer.concat([SESSION, RX])));
  t.deepEqual(open(sealer([twin], B.id, { session: RX }), e).payload, PAYLOAD);
  t.is(open(rx, e, rc).n, SEAL_BAD, 'not under B\'s subkey, though the id is B\'s');
});

test('one cache through changing pairs is made again at each change and each datagram opens only at its receiver', (t) => {
  const tx = sealer([A], A.id);
  const rx = sealer([A], A.id, { session: RX });
  const rx2 = sealer([A], A.id, { session: RX2 });
  const c = new Subkey();
  const tos = [RX, RX, RX2, undefined, undefined, RX, RX2, RX2];
  const ds: Buffer[] = [];
  t.is(derivations(() => {
    for (const to of tos) ds.push(seal(tx, PAYLOAD, to, c));
  }), 5, 'one per change of pair');
  ds.forEach((d, i) => {
    const to = tos[i];
    t.is(open(rx, d).n, to === RX2 ? SEAL_BAD : PAYLOAD.length, `datagram ${i} at RX`);
    t.is(open(rx2, d).n, to === RX ? SEAL_BAD : PAYLOAD.length, `datagram ${i} at RX2`);
  });
});

test('a receiver\'s cache filled by one sender\'s datagrams never opens another\'s, and follows each genuine one', (t) => {
  const s1 = sealer([A], A.id, { session: S1 });
  const s2 = sealer([A], A.id, { session: S2 });
  const rx = sealer([A], A.id, { session: RX });
  const rc = new Subkey();
  t.deepEqual(open(rx, seal(s1, PAYLOAD, RX), rc).payload, PAYLOAD);
  t.deepEqual([rc.aHi, rc.aLo], words(S1));
  // S1's datagram with S2's session in its header: the cache holds S1's subkey, which would open it.
  const forged = seal(s1, PAYLOAD, RX);
  forged.set(S2, SEAL_SESSION_AT);
  t.is(open(rx, forged, rc).n, SEAL_BAD);
  // And S2's datagram naming S1, with the cache back on S1.
  t.deepEqual(open(rx, seal(s1, PAYLOAD, RX), rc).payload, PAYLOAD);
  const forged2 = seal(s2, PAYLOAD, RX);
  forged2.set(S1, SEAL_SESSION_AT);
  t.is(open(rx, forged2, rc).n, SEAL_BAD);
  // Genuine datagrams of both, interleaved through the one cache, all open.
  for (let i = 0; i < 4; i++) {
    t.deepEqual(open(rx, seal(s1, PAYLOAD, RX), rc).payload, PAYLOAD, `S1, round ${i}`);
    t.deepEqual(open(rx, seal(s2, PAYLOAD, RX), rc).payload, PAYLOAD, `S2, round ${i}`);
    t.deepEqual(open(rx, seal(s1, PAYLOAD), rc).payload, PAYLOAD, `S1 unaddressed, round ${i}`);
  }
  // S1's datagram for another receiver, with the cache holding S1's pair with this one.
  t.deepEqual(open(rx, seal(s1, PAYLOAD, RX), rc).payload, PAYLOAD);
  t.is(open(rx, seal(s1, PAYLOAD, RX2), rc).n, SEAL_BAD);
});

test('a cache tells apart pairs of sessions that differ in one 32-bit word only, whichever word', (t) => {
  const base = Uint8Array.from([0x81, 0x11, 0x11, 0x11, 0x91, 0x11, 0x11, 0x11]);
  /** `from` with one bit of the word at `at` (0: high, 4: low) changed. */
  const apart = (from: Uint8Array, at: number): Uint8Array => {
    const s = Uint8Array.from(from);
    s[at] ^= 0x80;
    return s;
  };
  for (const at of [0, 4]) {
    const word = at === 0 ? 'high' : 'low';
    // The sender's word: one receiver's cache, genuine datagrams of both senders by turns, and each forged as the other.
    const [s1, s2] = [sealer([A], A.id, { session: base }), sealer([A], A.id, { session: apart(base, at) })];
    const rx = sealer([A], A.id, { session: RX });
    const rc = new Subkey();
    for (let i = 0; i < 2; i++) {
      t.deepEqual(open(rx, seal(s1, PAYLOAD, RX), rc).payload, PAYLOAD);
      const forged = seal(s1, PAYLOAD, RX);
      forged.set(apart(base, at), SEAL_SESSION_AT);
      t.is(open(rx, forged, rc).n, SEAL_BAD, `a sender's session one bit off in its ${word} word, with the cache on the other`);
      t.deepEqual(open(rx, seal(s2, PAYLOAD, RX), rc).payload, PAYLOAD);
      const forged2 = seal(s2, PAYLOAD, RX);
      forged2.set(base, SEAL_SESSION_AT);
      t.is(open(rx, forged2, rc).n, SEAL_BAD, `and back, ${word} word`);
    }
    // The receiver's word, at the sender: one cache, two receivers one bit apart.
    const tx = sealer([A], A.id, { session: base });
    const c = new Subkey();
    const rx2 = sealer([A], A.id, { session: apart(RX, at) });
    for (let i = 0; i < 2; i++) {
      const [d1, d2] = [seal(tx, PAYLOAD, RX, c), seal(tx, PAYLOAD, apart(RX, at), c)];
      t.deepEqual([open(rx, d1).n, open(rx2, d1).n, open(rx2, d2).n, open(rx, d2).n], [PAYLOAD.length, SEAL_BAD, PAYLOAD.length, SEAL_BAD], `receivers one bit apart in the ${word} word`);
    }
    // The receiver's word, at the receiver: its session with the other word zero, so addressed
    // (its session) and unaddressed (zeros) differ in this word only.
    const half = new Uint8Array(8);
    half.set(RX.subarray(at, at + 4), at);
    const rxh = sealer([A], A.id, { session: half });
    const hc = new Subkey();
    for (let i = 0; i < 2; i++) {
      t.deepEqual(open(rxh, seal(tx, PAYLOAD, half), hc).payload, PAYLOAD, `addressed, ${word} word`);
      t.deepEqual(open(rxh, seal(tx), hc).payload, PAYLOAD, `unaddressed, ${word} word`);
    }
  }
});

test('the same counter under two pairs of sessions gives two key streams', (t) => {
  const s1 = sealer([A], A.id, { session: S1 });
  const s2 = sealer([A], A.id, { session: S2 });
  const [a, b] = [seal(s1, PAYLOAD, RX), seal(s2, PAYLOAD, RX)];
  t.is(counterOf(a), counterOf(b));
  t.notDeepEqual(a.subarray(SEAL_HDR_LEN, SEAL_HDR_LEN + 8), b.subarray(SEAL_HDR_LEN, SEAL_HDR_LEN + 8));
  const twin = sealer([A], A.id, { session: S1 });
  const c = seal(twin, PAYLOAD, RX2);
  t.is(counterOf(c), counterOf(a));
  t.notDeepEqual(a.subarray(SEAL_HDR_LEN, SEAL_HDR_LEN + 8), c.subarray(SEAL_HDR_LEN, SEAL_HDR_LEN + 8), 'one sender to two receivers');
});

test('without a cache of its own, a sealer that seals and opens by turns (as announcements do) keeps every pair right', (t) => {
  const tx = sealer([A], A.id, { session: S1 });
  const other = sealer([A], A.id, { session: S2 });
  const rx = sealer([A], A.id, { session: RX });
  for (let i = 0; i < 3; i++) {
    t.deepEqual(open(rx, seal(tx, PAYLOAD, RX)).payload, PAYLOAD);
    t.deepEqual(open(tx, seal(other)).payload, PAYLOAD, 'the same sealer opens another\'s');
    t.deepEqual(open(rx, seal(tx)).payload, PAYLOAD);
    t.deepEqual(open(tx, seal(tx)).payload, PAYLOAD, 'and its own');
  }
});
