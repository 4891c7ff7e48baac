// Tests for src/peer/announce-seal.ts: switches holding the same cluster key open each
// other's sealed announcements and know their own; an announcement is standard
// XChaCha20-Poly1305 under the discovery subkey (checked against libsodium through
// sodium-native); a changed bit, another key, a clock too far off or a replay are each
// refused with their counter. Pure units on ava's thread; the clock is Date.now, replaced
// within a test and always restored.

import test from 'ava';
import { keyFromSecret } from '../../src/crypto/cluster-key.js';
import { loadAead } from '../../src/crypto/aead.js';
import { DatagramSealer } from '../../src/crypto/datagram-sealer.js';
import { KeyRing } from '../../src/crypto/key-ring.js';
import { AnnounceSeal, MAX_SEALED_ANNOUNCEMENT } from '../../src/peer/announce-seal.js';
import { MAX_ANNOUNCEMENT } from '../../src/peer/wire/announcement.js';
import {
  SEAL_COUNTER_AT,
  SEAL_HDR_LEN,
  SEAL_MAC_LEN,
  SEAL_OVERHEAD,
  SEAL_SESSION_AT,
  looksSealed,
  sealAddressed,
  sealEncrypted,
  sealKeyId,
  writeSealHeader,
  writeTimestamp,
} from '../../src/crypto/sealed-datagram.js';
import { xchachaOpenRef, xchachaSealRef } from '../crypto/libsodium-reference.js';
import { atClock } from '../helpers/seal-fixtures.js';

const SKEW = 30_000;
const TEXT = Buffer.from('10.0.0.1:4789');

const RING = new KeyRing(keyFromSecret(Buffer.alloc(32, 0x5a)), 'test', false);
const OTHER = new KeyRing(keyFromSecret(Buffer.alloc(32, 0xa5)), 'test', false);

function session(first: number): Uint8Array {
  return Uint8Array.from({ length: 8 }, (_, i) => first + i);
}

function seal(s: Uint8Array, ring = RING, remember = 16): AnnounceSeal {
  return new AnnounceSeal(s, ring.discoveryKeys(), ring.sendId, SKEW, remember);
}

// --- opening announcements ----------------------------------------------------------------

test('a switch opens the announcement of another holding the same key: its text, session and time', (t) => {
  const a = seal(session(0x10));
  const b = seal(session(0x20));
  const msg = atClock(1_700_000_000_000, () => a.seal(TEXT));
  t.true(looksSealed(msg, msg.length));
  t.false(sealEncrypted(msg), 'announcements are authenticated, not encrypted');
  t.false(sealAddressed(msg), 'nor addressed: every switch holding the key opens them');
  t.is(msg.length, SEAL_OVERHEAD + 8 + TEXT.length);
  const opened = atClock(1_700_000_000_500, () => b.open(msg));
  t.deepEqual(opened, { ok: true, text: TEXT, session: { hi: 0x1011_1213, lo: 0x1415_1617, ts: 1_700_000_000_000 } });
  t.true(atClock(1_700_000_000_000, () => a.open(msg)).ok, 'its own opens too');
  t.true(atClock(1_700_000_000_000, () => seal(session(0x30)).open(msg)).ok, 'and a third switch\'s');
});

test('isOwn is true for this switch\'s own announcements only', (t) => {
  const a = seal(session(0x10));
  const b = seal(session(0x20));
  t.true(a.isOwn(a.seal(TEXT)));
  t.false(a.isOwn(b.seal(TEXT)));
  t.false(b.isOwn(a.seal(TEXT)));
  const twin = session(0x10);
  twin[7] ^= 1;
  t.false(seal(twin).isOwn(a.seal(TEXT)), 'a session differing only in its last byte');
});

test('each announcement is stamped later than the one before, even when the clock stands still or goes back', (t) => {
  const a = seal(session(0x10));
  const b = seal(session(0x20));
  const stamps = [5000, 5000, 4000].map((now) =>
    atClock(1_700_000_000_000 + now, () => {
      const opened = b.open(a.seal(TEXT));
      return opened.ok ? opened.session.ts - 1_700_000_000_000 : -1;
    }),
  );
  t.deepEqual(stamps, [5000, 5001, 5002]);
});

