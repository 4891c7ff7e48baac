// Tests for src/peer/peer-seal.ts, what it refuses and where sessions come from: unsealed,
// forged, unknown-key and stale datagrams, each reason logged once until the peer works
// again; sessions offered by main; the subkeys each PeerRec keeps (rxKey, txKey), made once
// per pair of sessions and again after a rotation; a switch without a key (`keyed`).

import test from 'ava';
import type { KeyRing } from '../../src/crypto/key-ring.js';
import { SESSION_STATE_BYTES, SessionState } from '../../src/crypto/session-state.js';
import type { PeerRec } from '../../src/peer/peer-record.js';
import { PeerSeal, UNSEAL_DROPPED } from '../../src/peer/peer-seal.js';
import { KEEPALIVE, KEEPALIVE_LEN, TIMED_KEEPALIVE_LEN } from '../../src/peer/wire/keepalive.js';
import { SEAL_HDR_LEN, SEAL_OVERHEAD, SEAL_SESSION_AT, readTimestamp, sealKeyId, writeTimestamp } from '../../src/crypto/sealed-datagram.js';
import { hchacha20Ref } from '../crypto/libsodium-reference.js';
import { atClock, derivations } from '../helpers/seal-fixtures.js';
import { FRAME, OTHER, RING, SKEW, T0, adopted, data, deliver, drops, held, keepalive, peer, side, state, toward, words, type Side } from './peer-seal-fixtures.js';

// --- datagrams that are not genuine -------------------------------------------------------------

test('an unsealed datagram is unauthenticated, and each reason is logged once until the peer works again', (t) => {
  const { tx, rx, p } = adopted();
  t.is(deliver(rx, p, FRAME).n, UNSEAL_DROPPED);
  t.is(deliver(rx, p, FRAME).n, UNSEAL_DROPPED);
  t.deepEqual(rx.complaints, ['unauthenticated']);
  const forged = data(tx, rx);
  forged[forged.length - 1] ^= 1;
  deliver(rx, p, forged);
  deliver(rx, p, forged);
  t.deepEqual(rx.complaints, ['unauthenticated', 'bad-auth'], 'another reason is logged');
  t.is(deliver(rx, p, data(tx, rx)).n, FRAME.length, 'then a genuine datagram');
  t.is(p.complained, 0);
  deliver(rx, p, FRAME);
  t.deepEqual(rx.complaints, ['unauthenticated', 'bad-auth', 'unauthenticated'], 'logged again after it worked');
  t.deepEqual(drops(p), { unauthenticated: 3, 'bad-auth': 2 });
});

test('a datagram with a changed bit is bad-auth and is not taken, with or without a session', (t) => {
  const { tx, rx, p } = adopted();
  const changed = data(tx, rx);
  changed[SEAL_HDR_LEN + 3] ^= 0x80;
  t.is(deliver(rx, p, changed).n, UNSEAL_DROPPED);
  const stranger = peer();
  const k = keepalive(side(0x30));
  k[10] ^= 1;
  t.is(deliver(rx, stranger, k).n, UNSEAL_DROPPED);
  t.false(stranger.session.known, 'a forged keepalive adopts nothing');
  t.deepEqual([drops(p), drops(stranger)], [{ 'bad-auth': 1 }, { 'bad-auth': 1 }]);
});

test('a datagram sealed with a key not held is unknown-key, and the log line names both ids', (t) => {
  const messages: string[] = [];
  const rx = side(0x20);
  const seal = new PeerSeal(
    { session: rx.session, counterSab: new SharedArrayBuffer(8), keys: RING.dataKeys(), sendId: RING.sendId, encrypt: true, skewMs: SKEW },
    (_p, _reason, message) => messages.push(message),
  );
  const p = peer();
  const slot = Buffer.alloc(2048);
  const k = keepalive(side(0x10, { ring: OTHER }));
  k.copy(slot);
  t.is(seal.unseal(p, slot, slot.subarray(SEAL_HDR_LEN), k.length), UNSEAL_DROPPED);
  t.deepEqual(drops(p), { 'unknown-key': 1 });
  t.deepEqual(messages, [`sealed a datagram with key ${OTHER.ids()[0]}, which this switch does not hold (it holds ${RING.ids()[0]}); "key add FILE" loads it`]);
});

// --- stale keepalives and restarted peers -----------------------------------------------------

test('a keepalive of a new session stamped outside the allowed skew is stale', (t) => {
  const tx = side(0x10);
  const rx = side(0x20);
  const p = peer();
  t.is(deliver(rx, p, keepalive(tx, T0 - SKEW - 1), T0).n, UNSEAL_DROPPED, 'too old');
  t.is(deliver(rx, p, keepalive(tx, T0 + SKEW + 1), T0).n, UNSEAL_DROPPED, 'too far ahead');
  t.false(p.session.known);
  t.deepEqual(drops(p), { stale: 2 });
  t.deepEqual(rx.complaints, ['stale']);
  t.is(deliver(rx, p, keepalive(tx, T0 + SKEW), T0).n, TIMED_KEEPALIVE_LEN, 'at the edge of the skew it is taken');
});

