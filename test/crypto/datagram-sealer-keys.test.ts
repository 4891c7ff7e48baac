// Tests for src/crypto/datagram-sealer.ts, its state: keys are found by id through a
// rotation; the counter is never used twice, also by two sealers sharing one
// SharedArrayBuffer (a restarted peer thread); the Subkey cache is reused for one pair of
// sessions, remade for another or after setKeys, and never opens another pair's datagram.

import test from 'ava';
import type { Aead } from '../../src/crypto/aead.js';
import { DatagramSealer, MAX_KEYS, SEAL_BAD, SEAL_UNKNOWN_KEY, Subkey } from '../../src/crypto/datagram-sealer.js';
import { SEAL_COUNTER_AT, SEAL_HDR_LEN, SEAL_MAC_LEN, SEAL_SESSION_AT, sealKeyId, sealWord } from '../../src/crypto/sealed-datagram.js';
import { chachaOpenRef, hchacha20Ref } from './libsodium-reference.js';
import { derivations } from '../helpers/seal-fixtures.js';
import { A, B, PAYLOAD, RX, RX2, SESSION, TWO_32, aead, counterOf, nonceOf, open, seal, sealKey, sealer, words } from './sealer-fixtures.js';

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
