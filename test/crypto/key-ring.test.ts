// Tests for src/crypto/key-ring.ts: the subkeys derived from each cluster key, `key add`,
// `key use` and `key remove` with the errors each refuses with, the listing `show keys`
// prints (never a secret), and the change callback the sealers follow. Pure units on
// ava's thread.

import test from 'ava';
import type { ExecutionContext } from 'ava';
import { hkdfSync } from 'node:crypto';
import { DivesError, type DivesErrorCode } from '../../src/core/errors.js';
import { keyFromSecret, type ClusterKey } from '../../src/crypto/cluster-key.js';
import { MAX_KEYS } from '../../src/crypto/datagram-sealer.js';
import { KeyRing, keyIdHex } from '../../src/crypto/key-ring.js';

/** A key whose secret is 32 bytes of `fill`. */
function key(fill: number): ClusterKey {
  return keyFromSecret(Buffer.alloc(32, fill));
}
const K1 = key(1);
const K2 = key(2);
const T0 = Date.parse('2025-03-04T05:06:07.000Z');

/** A ring holding K1 from /keys/one, on a clock that stands at T0, and the onChange calls it made. */
function ring(): { r: KeyRing; changes: string[][] } {
  const r = new KeyRing(K1, '/keys/one', true, () => T0);
  const changes: string[][] = [];
  r.onChange = () => changes.push(r.ids());
  return { r, changes };
}

/** The subkey the wire format defines: HKDF-SHA256, no salt, 32 bytes, the info string naming its use. */
function expectedSubkey(secret: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), info, 32));
}

function refused(t: ExecutionContext, code: DivesErrorCode, fn: () => unknown): string {
  const err = t.throws(fn, { instanceOf: DivesError });
  t.is(err?.code, code);
  return err?.message ?? '';
}

// --- subkeys ------------------------------------------------------------------------------

test('the data and discovery subkeys are HKDF-SHA256 of the secret under their own info strings', (t) => {
  const { r } = ring();
  const [data] = r.dataKeys();
  const [discovery] = r.discoveryKeys();
  t.is(data.id, K1.id);
  t.is(discovery.id, K1.id);
  t.deepEqual(Buffer.from(data.key), expectedSubkey(K1.secret, 'DiVES peer datagrams v1'));
  t.deepEqual(Buffer.from(discovery.key), expectedSubkey(K1.secret, 'DiVES discovery v1'));
});

test('the subkeys differ from each other and from the secret, and from those of another key', (t) => {
  const { r } = ring();
  r.add(K2, '/keys/two');
  const all = [K1.secret, K2.secret, ...r.dataKeys().map((k) => k.key), ...r.discoveryKeys().map((k) => k.key)].map((b) => Buffer.from(b).toString('hex'));
  t.is(all.length, 6);
  t.is(new Set(all).size, 6);
  for (const k of r.dataKeys()) t.is(k.key.length, 32);
});

test('two rings of the same secret derive the same subkeys', (t) => {
  const a = new KeyRing(K1, 'a', false);
  const b = new KeyRing(keyFromSecret(Buffer.from(K1.secret)), 'b', true);
  t.deepEqual(a.dataKeys(), b.dataKeys());
  t.deepEqual(a.discoveryKeys(), b.discoveryKeys());
});

// --- add, use, remove ---------------------------------------------------------------------

test('a new ring holds its first key and seals with it', (t) => {
  const { r } = ring();
  t.is(r.sendId, K1.id);
  t.deepEqual(r.ids(), [K1.idHex]);
  t.true(r.encrypt);
  t.false(new KeyRing(K1, 'x', false).encrypt);
});

test('add accepts a second key without sealing with it; use switches to it and keeps the first accepted', (t) => {
  const { r, changes } = ring();
  r.add(K2, '/keys/two');
  t.is(r.sendId, K1.id);
  t.deepEqual(r.dataKeys().map((k) => k.id), [K1.id, K2.id]);
  r.use(K2.idHex);
  t.is(r.sendId, K2.id);
  t.deepEqual(r.ids(), [K1.idHex, K2.idHex]);
  r.remove(K1.idHex);
  t.deepEqual(r.ids(), [K2.idHex]);
  t.deepEqual(changes, [[K1.idHex, K2.idHex], [K1.idHex, K2.idHex], [K2.idHex]], 'onChange after each change, with the change made');
});

