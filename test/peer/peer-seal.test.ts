// Tests for src/peer/peer-seal.ts: a keyed switch takes a peer's sealed datagrams from one
// session at a time — adopted from a fresh timed keepalive or offered by main — drops
// replays, datagrams of other sessions, unsealed, forged and stale ones under their
// counters, and logs each reason once until the peer works again. Everything but a
// keepalive is sealed addressed to the receiver's session, so it opens only there: a
// datagram sealed for one switch is refused by another holding the same key. The session
// state lives in memory main keeps, so a rebuilt PeerRec (a restarted peer thread) goes on
// with it. Each PeerRec keeps the subkeys of its peer's datagrams (rxKey) and of ours to it
// (txKey), made once per pair of sessions and again after a key rotation. A switch without
// a key refuses sealed datagrams as `keyed`. Pure units on ava's thread; the clock is
// Date.now, replaced within a test and always restored.

import test from 'ava';
import { PEER_DROPS, type PeerDropName } from '../../src/core/counters.js';
import { keyFromSecret } from '../../src/crypto/cluster-key.js';
import { HChaCha20 } from '../../src/crypto/hchacha20.js';
import { KeyRing } from '../../src/crypto/key-ring.js';
import { SESSION_STATE_BYTES, SessionState } from '../../src/crypto/session-state.js';
import { sockaddrFor } from '../../src/linux/udp-socket.js';
import type { PeerSealStart } from '../../src/peer/peer-io-messages.js';
import { PeerRec } from '../../src/peer/peer-record.js';
import { PeerSeal, UNSEAL_DROPPED } from '../../src/peer/peer-seal.js';
import { KEEPALIVE, KEEPALIVE_LEN, TIMED_KEEPALIVE_LEN } from '../../src/peer/wire/keepalive.js';
import { encodeOffloadAdvert } from '../../src/peer/wire/offload-advert.js';
import { SEAL_COUNTER_AT, SEAL_HDR_LEN, SEAL_OVERHEAD, SEAL_SESSION_AT, readTimestamp, sealAddressed, sealKeyId, sealWord, writeTimestamp } from '../../src/peer/wire/sealed-datagram.js';
import { hchacha20Ref } from '../crypto/libsodium-reference.js';

const SKEW = 30_000;
const T0 = 1_700_000_000_000;
const RING = new KeyRing(keyFromSecret(Buffer.alloc(32, 0x5a)), 'test', true);
const OTHER = new KeyRing(keyFromSecret(Buffer.alloc(32, 0xa5)), 'test', true);
/** A vid word (VLAN 10) and a 60-byte broadcast frame: what a peer datagram carries. */
const FRAME = Buffer.concat([Buffer.from('0000000a', 'hex'), Buffer.alloc(6, 0xff), Buffer.from('525400000001', 'hex'), Buffer.from('0806', 'hex'), Buffer.alloc(46, 0x11)]);

/** Run fn with Date.now standing at `ms`; the real clock is back afterwards, whatever happens. */
function atClock<T>(ms: number, fn: () => T): T {
  const real = Date.now;
  Date.now = () => ms;
  try {
    return fn();
  } finally {
    Date.now = real;
  }
}

/** One switch's PeerSeal, with the complaints it logged (reasons, and the lines). */
interface Side {
  seal: PeerSeal;
  session: Uint8Array;
  complaints: string[];
  messages: string[];
}

function side(first: number, opts: { ring?: KeyRing; counterSab?: SharedArrayBuffer; encrypt?: boolean } = {}): Side {
  const ring = opts.ring ?? RING;
  const session = Uint8Array.from({ length: 8 }, (_, i) => first + i);
  const start: PeerSealStart = {
    session,
    counterSab: opts.counterSab ?? new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT),
    keys: ring.dataKeys(),
    sendId: ring.sendId,
    encrypt: opts.encrypt ?? true,
    skewMs: SKEW,
  };
  const complaints: string[] = [];
  const messages: string[] = [];
  const seal = new PeerSeal(start, (_p, reason, message) => {
    complaints.push(reason);
    messages.push(message);
  });
  return { seal, session, complaints, messages };
}

