// Tests for src/crypto/datagram-sealer.ts on the wire: datagrams sealed in place open in
// place, in both modes, byte for byte libsodium's XChaCha20-Poly1305 (nonce = sender's
// session | receiver's session or zeros | counter); no changed bit anywhere passes; an
// addressed one opens only at the sealer of its session. Pure units, real OpenSSL AEAD.

import test from 'ava';
import { randomBytes } from 'node:crypto';
import { DatagramSealer, SEAL_BAD, SEAL_UNKNOWN_KEY } from '../../src/crypto/datagram-sealer.js';
import {
  SEAL_F_ADDRESSED,
  SEAL_F_ENCRYPTED,
  SEAL_HDR_LEN,
  SEAL_MAC_LEN,
  SEAL_OVERHEAD,
  SEAL_SESSION_AT,
  sealAddressed,
  sealEncrypted,
  sealKeyId,
  writeSealHeader,
} from '../../src/crypto/sealed-datagram.js';
import { xchachaOpenRef, xchachaSealRef } from './libsodium-reference.js';
import { A, B, PAYLOAD, RX, RX2, SESSION, TWO_32, aead, counterOf, nonceOf, open, seal, sealer } from './sealer-fixtures.js';

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
