// Tests for src/vxlan/vxlan-header.ts: the 8-byte header as RFC 7348 lays it out, the
// checks a received one must pass, and the inner-frame hash that picks a source port.
// Pure units.

import test from 'ava';
import { VXLAN_BAD_HEADER, VXLAN_HDR_LEN, VXLAN_SHORT, decodeVxlanHeader, innerFlowHash, writeVxlanHeader } from '../../src/vxlan/vxlan-header.js';
import { frame as ethernetFrame } from '../helpers/frames.js';

test('the header is the I flag, three zero bytes, the 24-bit VNI big-endian and a zero byte, as vxvde and Linux write it', (t) => {
  const b = Buffer.alloc(VXLAN_HDR_LEN, 0xee);
  writeVxlanHeader(b, 0, 0x123456);
  t.is(b.toString('hex'), '0800000012345600');
  writeVxlanHeader(b, 0, 1);
  t.is(b.toString('hex'), '0800000000000100', "vxvde's default VNI 1");
  t.is(decodeVxlanHeader(b, 0, b.length), 1);
  t.is(decodeVxlanHeader(Buffer.from('08000000ffffff00', 'hex'), 0, 8), 0xffffff);
});

test('a datagram shorter than the header, without the I flag, or with a reserved bit set is refused, each with its reason', (t) => {
  t.is(decodeVxlanHeader(Buffer.from('0800000000', 'hex'), 0, 5), VXLAN_SHORT);
  t.is(decodeVxlanHeader(Buffer.from('0000000000000a00', 'hex'), 0, 8), VXLAN_BAD_HEADER, 'no I flag');
  t.is(decodeVxlanHeader(Buffer.from('0c00000000000a00', 'hex'), 0, 8), VXLAN_BAD_HEADER, 'another flag besides I');
  t.is(decodeVxlanHeader(Buffer.from('0800010000000a00', 'hex'), 0, 8), VXLAN_BAD_HEADER, 'a reserved byte of the flags word');
  t.is(decodeVxlanHeader(Buffer.from('0800000000000a01', 'hex'), 0, 8), VXLAN_BAD_HEADER, 'the reserved byte after the VNI');
  t.is(decodeVxlanHeader(Buffer.from('ff0800000000000a00', 'hex'), 1, 8), 10, 'read at an offset');
});

test('the source-port hash follows the frame\'s two MACs only, and spreads different pairs', (t) => {
  // Every byte after the MACs, the ethertype too, is `rest`.
  const frame = (dst: number, src: number, rest: number): Buffer => ethernetFrame({ dst, src, ethertype: rest * 0x101, fill: rest });
  t.is(innerFlowHash(frame(0x020000000001, 0x020000000002, 1), 0), innerFlowHash(frame(0x020000000001, 0x020000000002, 9), 0), 'the payload does not move a flow');
  const seen = new Set<number>();
  for (let i = 0; i < 64; i++) seen.add(innerFlowHash(frame(0x020000000001, 0x020000000100 + i, 0), 0) & 7);
  t.is(seen.size, 8, '64 stations reach all eight source sockets');
});
