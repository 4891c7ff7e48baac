// Tests for src/peer/wire/keepalive.ts: the keepalive datagram is exactly 13 bytes, vid 0
// then "keepalive", and nothing else passes for one — while the data path still
// rejects it as a frame.

import test from 'ava';
import { KEEPALIVE, KEEPALIVE_LEN, isKeepalive } from '../../../src/peer/wire/keepalive.js';
import { PEER_BAD_VID, PEER_SHORT, decodePeerDatagram } from '../../../src/peer/wire/peer-datagram.js';

test('a keepalive is vid 0 followed by the text "keepalive"', (t) => {
  t.is(KEEPALIVE_LEN, 13);
  t.deepEqual([...KEEPALIVE], [0, 0, 0, 0, ...Buffer.from('keepalive')]);
  t.true(isKeepalive(KEEPALIVE, KEEPALIVE.length));
  t.true(isKeepalive(Buffer.concat([KEEPALIVE, Buffer.from('xx')]), KEEPALIVE_LEN), 'len bounds what is read');
});

test('anything else is not a keepalive, and the peer codec drops a keepalive as a frame', (t) => {
  for (const bad of [
    Buffer.from('keepalive'),
    Buffer.concat([Buffer.from([0, 0, 0, 1]), Buffer.from('keepalive')]),
    Buffer.concat([KEEPALIVE, Buffer.from('!')]),
    Buffer.concat([Buffer.alloc(4), Buffer.from('KEEPALIVE')]),
    Buffer.alloc(13),
  ]) {
    t.false(isKeepalive(bad, bad.length), bad.toString('hex'));
  }
  t.false(isKeepalive(KEEPALIVE.subarray(0, 12), 13), 'a length past the buffer is not trusted');
  t.is(decodePeerDatagram(KEEPALIVE, KEEPALIVE.length), PEER_SHORT);
  const padded = Buffer.concat([KEEPALIVE, Buffer.alloc(10)]);
  t.is(decodePeerDatagram(padded, padded.length), PEER_BAD_VID);
});
