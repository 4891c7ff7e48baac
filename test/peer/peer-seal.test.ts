// Tests for src/peer/peer-seal.ts: a keyed switch takes a peer's sealed datagrams from one
// session at a time, adopted from a fresh timed keepalive; drops replays and datagrams of
// other sessions; opens only what was sealed addressed to its own session; and goes on
// with the session state main keeps when a PeerRec is rebuilt (a restarted peer thread).

import test from 'ava';
import { SESSION_STATE_BYTES, SessionState } from '../../src/crypto/session-state.js';
import { UNSEAL_DROPPED } from '../../src/peer/peer-seal.js';
import { KEEPALIVE, KEEPALIVE_LEN, TIMED_KEEPALIVE_LEN } from '../../src/peer/wire/keepalive.js';
import { encodeOffloadAdvert } from '../../src/peer/wire/offload-advert.js';
import { SEAL_COUNTER_AT, SEAL_HDR_LEN, SEAL_OVERHEAD, readTimestamp, sealAddressed, sealWord } from '../../src/crypto/sealed-datagram.js';
import { atClock } from '../helpers/seal-fixtures.js';
import { FRAME, T0, adopted, data, deliver, drops, held, keepalive, peer, side, state, toward, words } from './peer-seal-fixtures.js';

// --- taking a session ---------------------------------------------------------------------

test('the first timed keepalive of a fresh session is taken and its session adopted, in the memory main keeps', (t) => {
  const tx = side(0x10);
  const rx = side(0x20);
  const sab = new SharedArrayBuffer(SESSION_STATE_BYTES);
  const p = peer(sab);
  t.false(p.session.known);
  const k = keepalive(tx, T0);
  t.false(sealAddressed(k), 'tx knows no session of rx yet: the keepalive goes unaddressed');
  const r = deliver(rx, p, k, T0 + 200);
  t.is(r.n, TIMED_KEEPALIVE_LEN);
  t.deepEqual(r.payload?.subarray(0, KEEPALIVE_LEN), KEEPALIVE, 'the payload is a keepalive');
  t.is(readTimestamp(r.payload as Buffer, KEEPALIVE_LEN), T0);
  t.deepEqual(state(p), { ...held(tx), lastTs: T0 });
  t.deepEqual(state(new SessionState(sab)), { ...held(tx), lastTs: T0 }, 'main\'s memory holds it, so a restarted thread knows it');
  t.deepEqual(drops(p), {});
  t.deepEqual(rx.complaints, []);
});

test('after the keepalive, data of that session addressed to the receiver passes and opens to the frame', (t) => {
  const { tx, rx, p } = adopted();
  const d = data(tx, rx);
  t.true(sealAddressed(d));
  const r = deliver(rx, p, d);
  t.is(r.n, FRAME.length);
  t.deepEqual(r.payload, FRAME);
  t.deepEqual(drops(p), {});
});

test('in authenticate-only mode too, data passes after the keepalive', (t) => {
  const tx = side(0x10, { encrypt: false });
  const rx = side(0x20);
  const p = peer();
  t.is(deliver(rx, p, keepalive(tx)).n, TIMED_KEEPALIVE_LEN);
  t.deepEqual(deliver(rx, p, data(tx, rx)).payload, FRAME);
});

test('a control datagram sealed into the control slot opens to the same bytes', (t) => {
  const { tx, rx, p } = adopted();
  const advert = encodeOffloadAdvert([10, 20]);
  const len = tx.seal.control(toward(tx, rx), advert, advert.length);
  const c = Buffer.from(tx.seal.controlSlot.subarray(0, len));
  t.true(sealAddressed(c));
  t.deepEqual(deliver(rx, p, c).payload, advert);
});

test('control() seals nothing and uses no counter while the peer\'s session is unknown', (t) => {
  const counterSab = new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT);
  const tx = side(0x10, { counterSab });
  const advert = encodeOffloadAdvert([10]);
  const unknown = peer();
  t.is(tx.seal.control(unknown, advert, advert.length), 0);
  t.is(new Float64Array(counterSab)[0], 0);
  t.true(tx.seal.control(toward(tx, side(0x20)), advert, advert.length) > 0, 'once known, it seals');
  t.is(new Float64Array(counterSab)[0], 1);
});

test('sealFor and keepalive() seal unaddressed while the peer\'s session is unknown, then addressed to it', (t) => {
  const tx = side(0x10);
  const rx = side(0x20);
  const r = peer();
  t.false(sealAddressed(data(tx, r)));
  t.false(sealAddressed(keepalive(tx, T0, r)));
  t.is(deliver(tx, r, keepalive(rx)).n, TIMED_KEEPALIVE_LEN, 'tx takes rx\'s session from rx\'s keepalive');
  t.true(sealAddressed(data(tx, r)));
  t.true(sealAddressed(keepalive(tx, T0, r)));
});