test('a new key takes effect with setKeys: the old receiver no longer knows it', (t) => {
  const a = seal(session(0x10));
  const b = seal(session(0x20));
  a.setKeys(OTHER.discoveryKeys(), OTHER.sendId);
  t.like(b.open(a.seal(TEXT)), { ok: false, counter: 'unknown-key' });
  b.setKeys([...RING.discoveryKeys(), ...OTHER.discoveryKeys()], RING.sendId);
  t.like(b.open(a.seal(TEXT)), { ok: true, text: TEXT });
});

test('an announcement is XChaCha20-Poly1305 under the discovery subkey, as libsodium computes it: unaddressed, header and payload all in the AD', (t) => {
  const a = seal(session(0x10));
  const msg = atClock(1_700_000_000_000, () => a.seal(TEXT));
  const discovery = RING.discoveryKeys()[0].key;
  // nonce: the sender's session, 8 zero bytes (unaddressed), the counter.
  const nonce = Buffer.concat([msg.subarray(SEAL_SESSION_AT, SEAL_SESSION_AT + 8), Buffer.alloc(8), msg.subarray(SEAL_COUNTER_AT, SEAL_COUNTER_AT + 8)]);
  const signed = msg.subarray(0, msg.length - SEAL_MAC_LEN);
  const mac = msg.subarray(msg.length - SEAL_MAC_LEN);
  t.deepEqual(xchachaSealRef(Buffer.alloc(0), signed, nonce, discovery).mac, Buffer.from(mac));
  t.not(xchachaOpenRef(Buffer.alloc(0), mac, signed, nonce, discovery), null);
  t.is(xchachaOpenRef(Buffer.alloc(0), mac, signed, nonce, RING.dataKeys()[0].key), null, 'not under the data subkey');
});

test('an announcement libsodium sealed by the wire format opens, with its text, session and time', (t) => {
  const header = Buffer.alloc(SEAL_HDR_LEN);
  const sender = session(0x50);
  writeSealHeader(header, RING.sendId, sender, 0, 77, false);
  const payload = Buffer.alloc(8 + TEXT.length);
  writeTimestamp(payload, 0, 1_700_000_000_000);
  TEXT.copy(payload, 8);
  const signed = Buffer.concat([header, payload]);
  const nonce = Buffer.concat([sender, Buffer.alloc(8), header.subarray(SEAL_COUNTER_AT)]);
  const msg = Buffer.concat([signed, xchachaSealRef(Buffer.alloc(0), signed, nonce, RING.discoveryKeys()[0].key).mac]);
  t.deepEqual(atClock(1_700_000_000_000, () => seal(session(0x20)).open(msg)), { ok: true, text: TEXT, session: { hi: 0x5051_5253, lo: 0x5455_5657, ts: 1_700_000_000_000 } });
});

test('one switch seals its own and opens many others\' by turns, every one genuine', (t) => {
  const me = seal(session(0x10));
  const others = [0x20, 0x30, 0x40].map((first) => seal(session(first)));
  const mine: Buffer[] = [];
  for (let round = 0; round < 3; round++) {
    for (const o of others) {
      mine.push(me.seal(TEXT));
      const theirs = o.seal(TEXT);
      t.like(me.open(theirs), { ok: true, text: TEXT });
      t.true(o.open(mine[mine.length - 1]).ok);
    }
  }
  for (const m of mine) t.true(me.open(m).ok, 'its own, afterwards');
});

// --- what is refused ------------------------------------------------------------------------

test('a changed bit anywhere is refused as bad-auth, outside the key id', (t) => {
  const a = seal(session(0x10));
  const b = seal(session(0x20));
  const msg = a.seal(TEXT);
  for (const at of [0, 1, 8, 16, 23, SEAL_HDR_LEN, SEAL_HDR_LEN + 8, msg.length - 1]) {
    const changed = Buffer.from(msg);
    changed[at] ^= 0x04;
    const opened = b.open(changed);
    t.like(opened, { ok: false, counter: 'bad-auth', reason: 'it failed authentication (a wrong key, a changed bit or a forgery)' }, `byte ${at}`);
  }
  t.true(b.open(msg).ok, 'the datagram given is not changed by opening it');
});

test('an announcement sealed with a key not held is unknown-key, naming both ids', (t) => {
  const stranger = seal(session(0x30), OTHER);
  const b = seal(session(0x20));
  const opened = b.open(stranger.seal(TEXT));
  t.like(opened, { ok: false, counter: 'unknown-key' });
  t.is(
    opened.ok ? '' : opened.reason,
    `it is sealed with key ${OTHER.ids()[0]}, which this switch does not hold (it holds ${RING.ids()[0]})`,
  );
});

