// Tests for the peer codec: the 4-byte vid header of peer datagrams, its round trip,
// and every reason a received datagram is dropped.
// Pure unit tests on the test runner's thread; no sockets.

import test from 'ava';
import { PEER_DROPS } from '../../../src/core/counters.js';
import { VID_MAX, VID_MIN } from '../../../src/core/frame.js';
import { VNET_HDR_LEN as PEER_VNET_LEN } from '../../../src/core/ring-record.js';
import {
  PEER_BAD_VID,
  PEER_DECODED_VNET,
  PEER_F_VNET,
  PEER_GIANT,
  PEER_HDR_LEN,
  PEER_SHORT,
  decodePeerDatagram,
  peerDropOf,
  writePeerHeader,
} from '../../../src/peer/wire/peer-datagram.js';

/** A datagram carrying `frameLen` patterned frame bytes after a header of `vidField`. */
function datagram(vidField: number, frameLen: number): Uint8Array {
  const d = new Uint8Array(PEER_HDR_LEN + frameLen);
  writePeerHeader(vidField, d, 0);
  for (let i = 0; i < frameLen; i++) d[PEER_HDR_LEN + i] = (i * 7 + 3) & 0xff;
  return d;
}

for (const vid of [VID_MIN, 2, 100, 0x100, 4000, VID_MAX]) {
  test(`vid ${vid} survives a write/decode round trip`, (t) => {
    const d = datagram(vid, 60);
    t.is(decodePeerDatagram(d, d.length), vid);
  });
}

test('the frame starts at offset 4, right after the big-endian vid', (t) => {
  t.is(PEER_HDR_LEN, 4);
  const frame = Uint8Array.from({ length: 64 }, (_, i) => 255 - i);
  const d = new Uint8Array(PEER_HDR_LEN + frame.length);
  writePeerHeader(0x0123, d, 0);
  d.set(frame, PEER_HDR_LEN);
  t.deepEqual(Array.from(d.subarray(0, 4)), [0, 0, 0x01, 0x23]);
  t.is(decodePeerDatagram(d, d.length), 0x123);
  t.deepEqual(d.subarray(PEER_HDR_LEN), frame);
});

test('writePeerHeader writes at the given offset and nowhere else', (t) => {
  const out = new Uint8Array(8).fill(0xaa);
  writePeerHeader(4094, out, 2);
  t.deepEqual(Array.from(out), [0xaa, 0xaa, 0, 0, 0x0f, 0xfe, 0xaa, 0xaa]);
});

test('a datagram of exactly 4 + 14 bytes is accepted', (t) => {
  const d = datagram(7, 14);
  t.is(d.length, 18);
  t.is(decodePeerDatagram(d, 18), 7);
});

for (const len of [0, 1, 3, 4, 17]) {
  test(`a ${len}-byte datagram is short`, (t) => {
    // The buffer is larger than len: only len counts, as after a recv into a reused buffer.
    const buf = datagram(5, 100);
    t.is(decodePeerDatagram(buf, len), PEER_SHORT);
  });
}

test('a length beyond the buffer, or NaN, is short rather than read out of bounds', (t) => {
  const d = datagram(5, 14);
  t.is(decodePeerDatagram(d, d.length + 1), PEER_SHORT);
  t.is(decodePeerDatagram(d, Number.NaN), PEER_SHORT);
});

for (const vidField of [0, 4095, 4096, 0x10001, 0x40000001, 0x80000000, 0x80000fff, 0x80001001, 0xffffffff]) {
  test(`a vid field of 0x${vidField.toString(16)} is a bad vid`, (t) => {
    const d = datagram(vidField, 60);
    t.is(decodePeerDatagram(d, d.length), PEER_BAD_VID);
  });
}

test('a datagram that is both short and badly tagged counts as short', (t) => {
  const d = datagram(0, 10);
  t.is(decodePeerDatagram(d, d.length), PEER_SHORT);
});

test('a frame over maxFrame is giant, and one of exactly maxFrame is accepted', (t) => {
  const atMax = datagram(9, 1514);
  t.is(decodePeerDatagram(atMax, atMax.length, 1514), 9);
  const over = datagram(9, 1515);
  t.is(decodePeerDatagram(over, over.length, 1514), PEER_GIANT);
  // The default maximum is 65535.
  const big = datagram(9, 65536);
  t.is(decodePeerDatagram(big, big.length), PEER_GIANT);
  const bigOk = datagram(9, 65535);
  t.is(decodePeerDatagram(bigOk, bigOk.length), 9);
});

test('PEER_F_VNET marks a datagram whose frame follows a 10-byte virtio_net_hdr, and the flag survives the round trip', (t) => {
  const d = new Uint8Array(PEER_HDR_LEN + PEER_VNET_LEN + 60);
  writePeerHeader(4094, d, 0, true);
  t.deepEqual(Array.from(d.subarray(0, 4)), [0x80, 0, 0x0f, 0xfe]);
  t.is(PEER_F_VNET >>> 0, 0x80000000);
  t.is(decodePeerDatagram(d, d.length), 4094 | PEER_DECODED_VNET);
  // The plain form of the same vid carries no flag.
  writePeerHeader(4094, d, 0);
  t.is(decodePeerDatagram(d, d.length), 4094);
});

test('an offloaded frame may exceed maxFrame (a 64 KiB segment), but not be shorter than the header plus an Ethernet header', (t) => {
  const big = new Uint8Array(PEER_HDR_LEN + PEER_VNET_LEN + 65000);
  writePeerHeader(10, big, 0, true);
  t.is(decodePeerDatagram(big, big.length, 1514), 10 | PEER_DECODED_VNET);
  const justEnough = new Uint8Array(PEER_HDR_LEN + PEER_VNET_LEN + 14);
  writePeerHeader(10, justEnough, 0, true);
  t.is(decodePeerDatagram(justEnough, justEnough.length), 10 | PEER_DECODED_VNET);
  // 27 bytes: a plain datagram would be long enough, a flagged one is not.
  t.is(decodePeerDatagram(justEnough, justEnough.length - 1), PEER_SHORT);
});

test('each drop result names the PEER_DROPS counter it is counted under', (t) => {
  t.is(PEER_DROPS.names[peerDropOf(PEER_SHORT)], 'short');
  t.is(PEER_DROPS.names[peerDropOf(PEER_BAD_VID)], 'bad-vid');
  t.is(PEER_DROPS.names[peerDropOf(PEER_GIANT)], 'giant');
  for (const r of [PEER_SHORT, PEER_BAD_VID, PEER_GIANT]) t.true(r < 0);
});
