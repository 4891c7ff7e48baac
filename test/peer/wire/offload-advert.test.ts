// Tests for src/peer/wire/offload-advert.ts: the offload advertisement a switch sends its peers,
// its exact layout, what is and is not one, and the per-peer view kept from it.
// Pure unit tests on the test runner's thread; no sockets.

import test from 'ava';
import { decodePeerDatagram, PEER_BAD_VID } from '../../../src/peer/wire/peer-datagram.js';
import { isKeepalive } from '../../../src/peer/wire/keepalive.js';
import { OFFLOAD_ADVERT_LEN, PlainVlans, encodeOffloadAdvert, isOffloadAdvert } from '../../../src/peer/wire/offload-advert.js';

test('an advertisement is the zero vid word, "offload", and a 512-byte bitmap of the VLANs that need plain frames', (t) => {
  const a = encodeOffloadAdvert([1, 10, 4094]);
  t.is(a.length, OFFLOAD_ADVERT_LEN);
  t.is(OFFLOAD_ADVERT_LEN, 4 + 7 + 512);
  t.deepEqual([...a.subarray(0, 4)], [0, 0, 0, 0]);
  t.is(a.toString('latin1', 4, 11), 'offload');
  const bits = a.subarray(11);
  t.is(bits[0], 0b10); // vid 1
  t.is(bits[1], 0b100); // vid 10 = byte 1, bit 2
  t.is(bits[511], 0b1000000); // vid 4094 = byte 511, bit 6
  t.is(bits.reduce((n, b) => n + (b === 0 ? 0 : 1), 0), 3);
});

test('an advertisement is recognised only whole and exact, and is neither a keepalive nor a frame', (t) => {
  const a = encodeOffloadAdvert([]);
  t.true(isOffloadAdvert(a, a.length));
  t.false(isOffloadAdvert(a, a.length - 1), 'a length one short');
  t.false(isOffloadAdvert(Buffer.concat([a, Buffer.alloc(1)]), a.length + 1), 'a length one long');
  t.false(isOffloadAdvert(a.subarray(0, 100), a.length), 'a length beyond the buffer');
  const wrongText = Buffer.from(a);
  wrongText[5] = 'X'.charCodeAt(0);
  t.false(isOffloadAdvert(wrongText, wrongText.length));
  const wrongWord = Buffer.from(a);
  wrongWord[3] = 10;
  t.false(isOffloadAdvert(wrongWord, wrongWord.length));
  t.false(isKeepalive(a, a.length));
  // A switch that does not know it drops it as a bad vid.
  t.is(decodePeerDatagram(a, a.length), PEER_BAD_VID);
});

test('out-of-range VLAN ids are left out of the bitmap instead of spilling over', (t) => {
  const a = encodeOffloadAdvert([-1, 4096, 1.5, Number.NaN, 7]);
  t.is(a.length, OFFLOAD_ADVERT_LEN);
  const view = new PlainVlans();
  view.update(a);
  t.deepEqual(view.plainVids(), [7]);
});

test('a peer takes no offloaded frame until it advertises, then none on its plain VLANs', (t) => {
  const view = new PlainVlans();
  t.false(view.takesOffload(10), 'nothing before the first advertisement');
  t.true(view.update(encodeOffloadAdvert([20])), 'the first advertisement is news');
  t.true(view.takesOffload(10));
  t.false(view.takesOffload(20));
  t.deepEqual(view.plainVids(), [20]);
  t.false(view.update(encodeOffloadAdvert([20])), 'the same again is not');
  t.true(view.update(encodeOffloadAdvert([10, 20])), 'a VLAN that now needs plain frames is');
  t.false(view.takesOffload(10));
  t.true(view.update(encodeOffloadAdvert([])), 'and one that no longer does');
  t.true(view.takesOffload(20));
  view.reset();
  t.false(view.takesOffload(20), 'forgotten when the peer goes down');
  t.is(view.plainVids().length, 0);
});
