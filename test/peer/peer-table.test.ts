// Tests for src/peer/peer-table.ts: how peers appear, stay up, expire and come back,
// for discovered and static peers, with the clock passed in. Pure units.

import test from 'ava';
import { PeerTable, canonicalAddress, peerKey } from '../../src/peer/peer-table.js';

const table = () => new PeerTable({ intervalMs: 1000, expiryIntervals: 3 });

test('a peer appears up on its first announcement and later ones only refresh it', (t) => {
  const pt = table();
  const first = pt.announce('10.0.0.2', 3333, '10.0.0.2', 1000);
  t.like(first, { created: true, wentUp: true, entry: { key: '10.0.0.2:3333', learned: 'discovered', state: 'up', lastHeardMs: 1000 } });
  const again = pt.announce('10.0.0.2', 3333, '10.0.0.2', 2000);
  t.like(again, { created: false, wentUp: false, entry: { lastHeardMs: 2000 } });
  t.is(again.entry.id, first.entry.id);
  t.is(pt.list().length, 1);
});

test('a discovered peer expires after 3 missed intervals, is forgotten, and comes back as a new peer', (t) => {
  const pt = table();
  const { entry } = pt.announce('10.0.0.2', 3333, '10.0.0.2', 0);
  t.deepEqual(pt.expire(3000), { removed: [], down: [] }, 'exactly 3 intervals is not yet missed');
  const gone = pt.expire(3001);
  t.deepEqual(gone.removed.map((p) => p.key), ['10.0.0.2:3333']);
  t.deepEqual(pt.list(), []);
  const back = pt.announce('10.0.0.2', 3333, '10.0.0.2', 5000);
  t.true(back.created && back.wentUp);
  t.not(back.entry.id, entry.id, 'a rediscovered peer is a new peer');
});

test('a static peer starts down, goes up when heard, goes down on expiry and stays configured', (t) => {
  const pt = table();
  const added = pt.addStatic('10.0.0.3', 3333, '10.0.0.3');
  t.like(added, { created: true, entry: { learned: 'static', state: 'down', lastHeardMs: -1 } });
  const id = added?.entry.id ?? -1;
  t.deepEqual(pt.expire(1e9), { removed: [], down: [] }, 'a peer never heard does not expire');
  t.like(pt.heard(id, 100), { wentUp: true, entry: { state: 'up' } });
  t.like(pt.heard(id, 900), { wentUp: false });
  t.deepEqual(pt.expire(4000).down.map((p) => p.id), [id]);
  t.like(pt.get('10.0.0.3:3333'), { state: 'down', learned: 'static' });
  t.like(pt.heard(id, 5000), { wentUp: true });
  t.is(pt.heard(999, 5000), undefined, 'an unknown id is nobody');
});

test('configuring a discovered peer as static keeps its state; configuring it twice is refused', (t) => {
  const pt = table();
  pt.announce('node7.example', 3333, '10.0.0.7', 0);
  t.like(pt.addStatic('NODE7.example', 3333, '10.0.0.7'), { created: false, entry: { learned: 'static', state: 'up' } });
  t.is(pt.addStatic('node7.example', 3333, '10.0.0.7'), null);
  t.deepEqual(pt.staticPeers(), [{ host: 'node7.example', port: 3333 }]);
});

test('removing a static peer forgets it; a discovered one cannot be removed that way', (t) => {
  const pt = table();
  pt.addStatic('10.0.0.3', 3333, '10.0.0.3');
  pt.announce('10.0.0.4', 3333, '10.0.0.4', 0);
  t.is(pt.removeStatic('10.0.0.4', 3333), undefined);
  t.like(pt.removeStatic('10.0.0.3', 3333), { key: '10.0.0.3:3333' });
  t.is(pt.removeStatic('10.0.0.3', 3333), undefined);
  t.deepEqual(pt.list().map((p) => p.key), ['10.0.0.4:3333']);
  t.deepEqual(pt.staticPeers(), []);
});

test('peer keys lowercase names and write IPv6 canonically in brackets', (t) => {
  t.is(peerKey('10.0.0.2', 3333), '10.0.0.2:3333');
  t.is(peerKey('Node7.Example', 4000), 'node7.example:4000');
  t.is(peerKey('2001:DB8:0:0::7', 3333), '[2001:db8::7]:3333');
  t.is(peerKey('::1', 1), '[::1]:1');
});

test('the expiry time follows the interval and the number of intervals', (t) => {
  t.is(new PeerTable({ intervalMs: 500, expiryIntervals: 3 }).expiryMs, 1500);
  t.is(new PeerTable({ intervalMs: 1000, expiryIntervals: 5 }).expiryMs, 5000);
});

test('peer addresses are kept in the form the peer socket reports senders in', (t) => {
  const pt = table();
  t.is(pt.addStatic('2001:DB8::0:7', 3333, '2001:DB8::0:7')?.entry.address, '2001:db8::7');
  t.is(pt.announce('10.0.0.2', 3333, '10.0.0.2', 0).entry.address, '10.0.0.2');
  t.is(canonicalAddress('::FFFF:A00:1'), '::ffff:10.0.0.1');
});