test('a later keepalive of the session in use moves lastTs on and keeps the replay window', (t) => {
  const { tx, rx, p } = adopted();
  const d = data(tx, rx);
  t.is(deliver(rx, p, d).n, FRAME.length);
  t.is(deliver(rx, p, keepalive(tx, T0 + 5000), T0 + 5000).n, TIMED_KEEPALIVE_LEN);
  t.is(p.session.lastTs, T0 + 5000);
  t.is(deliver(rx, p, keepalive(tx, T0 + 6000, rx), T0 + 6000).n, TIMED_KEEPALIVE_LEN, 'an addressed one as well');
  t.is(p.session.lastTs, T0 + 6000);
  t.is(deliver(rx, p, d, T0 + 6000).n, UNSEAL_DROPPED, 'the same session is not adopted again: the data is still a replay');
  t.deepEqual(drops(p), { replay: 1 });
});

// --- replays and other sessions -------------------------------------------------------------

test('the same datagram again is dropped as a replay, and a reordered one still passes once', (t) => {
  const { tx, rx, p } = adopted();
  const [d1, d2] = [data(tx, rx), data(tx, rx)];
  t.is(deliver(rx, p, d2).n, FRAME.length);
  t.is(deliver(rx, p, d1).n, FRAME.length, 'the earlier one, after the later');
  t.is(deliver(rx, p, d1).n, UNSEAL_DROPPED);
  t.is(deliver(rx, p, d2).n, UNSEAL_DROPPED);
  t.deepEqual(drops(p), { replay: 2 });
  t.deepEqual(rx.complaints, [], 'replays are counted, not logged');
});

test('the adopting keepalive itself, sent again, is a replay', (t) => {
  const tx = side(0x10);
  const rx = side(0x20);
  const p = peer();
  const k = keepalive(tx);
  deliver(rx, p, k);
  t.is(deliver(rx, p, k).n, UNSEAL_DROPPED);
  t.deepEqual(drops(p), { replay: 1 });
});

test('data of a session not yet shown fresh is dropped as unknown-session, without a log line', (t) => {
  const tx = side(0x10);
  const rx = side(0x20);
  const p = peer();
  const early = data(tx, rx);
  t.is(deliver(rx, p, early).n, UNSEAL_DROPPED);
  t.false(p.session.known);
  t.deepEqual(drops(p), { 'unknown-session': 1 });
  t.deepEqual(rx.complaints, []);
  deliver(rx, p, keepalive(tx));
  t.is(deliver(rx, p, early).n, FRAME.length, 'genuine and inside the window once the session is known');
});

test('a restarted sender thread with the same session and shared counter goes on without replay drops', (t) => {
  const sab = new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT);
  const tx = side(0x10, { counterSab: sab });
  const rx = side(0x20);
  const p = peer();
  deliver(rx, p, keepalive(tx));
  for (let i = 0; i < 3; i++) deliver(rx, p, data(tx, rx));
  const restarted = side(0x10, { counterSab: sab });
  const d = data(restarted, rx);
  t.is(sealWord(d, SEAL_COUNTER_AT + 4), 4, 'numbering went on from the last thread');
  t.deepEqual(deliver(rx, p, d).payload, FRAME);
  t.deepEqual(drops(p), {});
});

// --- addressed datagrams ------------------------------------------------------------------------

for (const learns of ['keepalive', 'offer'] as const) {
  test(`data sealed by A for B (A knowing B's session by ${learns}) opens at B; the same bytes fail at C, which holds the same key`, (t) => {
    const a = side(0x10);
    const b = side(0x20);
    const c = side(0x30);
    // A's records of B and C; B's and C's records of A.
    const aB = peer();
    const aC = peer();
    const bA = peer();
    const cA = peer();
    if (learns === 'keepalive') {
      t.is(deliver(a, aB, keepalive(b)).n, TIMED_KEEPALIVE_LEN);
      t.is(deliver(a, aC, keepalive(c)).n, TIMED_KEEPALIVE_LEN);
    } else {
      atClock(T0, () => a.seal.offer(aB, { ...words(b), ts: T0 }));
      atClock(T0, () => a.seal.offer(aC, { ...words(c), ts: T0 }));
    }
    t.like(state(aB), held(b));
    t.like(state(aC), held(c));
    // B and C take A's session from A's keepalives, each addressed to it.
    const kB = keepalive(a, T0, aB);
    const kC = keepalive(a, T0, aC);
    t.true(sealAddressed(kB) && sealAddressed(kC));
    t.is(deliver(b, bA, kB).n, TIMED_KEEPALIVE_LEN);
    t.is(deliver(c, cA, kC).n, TIMED_KEEPALIVE_LEN);

    const forB = data(a, aB);
    t.true(sealAddressed(forB));
    t.deepEqual(deliver(b, bA, forB).payload, FRAME, 'B takes it');
    t.is(deliver(c, cA, forB).n, UNSEAL_DROPPED, 'C refuses the same bytes, replayed to it');
    t.deepEqual(drops(cA), { 'bad-auth': 1 });
    t.deepEqual(c.complaints, ['bad-auth']);
    t.is(deliver(c, cA, kB).n, UNSEAL_DROPPED, 'and the keepalive A addressed to B');
    t.deepEqual(drops(cA), { 'bad-auth': 2 });
    t.deepEqual(deliver(c, cA, data(a, aC)).payload, FRAME, 'what A seals for C, C takes');
    t.deepEqual(drops(bA), {});
  });
}

