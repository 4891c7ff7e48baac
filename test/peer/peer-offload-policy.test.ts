// Tests for src/peer/peer-offload-policy.ts: when a VLAN's TAPs may hand over
// offloaded frames given the live peers' advertisements, and when what this switch
// advertises changes. Pure unit tests on the test runner's thread.

import test from 'ava';
import { PeerOffloadPolicy } from '../../src/peer/peer-offload-policy.js';

test('offloads need every live peer to have advertised, and the VLAN not among its plain ones', (t) => {
  const p = new PeerOffloadPolicy(true);
  t.true(p.takesOffload(10, []), 'no live peer: only local ports count');
  t.false(p.takesOffload(10, [1]), 'a peer that has not advertised');
  p.heard(1, [20]);
  t.true(p.takesOffload(10, [1]));
  t.false(p.takesOffload(20, [1]), 'a VLAN it needs plain frames on');
  t.false(p.takesOffload(10, [1, 2]), 'a second peer that has not advertised');
  p.heard(2, []);
  t.true(p.takesOffload(10, [1, 2]));
  p.forget(2);
  t.false(p.takesOffload(10, [1, 2]), 'forgotten when it went down');
});

test('with --no-peer-offload nothing is advertised and no live peer gets offloaded frames', (t) => {
  const p = new PeerOffloadPolicy(false);
  p.heard(1, []);
  t.false(p.takesOffload(10, [1]));
  t.true(p.takesOffload(10, []), 'without peers the TAPs still may');
  t.false(p.setAdvert([10]));
  t.is(p.advert, null);
});

test('setAdvert says whether the advertisement changed', (t) => {
  const p = new PeerOffloadPolicy(true);
  t.true(p.setAdvert([]));
  t.deepEqual(p.advert, []);
  t.false(p.setAdvert([]));
  t.true(p.setAdvert([10, 20]));
  t.false(p.setAdvert([10, 20]));
  t.deepEqual(p.advert, [10, 20]);
});