test('the table counts its discovered peers, which static ones are not, for --max-peers', (t) => {
  const pt = table();
  pt.announce('10.0.0.2', 3333, '10.0.0.2', 0);
  pt.announce('10.0.0.3', 3333, '10.0.0.3', 0);
  pt.addStatic('10.0.0.9', 3333, '10.0.0.9');
  t.is(pt.discoveredCount, 2);
  pt.addStatic('10.0.0.3', 3333, '10.0.0.3');
  t.is(pt.discoveredCount, 1, 'a discovered peer made static is the operator\'s');
  pt.expire(10_000);
  t.is(pt.discoveredCount, 0);
  t.is(pt.list().length, 2, 'the static peers stay');
});

test('a peer heard only by sockaddr announcements is legacy; a text announcement or a keepalive makes it a DiVES peer at once', (t) => {
  const pt = table();
  const first = pt.announce('10.0.0.5', 3333, '10.0.0.5', 0, 'sockaddr');
  t.like(first, { created: true, wentUp: true, legacyChanged: true, entry: { legacy: true, state: 'up' } });
  t.like(pt.announce('10.0.0.5', 3333, '10.0.0.5', 1000, 'sockaddr'), { wentUp: false, legacyChanged: false, entry: { legacy: true } });
  t.like(pt.announce('10.0.0.5', 3333, '10.0.0.5', 1500, 'text'), { legacyChanged: true, entry: { legacy: false } });
  // Both formats from one address: DiVES wins while its proofs keep coming.
  t.like(pt.announce('10.0.0.5', 3333, '10.0.0.5', 2000, 'sockaddr'), { legacyChanged: false, entry: { legacy: false } });
  t.deepEqual(pt.demote(4500), [], 'the text announcement is 3 s old: not yet');
  const id = first.entry.id;
  t.like(pt.heard(id, 4000), { legacyChanged: false, entry: { legacy: false, lastDivesMs: 4000 } });
  const b = pt.announce('10.0.0.6', 3333, '10.0.0.6', 0, 'sockaddr');
  t.like(pt.heard(b.entry.id, 100), { legacyChanged: true, entry: { legacy: false } }, 'a keepalive is a DiVES proof');
});

test('a DiVES peer kept up by sockaddr announcements alone for the expiry time becomes legacy', (t) => {
  const pt = table();
  pt.announce('10.0.0.5', 3333, '10.0.0.5', 0, 'text');
  for (let at = 1000; at <= 3000; at += 1000) pt.announce('10.0.0.5', 3333, '10.0.0.5', at, 'sockaddr');
  t.deepEqual(pt.demote(3000), []);
  t.deepEqual(pt.demote(3001).map((p) => [p.key, p.legacy]), [['10.0.0.5:3333', true]]);
  t.deepEqual(pt.demote(5000), [], 'said once');
  t.deepEqual(pt.expire(4500), { removed: [], down: [] }, 'it is still up: its announcements keep it alive');
  t.like(pt.announce('10.0.0.5', 3333, '10.0.0.5', 9000, 'sockaddr'), { legacyChanged: false, entry: { legacy: true } });
  const late = table();
  late.announce('10.0.0.7', 3333, '10.0.0.7', 0, 'text');
  late.announce('10.0.0.7', 3333, '10.0.0.7', 2000, 'sockaddr');
  t.like(late.announce('10.0.0.7', 3333, '10.0.0.7', 3500, 'sockaddr'), { legacyChanged: true, entry: { legacy: true } }, 'or at its next sockaddr announcement, whichever comes first');
});

test('a static peer heard by sockaddr is legacy, and a legacy peer expires after 3 s at the least, whatever the interval', (t) => {
  const fast = new PeerTable({ intervalMs: 200, expiryIntervals: 3 });
  const added = fast.addStatic('10.0.0.3', 3333, '10.0.0.3');
  t.like(fast.announce('10.0.0.3', 3333, '10.0.0.3', 0, 'sockaddr'), { created: false, legacyChanged: true, entry: { learned: 'static', legacy: true } });
  fast.announce('10.0.0.4', 3333, '10.0.0.4', 0, 'text');
  // The original announces once a second: 0.6 s of silence is not its death.
  t.deepEqual(fast.expire(700).removed.map((p) => p.key), ['10.0.0.4:3333']);
  t.deepEqual(fast.expire(3000).down, []);
  t.deepEqual(fast.expire(3001).down.map((p) => p.id), [added?.entry.id]);
});

test('a new static peer is taken for DiVES for one expiry time, so its sockaddr announcements do not make it legacy before it answers a keepalive', (t) => {
  const pt = table();
  const added = pt.addStatic('10.0.0.8', 3333, '10.0.0.8', 0);
  t.like(pt.announce('10.0.0.8', 3333, '10.0.0.8', 500, 'sockaddr'), { legacyChanged: false, wentUp: true, entry: { legacy: false } });
  t.like(pt.heard(added?.entry.id ?? -1, 800), { legacyChanged: false, entry: { legacy: false } });
  // It never answers again, its sockaddr announcements keep it up: legacy after the expiry time.
  pt.announce('10.0.0.8', 3333, '10.0.0.8', 3900, 'sockaddr');
  t.like(pt.get('10.0.0.8:3333'), { legacy: true });
});