test('a datagram sealed for this switch before it restarted (its old session) is bad-auth, and the log line says so', (t) => {
  const tx = side(0x10);
  const before = side(0x20);
  const d = data(tx, before);
  const after = side(0x21);
  const p = peer();
  deliver(after, p, keepalive(tx));
  t.is(deliver(after, p, d).n, UNSEAL_DROPPED);
  t.deepEqual(drops(p), { 'bad-auth': 1 });
  t.deepEqual(after.messages, ['sent a datagram that failed authentication (a changed bit, a forgery, or one sealed for this switch before it restarted)']);
});

test('an unaddressed datagram that is not a timed keepalive is unknown-session, also in the session in use', (t) => {
  const { tx, rx, p } = adopted();
  const unaddressed = data(tx, null);
  t.false(sealAddressed(unaddressed), 'sealed by a switch that does not know the receiver\'s session');
  t.is(deliver(rx, p, unaddressed).n, UNSEAL_DROPPED);
  t.deepEqual(drops(p), { 'unknown-session': 1 });
  t.deepEqual(rx.complaints, [], 'counted, not logged');

  // An advertisement and an untimed keepalive, sealed without an address by hand: neither is taken.
  const advert = encodeOffloadAdvert([10]);
  const slot = Buffer.alloc(SEAL_OVERHEAD + advert.length);
  const body = slot.subarray(SEAL_HDR_LEN);
  for (const inner of [advert, KEEPALIVE]) {
    inner.copy(body);
    const len = tx.seal.sealer.seal(slot, body, inner.length);
    t.is(deliver(rx, p, slot.subarray(0, len)).n, UNSEAL_DROPPED);
  }
  t.deepEqual(drops(p), { 'unknown-session': 3 });
  t.deepEqual(deliver(rx, p, data(tx, rx)).payload, FRAME, 'addressed data of the session still passes');
});

test('an unaddressed datagram is refused before the replay window: its counter is not used up', (t) => {
  const { rx, p } = adopted();
  // The same counter, once unaddressed and once addressed: only the second is taken, and once.
  // `twin` is the sender's session (0x10) with a counter set by hand.
  const counterSab = new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT);
  const twin = side(0x10, { counterSab });
  new Float64Array(counterSab)[0] = 7;
  const unaddressed = data(twin, null);
  new Float64Array(counterSab)[0] = 7;
  const addressed = data(twin, rx);
  t.is(deliver(rx, p, unaddressed).n, UNSEAL_DROPPED);
  t.is(deliver(rx, p, addressed).n, FRAME.length);
  t.is(deliver(rx, p, addressed).n, UNSEAL_DROPPED);
  t.deepEqual(drops(p), { 'unknown-session': 1, replay: 1 });
});

// --- the session state across a thread restart ----------------------------------------------------

test('a PeerRec rebuilt over the same session memory refuses a datagram the previous one took', (t) => {
  const sab = new SharedArrayBuffer(SESSION_STATE_BYTES);
  const { tx, rx, p } = adopted(sab);
  const [d1, d2, d3] = [data(tx, rx), data(tx, rx), data(tx, rx)];
  t.is(deliver(rx, p, d1).n, FRAME.length);
  t.is(deliver(rx, p, d3).n, FRAME.length);
  // The peer thread restarts: a new PeerSeal and PeerRec, over the memory main kept.
  const rx2 = side(0x20);
  const p2 = peer(sab);
  t.deepEqual(state(p2), { ...held(tx), lastTs: T0 }, 'it knows the session without a keepalive');
  t.is(deliver(rx2, p2, d1).n, UNSEAL_DROPPED, 'taken before the restart');
  t.is(deliver(rx2, p2, d3).n, UNSEAL_DROPPED, 'the newest taken before the restart');
  t.deepEqual(drops(p2), { replay: 2 });
  t.deepEqual(deliver(rx2, p2, d2).payload, FRAME, 'one reordered across the restart still passes once');
  t.deepEqual(deliver(rx2, p2, data(tx, rx)).payload, FRAME, 'and new data');
  t.is(deliver(rx, p, d2).n, UNSEAL_DROPPED, 'what the new one took, the old memory holds too');
});

test('a PeerRec with memory of its own starts unknown: without main\'s memory the session would be lost', (t) => {
  const sab = new SharedArrayBuffer(SESSION_STATE_BYTES);
  const { tx, rx } = adopted(sab);
  const fresh = peer();
  t.false(fresh.session.known);
  t.is(deliver(rx, fresh, data(tx, rx)).n, UNSEAL_DROPPED);
  t.deepEqual(drops(fresh), { 'unknown-session': 1 });
  t.true(new SessionState(sab).known, 'main\'s memory is untouched by it');
});