/** A switch's record of a peer at 127.0.0.1:3333, its session state in `sab` (main's memory) or private. */
function peer(sab: SharedArrayBuffer | null = null): PeerRec {
  return new PeerRec(1, 1, sockaddrFor('udp4', '127.0.0.1', 3333), sab);
}

/** The session of a side as two words, as a PeerSession holds it. */
function words(s: Side): { hi: number; lo: number } {
  const b = Buffer.from(s.session);
  return { hi: b.readUInt32BE(0), lo: b.readUInt32BE(4) };
}

/** The session of a side as p.session holds it once taken. */
function held(s: Side): { known: true; hi: number; lo: number } {
  return { known: true, ...words(s) };
}

/** What p.session holds. */
function state(p: PeerRec | SessionState): { known: boolean; hi: number; lo: number; lastTs: number } {
  const st = p instanceof PeerRec ? p.session : p;
  return { known: st.known, hi: st.hi, lo: st.lo, lastTs: st.lastTs };
}

/** tx's record of rx, knowing rx's session: main offered it from rx's announcement at T0. */
function toward(tx: Side, rx: Side): PeerRec {
  const r = peer();
  atClock(T0, () => tx.seal.offer(r, { ...words(rx), ts: T0 }));
  if (!r.session.is(words(rx).hi, words(rx).lo)) throw new Error('the offer was not taken');
  return r;
}

/** tx's record of the receiver: the one given, one knowing the Side's session, or (null) one knowing none. */
function recOf(tx: Side, to: PeerRec | Side | null): PeerRec {
  if (to === null) return peer();
  return to instanceof PeerRec ? to : toward(tx, to);
}

/** A timed keepalive from `tx`, sealed at clock `ms` for `to` (by default unaddressed: tx knows no session of the receiver). */
function keepalive(tx: Side, ms = T0, to: PeerRec | Side | null = null): Buffer {
  const r = recOf(tx, to);
  const len = atClock(ms, () => tx.seal.keepalive(r));
  return Buffer.from(tx.seal.controlSlot.subarray(0, len));
}

/** `payload` (by default a frame) sealed by `tx` for `to` as the peer I/O thread seals data (sealFor). */
function data(tx: Side, to: PeerRec | Side | null, payload: Buffer = FRAME): Buffer {
  const r = recOf(tx, to);
  const slot = Buffer.alloc(SEAL_OVERHEAD + payload.length);
  const body = slot.subarray(SEAL_HDR_LEN);
  payload.copy(body);
  const len = tx.seal.sealFor(r, slot, body, payload.length);
  return Buffer.from(slot.subarray(0, len));
}

/** unseal() of a copy of `datagram` from p at clock `ms`: the result, and the payload when taken. */
function deliver(rx: Side, p: PeerRec, datagram: Buffer, ms = T0): { n: number; payload: Buffer | null } {
  const slot = Buffer.alloc(2048);
  datagram.copy(slot);
  const body = slot.subarray(SEAL_HDR_LEN);
  const n = atClock(ms, () => rx.seal.unseal(p, slot, body, datagram.length));
  return { n, payload: n === UNSEAL_DROPPED ? null : Buffer.from(body.subarray(0, n)) };
}

/** p's drops that are not zero, by name. */
function drops(p: PeerRec): Partial<Record<PeerDropName, number>> {
  return Object.fromEntries(Object.entries(PEER_DROPS.toRecord(p.drops)).filter(([, n]) => n !== 0));
}

/** A receiver that has taken the sender's session from a keepalive at T0; its state in `sab`. */
function adopted(sab: SharedArrayBuffer | null = null): { tx: Side; rx: Side; p: PeerRec } {
  const tx = side(0x10);
  const rx = side(0x20);
  const p = peer(sab);
  if (deliver(rx, p, keepalive(tx)).n !== TIMED_KEEPALIVE_LEN) throw new Error('the keepalive was not taken');
  return { tx, rx, p };
}

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