test('use of the key already in use changes nothing and calls no onChange', (t) => {
  const { r, changes } = ring();
  r.use(K1.idHex);
  t.deepEqual(changes, []);
});

test('ids are matched without regard to case', (t) => {
  const { r } = ring();
  r.add(K2, '/keys/two');
  r.use(K2.idHex.toUpperCase());
  t.is(r.sendId, K2.id);
  r.remove(K1.idHex.toUpperCase());
  t.deepEqual(r.ids(), [K2.idHex]);
});

test('adding a key held already is refused with EATTACHED', (t) => {
  const { r, changes } = ring();
  t.regex(refused(t, 'EATTACHED', () => r.add(keyFromSecret(Buffer.from(K1.secret)), '/elsewhere')), new RegExp(`key ${K1.idHex} is held already`));
  t.deepEqual(changes, []);
});

test(`adding a key past MAX_KEYS (${MAX_KEYS}) is refused with EBADARG`, (t) => {
  const { r, changes } = ring();
  for (let i = 2; i <= MAX_KEYS; i++) r.add(key(i), `/keys/${i}`);
  t.is(r.ids().length, MAX_KEYS);
  t.regex(refused(t, 'EBADARG', () => r.add(key(99), '/keys/99')), /holds 4 keys already; remove one with "key remove ID" first/);
  t.is(r.ids().length, MAX_KEYS);
  t.is(changes.length, MAX_KEYS - 1);
});

test('use or remove of a key not held is refused with ENOTATTACHED, listing those held', (t) => {
  const { r, changes } = ring();
  t.is(refused(t, 'ENOTATTACHED', () => r.use('0badc0de')), `no key 0badc0de is held; "show keys" lists them (${K1.idHex})`);
  refused(t, 'ENOTATTACHED', () => r.remove('0badc0de'));
  t.deepEqual(changes, []);
});

test('removing the key in use is refused with EBADARG', (t) => {
  const { r, changes } = ring();
  r.add(K2, '/keys/two');
  t.regex(refused(t, 'EBADARG', () => r.remove(K1.idHex)), /is the one this switch seals with; "key use" another first/);
  t.deepEqual(r.ids(), [K1.idHex, K2.idHex]);
  t.is(changes.length, 1, 'only the add');
});

// --- what is shown --------------------------------------------------------------------------

test('list() gives each key\'s id, role, source and since', (t) => {
  const { r } = ring();
  r.add(K2, '/keys/two');
  t.deepEqual(r.list(), [
    { id: K1.idHex, role: 'send', source: '/keys/one', since: '2025-03-04T05:06:07.000Z' },
    { id: K2.idHex, role: 'accept', source: '/keys/two', since: '2025-03-04T05:06:07.000Z' },
  ]);
  r.use(K2.idHex);
  t.deepEqual(r.list().map((k) => k.role), ['accept', 'send']);
});

test('neither list() nor any refusal holds a secret or a subkey', (t) => {
  const { r } = ring();
  r.add(K2, '/keys/two');
  const secrets = [K1.secret, K2.secret, ...r.dataKeys().map((k) => k.key), ...r.discoveryKeys().map((k) => k.key)].flatMap((b) => {
    const hex = Buffer.from(b).toString('hex');
    return [hex, hex.toUpperCase(), Buffer.from(b).toString('base64')];
  });
  const texts = [JSON.stringify(r.list())];
  for (const fn of [() => r.add(K2, 'x'), () => r.remove(K1.idHex), () => r.use('nope')]) {
    try {
      fn();
    } catch (err) {
      texts.push(String(err), JSON.stringify(err));
    }
  }
  t.is(texts.length, 7);
  for (const text of texts) for (const s of secrets) t.false(text.includes(s), `${text} holds a secret`);
});

test('keyIdHex prints a uint32 as 8 lowercase hex digits', (t) => {
  t.is(keyIdHex(1), '00000001');
  t.is(keyIdHex(0xdeadbeef), 'deadbeef');
  t.is(keyIdHex(-1), 'ffffffff');
  t.is(keyIdHex(K1.id), K1.idHex);
});
