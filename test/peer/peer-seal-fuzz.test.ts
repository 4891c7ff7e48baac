// Hostile input against a keyed switch's opening of datagrams (src/peer/peer-seal.ts) and
// announcements (src/peer/announce-seal.ts): seeded random and mutated datagrams, sealed-
// looking or not, with the right key id or not, of every length up to a slot. Nothing
// throws, every datagram is taken or counted exactly once, none is taken that the peer did
// not seal, and a genuine datagram after the flood still opens.

import test from 'ava';
import { PEER_DROPS } from '../../src/core/counters.js';
import { AnnounceSeal, MAX_SEALED_ANNOUNCEMENT } from '../../src/peer/announce-seal.js';
import { UNSEAL_DROPPED } from '../../src/peer/peer-seal.js';
import { SEAL_HDR_LEN, SEAL_MAGIC } from '../../src/crypto/sealed-datagram.js';
import { mulberry32, randInt } from '../helpers/prng.js';
import { atClock } from '../helpers/seal-fixtures.js';
import { FRAME, RING, SKEW, T0, adopted, data, deliver, keepalive } from './peer-seal-fixtures.js';

const SLOT = 2048;

/** A random datagram: bytes, a genuine one with bytes changed, or a sealed-looking header with the right or a random key id. */
function hostile(rand: () => number, genuine: Buffer): Buffer {
  const kind = randInt(rand, 0, 3);
  const len = kind === 1 ? genuine.length : randInt(rand, 0, SLOT);
  const d = kind === 1 ? Buffer.from(genuine) : Buffer.alloc(len);
  if (kind !== 1) for (let i = 0; i < len; i++) d[i] = randInt(rand, 0, 255);
  else for (let n = randInt(rand, 1, 4); n > 0; n--) d[randInt(rand, 0, len - 1)] ^= 1 << randInt(rand, 0, 7);
  if (kind >= 2 && len > 8) {
    d[0] = SEAL_MAGIC;
    d[1] = randInt(rand, 0, 3);
    d[2] = 0;
    d[3] = 0;
    if (kind === 3) genuine.copy(d, 4, 4, 8);
  }
  return d;
}

test('20,000 hostile datagrams from a known peer: none throws, none is taken, each is counted once, and the peer is still understood after', (t) => {
  const { tx, rx, p } = adopted();
  const genuine = data(tx, rx);
  // Taken once now, so a mutation that flips a bit back is that datagram again: a replay.
  t.deepEqual(deliver(rx, p, genuine).payload, FRAME);
  const rand = mulberry32(0x5ea1);
  const total = (): number => PEER_DROPS.names.reduce((n, name) => n + p.drops[PEER_DROPS.index[name]], 0);
  const before = total();
  let taken = 0;
  const N = 20_000;
  for (let i = 0; i < N; i++) {
    const d = hostile(rand, genuine);
    const r = deliver(rx, p, d);
    if (r.n !== UNSEAL_DROPPED) taken++;
  }
  t.is(taken, 0, 'no forged or damaged datagram is taken');
  t.is(total() - before, N, 'each counted under exactly one reason');
  t.true(rx.complaints.length <= 4, `logged once per reason until it works again: ${rx.complaints.join(', ')}`);
  const after = deliver(rx, p, data(tx, rx));
  t.deepEqual(after.payload, FRAME, 'the peer is understood after the flood');
  t.is(deliver(rx, p, keepalive(tx, T0 + 1, rx)).n > 0, true);
});

test('hostile announcements: none throws or is taken, each gets one named reason, and a genuine one still opens', (t) => {
  const session = Uint8Array.from([9, 8, 7, 6, 5, 4, 3, 2]);
  const rx = new AnnounceSeal(Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 1]), RING.discoveryKeys(), RING.sendId, SKEW, 64);
  const tx = new AnnounceSeal(session, RING.discoveryKeys(), RING.sendId, SKEW, 64);
  const genuine = atClock(T0, () => tx.seal(Buffer.from('10.0.0.9:3333', 'latin1')));
  const rand = mulberry32(0xa11);
  const reasons = new Map<string, number>();
  for (let i = 0; i < 10_000; i++) {
    const d = hostile(rand, genuine).subarray(0, randInt(rand, SEAL_HDR_LEN, MAX_SEALED_ANNOUNCEMENT + 64));
    const r = atClock(T0, () => rx.open(Buffer.from(d)));
    t.false(r.ok && !d.equals(genuine), 'a changed announcement never opens');
    if (!r.ok) reasons.set(r.counter, (reasons.get(r.counter) ?? 0) + 1);
  }
  t.true((reasons.get('bad-auth') ?? 0) > 0 && (reasons.get('unknown-key') ?? 0) > 0, JSON.stringify([...reasons]));
  const ok = atClock(T0, () => rx.open(genuine));
  t.true(ok.ok && ok.text.toString('latin1') === '10.0.0.9:3333');
});