test('a keepalive of the session in use stamped outside the skew is stale too, and moves nothing', (t) => {
  const { tx, rx, p } = adopted();
  const late = keepalive(tx, T0 + 1000, rx);
  t.is(deliver(rx, p, late, T0 + 1000 + SKEW + 1).n, UNSEAL_DROPPED, 'delivered too late (a replay of a genuine keepalive)');
  t.is(deliver(rx, p, keepalive(tx, T0 + 2000 + SKEW + 1), T0 + 2000).n, UNSEAL_DROPPED, 'stamped too far ahead, unaddressed');
  t.is(deliver(rx, p, keepalive(tx, T0 - SKEW - 1, rx), T0).n, UNSEAL_DROPPED, 'stamped too far behind, addressed');
  t.deepEqual(drops(p), { stale: 3 });
  t.deepEqual(rx.complaints, ['stale'], 'logged once');
  t.regex(rx.messages[0], /^sent a keepalive stamped \S+, outside 30 s of this host's clock or not newer than its last; check both clocks \(NTP\)$/);
  t.deepEqual(state(p), { ...held(tx), lastTs: T0 }, 'lastTs did not move');
  t.is(deliver(rx, p, late, T0 + 1000).n, TIMED_KEEPALIVE_LEN, 'the late one, in time after all, was not counted in the window');
  t.is(p.session.lastTs, T0 + 1000);
});

test('a timed keepalive with no valid time is stale, in the session in use as for a new one', (t) => {
  const { tx, rx, p } = adopted();
  /** A keepalive whose timestamp is past 2^53, sealed by `from` for `to` as sealFor does. */
  const timeless = (from: Side, to: PeerRec): Buffer => {
    const slot = Buffer.alloc(SEAL_OVERHEAD + TIMED_KEEPALIVE_LEN);
    const body = slot.subarray(SEAL_HDR_LEN);
    KEEPALIVE.copy(body);
    writeTimestamp(body, KEEPALIVE_LEN, 0);
    body.fill(0xff, KEEPALIVE_LEN, KEEPALIVE_LEN + 4);
    t.true(Number.isNaN(readTimestamp(body, KEEPALIVE_LEN)));
    return slot.subarray(0, from.seal.sealFor(to, slot, body, TIMED_KEEPALIVE_LEN));
  };
  t.is(deliver(rx, p, timeless(tx, toward(tx, rx))).n, UNSEAL_DROPPED);
  const stranger = peer();
  t.is(deliver(rx, stranger, timeless(side(0x40), peer())).n, UNSEAL_DROPPED);
  t.false(stranger.session.known);
  t.deepEqual([drops(p), drops(stranger)], [{ stale: 1 }, { stale: 1 }]);
  t.regex(rx.messages[0], /^sent a keepalive with no valid time, /);
});

test('a keepalive of a new session not newer than lastTs is stale; a newer one replaces the session', (t) => {
  const { tx, rx, p } = adopted();
  const restarted = side(0x40);
  t.is(deliver(rx, p, keepalive(restarted, T0 - 1000), T0).n, UNSEAL_DROPPED, 'older than the last, though within the skew');
  t.is(deliver(rx, p, keepalive(restarted, T0), T0).n, UNSEAL_DROPPED, 'as old as the last');
  t.deepEqual(drops(p), { stale: 2 });
  t.like(state(p), held(tx), 'the session in use is kept');
  t.is(deliver(rx, p, keepalive(restarted, T0 + 1000), T0 + 1000).n, TIMED_KEEPALIVE_LEN);
  t.deepEqual(state(p), { ...held(restarted), lastTs: T0 + 1000 });
});

test('once a peer restarted, datagrams of its old session are refused: its keepalive as stale, its data as unknown-session', (t) => {
  const { tx, rx, p } = adopted();
  const oldKeepalive = keepalive(tx, T0 + 10);
  const oldData = data(tx, rx);
  const restarted = side(0x40);
  deliver(rx, p, keepalive(restarted, T0 + 1000), T0 + 1000);
  t.is(deliver(rx, p, oldKeepalive, T0 + 1000).n, UNSEAL_DROPPED);
  t.is(deliver(rx, p, oldData, T0 + 1000).n, UNSEAL_DROPPED);
  t.deepEqual(drops(p), { stale: 1, 'unknown-session': 1 });
  t.like(state(p), held(restarted));
});

// --- sessions offered by main -------------------------------------------------------------

test('offer() of a fresh session newer than lastTs adopts it, resetting the replay window', (t) => {
  const sab = new SharedArrayBuffer(SESSION_STATE_BYTES);
  const { rx, p } = adopted(sab);
  const next = side(0x50);
  const d = data(next, rx);
  t.is(deliver(rx, p, d).n, UNSEAL_DROPPED, 'not yet known');
  atClock(T0 + 2000, () => rx.seal.offer(p, { ...words(next), ts: T0 + 2000 }));
  t.deepEqual(state(p), { ...held(next), lastTs: T0 + 2000 });
  t.deepEqual(state(new SessionState(sab)), state(p), 'in main\'s memory');
  t.deepEqual(deliver(rx, p, d).payload, FRAME, 'counter 0 of the new session passes');
});

test('offer() of an older or unfresh session does not replace a newer one', (t) => {
  const { tx, rx, p } = adopted();
  const other = side(0x50);
  atClock(T0, () => rx.seal.offer(p, { ...words(other), ts: T0 - 1 }));
  t.deepEqual(state(p), { ...held(tx), lastTs: T0 }, 'older than lastTs');
  atClock(T0 + SKEW + 10, () => rx.seal.offer(p, { ...words(other), ts: T0 + 5 }));
  t.deepEqual(state(p), { ...held(tx), lastTs: T0 }, 'newer than lastTs, but outside the skew of this clock');
});

test('offer() of the session in use only moves lastTs on and keeps the replay window', (t) => {
  const { tx, rx, p } = adopted();
  const d = data(tx, rx);
  deliver(rx, p, d);
  atClock(T0 + 3000, () => rx.seal.offer(p, { ...words(tx), ts: T0 + 3000 }));
  t.is(p.session.lastTs, T0 + 3000);
  atClock(T0 + 3000, () => rx.seal.offer(p, { ...words(tx), ts: T0 + 100 }));
  t.is(p.session.lastTs, T0 + 3000, 'never back');
  t.is(deliver(rx, p, d).n, UNSEAL_DROPPED, 'still a replay');
  t.deepEqual(drops(p), { replay: 1 });
});

// --- the subkeys each record keeps ---------------------------------------------------------------

/** HChaCha20 of RING's data subkey and the pair of sessions `a` then `b` (zeros when null), as libsodium computes it. */
function subkeyOf(a: Side, b: Side | null, ring: KeyRing = RING): Buffer {
  return hchacha20Ref(ring.dataKeys()[0].key, Buffer.concat([a.session, b === null ? new Uint8Array(8) : b.session]));
}

test('a record keeps the subkey of its peer\'s datagrams (rxKey) and of ours to it (txKey): HChaCha20 of the data subkey and the two sessions', (t) => {
  const tx = side(0x10);
  const rx = side(0x20);
  const r = peer();
  const p = peer();
  t.deepEqual([r.txKey.gen, r.rxKey.gen, p.txKey.gen, p.rxKey.gen], [-1, -1, -1, -1], 'nothing before the first datagram');
  deliver(rx, p, keepalive(tx, T0, r));
  t.deepEqual(Buffer.from(r.txKey.key), subkeyOf(tx, null), 'an unaddressed keepalive: the sender\'s session and zeros');
  t.deepEqual(Buffer.from(p.rxKey.key), subkeyOf(tx, null));
  t.is(deliver(tx, r, keepalive(rx)).n, TIMED_KEEPALIVE_LEN, 'tx learns rx\'s session');
  t.deepEqual(Buffer.from(r.rxKey.key), subkeyOf(rx, null));
  t.deepEqual(deliver(rx, p, data(tx, r)).payload, FRAME);
  t.deepEqual(Buffer.from(r.txKey.key), subkeyOf(tx, rx), 'addressed: the sender\'s session, then the receiver\'s');
  t.deepEqual(Buffer.from(p.rxKey.key), subkeyOf(tx, rx));
  t.is(p.txKey.gen, -1, 'rx sent p nothing');
});

test('a record\'s subkey is made once for its pair of sessions: sending to and hearing from two peers by turns makes one per record', (t) => {
  const me = side(0x10);
  const [b, c] = [side(0x20), side(0x30)];
  const [toB, toC] = [toward(me, b), toward(me, c)];
  // B's and C's records of me; mine of them.
  const [bMe, cMe, meB, meC] = [peer(), peer(), peer(), peer()];
  const sent: Buffer[] = [];
  t.is(derivations(() => {
    for (let i = 0; i < 5; i++) sent.push(keepalive(me, T0 + i, toB), data(me, toB), keepalive(me, T0 + i, toC), data(me, toC));
  }), 2, 'twenty datagrams to two peers: one subkey each');
  t.is(derivations(() => {
    for (const [i, d] of sent.entries()) {
      const [rx, rec] = i % 4 < 2 ? [b, bMe] : [c, cMe];
      t.true(deliver(rx, rec, d, T0 + 4).n > 0, `datagram ${i}`);
    }
  }), 2, 'and one to open them at each');
  t.deepEqual([drops(bMe), drops(cMe)], [{}, {}]);
  // Back the other way, by turns too.
  const back: Buffer[] = [];
  for (let i = 0; i < 4; i++) back.push(keepalive(b, T0 + i, bMe), data(b, bMe), keepalive(c, T0 + i, cMe), data(c, cMe));
  t.is(derivations(() => {
    for (const [i, d] of back.entries()) t.true(deliver(me, i % 4 < 2 ? meB : meC, d, T0 + 3).n > 0, `datagram ${i} back`);
  }), 2);
  t.deepEqual(Buffer.from(meB.rxKey.key), subkeyOf(b, me));
  t.deepEqual(Buffer.from(meC.rxKey.key), subkeyOf(c, me));
});

test('a key rotation makes every record\'s subkeys again, on both sides, and datagrams of the new key pass', (t) => {
  const { tx, rx, p } = adopted();
  const r = toward(tx, rx);
  t.deepEqual(deliver(rx, p, data(tx, r)).payload, FRAME);
  const [before, older] = [data(tx, r), data(tx, r)];
  // Both hold both keys; tx seals with OTHER's from now on.
  const both = [...RING.dataKeys(), ...OTHER.dataKeys()];
  rx.seal.setKeys(both, RING.sendId);
  tx.seal.setKeys(both, OTHER.sendId);
  let after: Buffer = Buffer.alloc(0);
  t.is(derivations(() => (after = data(tx, r))), 1);
  t.is(sealKeyId(after), OTHER.sendId);
  t.deepEqual(Buffer.from(r.txKey.key), subkeyOf(tx, rx, OTHER));
  t.is(derivations(() => t.deepEqual(deliver(rx, p, after).payload, FRAME)), 1);
  t.deepEqual(Buffer.from(p.rxKey.key), subkeyOf(tx, rx, OTHER));
  t.is(derivations(() => t.deepEqual(deliver(rx, p, before).payload, FRAME, 'one sealed with the old key, still held, passes')), 1);
  // rx drops RING's key: the old one is then unknown, the new ones pass.
  rx.seal.setKeys(OTHER.dataKeys(), OTHER.sendId);
  t.is(deliver(rx, p, older).n, UNSEAL_DROPPED);
  t.deepEqual(deliver(rx, p, data(tx, r)).payload, FRAME);
  t.deepEqual(drops(p), { 'unknown-key': 1 });
});

test('a record whose subkey is that of its peer\'s session opens no datagram of another sender that names that session', (t) => {
  const { tx, rx, p } = adopted();
  t.deepEqual(deliver(rx, p, data(tx, rx)).payload, FRAME);
  t.deepEqual(Buffer.from(p.rxKey.key), subkeyOf(tx, rx));
  // Another holder of the key seals for rx, then puts tx's session in the header.
  const forged = data(side(0x40), rx);
  forged.set(tx.session, SEAL_SESSION_AT);
  t.is(deliver(rx, p, forged).n, UNSEAL_DROPPED);
  t.deepEqual(drops(p), { 'bad-auth': 1 });
  t.deepEqual(deliver(rx, p, data(tx, rx)).payload, FRAME, 'tx\'s own go on passing');
  // A restarted peer: its new session's keepalive and data pass through the same record.
  const restarted = side(0x50);
  t.is(deliver(rx, p, keepalive(restarted, T0 + 1000), T0 + 1000).n, TIMED_KEEPALIVE_LEN);
  t.deepEqual(deliver(rx, p, data(restarted, rx), T0 + 1000).payload, FRAME);
  t.deepEqual(Buffer.from(p.rxKey.key), subkeyOf(restarted, rx));
});

// --- a switch without a key -----------------------------------------------------------------------

test('refuseSealed: a switch without a key counts a sealed datagram as keyed and logs it once', (t) => {
  const p = peer();
  const reasons: string[] = [];
  const complain = (_p: PeerRec, reason: string, message: string) => reasons.push(`${reason}: ${message}`);
  const sealed = data(side(0x10), side(0x20));
  t.true(PeerSeal.refuseSealed(p, sealed, sealed.length, complain));
  t.true(PeerSeal.refuseSealed(p, sealed, sealed.length, complain));
  t.false(PeerSeal.refuseSealed(p, FRAME, FRAME.length, complain), 'an unsealed frame is the caller\'s');
  t.deepEqual(drops(p), { keyed: 2 });
  t.deepEqual(reasons, [`keyed: sent a sealed datagram (key ${RING.ids()[0]}): this switch has no cluster key; start it with --key-file to peer with keyed switches`]);
});