test('an announcement sealed with the data subkey instead of the discovery one is bad-auth', (t) => {
  const wrong = new AnnounceSeal(session(0x30), RING.dataKeys(), RING.sendId, SKEW, 16);
  t.like(seal(session(0x20)).open(wrong.seal(TEXT)), { ok: false, counter: 'bad-auth' });
});

test('an announcement too short or too long to be genuine is bad-auth before any check', (t) => {
  const b = seal(session(0x20));
  const short = seal(session(0x10)).seal(Buffer.alloc(0));
  t.is(short.length, SEAL_OVERHEAD + 8);
  t.like(b.open(short), { ok: false, counter: 'bad-auth', reason: `a sealed announcement of ${short.length} bytes cannot be genuine` });
  const long = Buffer.alloc(MAX_SEALED_ANNOUNCEMENT + 1);
  t.like(b.open(long), { ok: false, counter: 'bad-auth' });
  t.is(MAX_SEALED_ANNOUNCEMENT, SEAL_OVERHEAD + 8 + MAX_ANNOUNCEMENT);
  const longest = seal(session(0x10)).seal(Buffer.alloc(MAX_ANNOUNCEMENT, 0x41));
  t.like(b.open(longest), { ok: true }, 'the longest announcement opens');
});

test('an announcement stamped beyond the allowed skew, behind or ahead, is stale; one just inside is taken', (t) => {
  const now = 1_700_000_000_000;
  const b = seal(session(0x20));
  for (const [offset, ok] of [
    [-SKEW - 1, false],
    [-SKEW, true],
    [SKEW, true],
    [SKEW + 1, false],
    [-86_400_000, false],
  ] as const) {
    const msg = atClock(now + offset, () => seal(session(0x10)).seal(TEXT));
    const opened = atClock(now, () => b.open(msg));
    t.is(opened.ok, ok, `stamped ${offset} ms from now`);
    if (!opened.ok) {
      t.is(opened.counter, 'stale');
      t.regex(opened.reason, new RegExp(`^it is stamped ${new Date(now + offset).toISOString().replace(/\./g, '\\.')}, more than 30 s from this host's clock`));
    }
  }
});

test('an announcement whose timestamp is not a valid time is stale', (t) => {
  // Sealed by hand with the discovery subkey, as AnnounceSeal would, but with a timestamp past 2^53.
  const slot = Buffer.alloc(SEAL_OVERHEAD + 8 + TEXT.length);
  const body = slot.subarray(SEAL_HDR_LEN);
  const sealer = new DatagramSealer(loadAead(), session(0x40), new Float64Array(1), false);
  sealer.setKeys(RING.discoveryKeys(), RING.sendId);
  writeTimestamp(body, 0, 0);
  body.fill(0xff, 0, 4);
  TEXT.copy(body, 8);
  const len = sealer.seal(slot, body, 8 + TEXT.length);
  t.is(sealKeyId(slot), RING.sendId);
  t.like(seal(session(0x20)).open(slot.subarray(0, len)), {
    ok: false,
    counter: 'stale',
    reason: "it is with no valid time, more than 30 s from this host's clock (a replay, or clocks apart: check NTP)",
  });
});

// --- replays --------------------------------------------------------------------------------

test('fresh() takes a newer timestamp from a HOST:PORT and refuses an equal or older one', (t) => {
  const b = seal(session(0x20));
  t.true(b.fresh('10.0.0.1:4789', 1000));
  t.false(b.fresh('10.0.0.1:4789', 1000), 'the same announcement again');
  t.false(b.fresh('10.0.0.1:4789', 999));
  t.true(b.fresh('10.0.0.2:4789', 999), 'another announcer is remembered apart');
  t.true(b.fresh('10.0.0.1:4789', 1001));
  t.false(b.fresh('10.0.0.1:4789', 1000), 'the newest is what counts');
});

test('fresh() remembers at most `remember` announcers, forgetting the least recently taken', (t) => {
  const b = seal(session(0x20), RING, 2);
  t.true(b.fresh('a', 10));
  t.true(b.fresh('b', 10));
  t.true(b.fresh('a', 11), 'a is now the most recent');
  t.true(b.fresh('c', 10), 'a third: b, the oldest, is forgotten');
  t.false(b.fresh('a', 11), 'a is remembered');
  t.false(b.fresh('c', 10), 'c is remembered');
  t.true(b.fresh('b', 10), 'b was forgotten, so its old timestamp is taken again');
});
