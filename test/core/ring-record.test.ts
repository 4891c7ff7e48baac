// Tests for src/core/ring-record.ts: the meta word packs the vid, the port id and the
// vnet bit without one spilling into another, and a virtio_net_hdr asks for work only
// when it has a checksum to do or a segment to cut. Pure units.

import test from 'ava';
import { META_VNET, VNET_HDR_LEN, metaHdrLen, metaPort, metaVid, ringMeta, vnetAsksWork } from '../../src/core/ring-record.js';

test('ring meta packs the vid and the port id, at their largest too', (t) => {
  const m = ringMeta(4094, 65535);
  t.is(metaVid(m), 4094);
  t.is(metaPort(m), 65535);
  t.is(metaHdrLen(m), 0);
  t.is(m & META_VNET, 0);
});

test('the vnet bit says the record starts with a virtio_net_hdr, and leaves vid and port alone', (t) => {
  const m = ringMeta(1, 1, true);
  t.is(metaVid(m), 1);
  t.is(metaPort(m), 1);
  t.is(metaHdrLen(m), VNET_HDR_LEN);
});

test('a virtio_net_hdr asks for work when a checksum is to do or a segment to cut, not when merely DATA_VALID', (t) => {
  const hdr = Buffer.alloc(VNET_HDR_LEN + 4);
  t.false(vnetAsksWork(hdr, 2));
  hdr[2] = 2; // DATA_VALID
  t.false(vnetAsksWork(hdr, 2));
  hdr[2] = 1; // NEEDS_CSUM
  t.true(vnetAsksWork(hdr, 2));
  hdr[2] = 0;
  hdr[3] = 1; // gso_type TCPv4
  t.true(vnetAsksWork(hdr, 2));
});
