// Tests for src/forwarding/frame-observer.ts through the VLAN engine: a capture of a VLAN
// gets each frame once as it comes in, a capture of a port gets its frames both ways as
// pcap records, a mirror gets frames with a virtio_net_hdr and never the monitoring
// port's own, a full capture ring costs only copies, and without an observer nothing is
// copied. Pure units on one thread; src/capture/pcap.ts reads the records back.

import test from 'ava';
import { Ring } from '../../src/core/ring.js';
import { VNET_HDR_LEN, metaPort, metaVid } from '../../src/core/ring-record.js';
import { VlanEngine } from '../../src/forwarding/vlan-engine.js';
import { CAPTURE_DIR_AT, CAPTURE_IN, CAPTURE_OUT, CAPTURE_PREFIX, FrameObserver } from '../../src/forwarding/frame-observer.js';
import { PCAP_RECORD_HEADER_LEN, pcapFileHeader, pcapRecord, readPcap } from '../../src/capture/pcap.js';
import { ETHERTYPE_IPV4, frame as ethernetFrame } from '../helpers/frames.js';

/** A frame between stations 02:00:00:00:00:dst and ...:src, `fill` after the ethertype, `len` bytes. */
function frame(dst: number, src: number, fill: number, len = 60): Buffer {
  return ethernetFrame({ dst: 0x020000000000 + dst, src: 0x020000000000 + src, ethertype: ETHERTYPE_IPV4, padTo: len, fill });
}

interface Rec { meta: number; body: Buffer }

function drain(r: Ring): Rec[] {
  r.commit();
  const out: Rec[] = [];
  r.consume(1000, (buf, off, len, meta) => out.push({ meta, body: Buffer.from(buf.subarray(off, off + len)) }));
  return out;
}

function engine(): { e: VlanEngine; tx: Ring[] } {
  const e = new VlanEngine(10);
  const tx = [1, 2, 3].map((id) => {
    const r = Ring.create(1 << 16);
    e.addPort(id, false, r);
    return r;
  });
  return { e, tx };
}

test('a VLAN capture gets each frame once, as it came in, with its port and a pcap record header', (t) => {
  const { e, tx } = engine();
  const ring = Ring.create(1 << 16);
  e.observer = new FrameObserver(10);
  e.observer.add({ id: 1, portId: 0, ring, mirror: false, skipPort: 0, meta: 0 });
  const a = frame(0xff, 1, 0xa1);
  a.fill(0xff, 0, 6);
  e.forward(a, 0, a.length, 1);
  const b = frame(1, 2, 0xb2, 100);
  e.forward(b, 0, b.length, 2);
  for (const r of tx) r.commit();
  const recs = drain(ring);
  t.is(recs.length, 2, 'a flooded frame is captured once, not once per copy');
  t.deepEqual(recs.map((r) => [metaVid(r.meta), metaPort(r.meta), r.body.readUInt32LE(CAPTURE_DIR_AT)]), [[10, 1, CAPTURE_IN], [10, 2, CAPTURE_IN]]);
  t.deepEqual(recs[1].body.subarray(CAPTURE_PREFIX), b);
  t.is(recs[1].body.readUInt32LE(8), b.length, 'captured length');
  t.is(recs[1].body.readUInt32LE(12), b.length, 'length on the wire');
  const sec = recs[1].body.readUInt32LE(0);
  t.true(Math.abs(sec - Date.now() / 1000) < 5, 'stamped with the time now');
});

test('a port capture gets the port\'s frames both ways, and a frame with a virtio_net_hdr without it', (t) => {
  const { e } = engine();
  const ring = Ring.create(1 << 16);
  e.observer = new FrameObserver(10);
  e.observer.add({ id: 2, portId: 2, ring, mirror: false, skipPort: 0, meta: 0 });
  const fromOne = frame(0xff, 1, 0x11);
  fromOne.fill(0xff, 0, 6);
  e.forward(fromOne, 0, fromOne.length, 1);
  const fromTwo = Buffer.concat([Buffer.alloc(VNET_HDR_LEN), frame(1, 2, 0x22)]);
  e.forward(fromTwo, 0, fromTwo.length, 2, VNET_HDR_LEN);
  const fromThree = frame(3, 3, 0x33);
  e.forward(fromThree, 0, fromThree.length, 3);
  const recs = drain(ring);
  t.deepEqual(recs.map((r) => [metaPort(r.meta), r.body.readUInt32LE(CAPTURE_DIR_AT)]), [[2, CAPTURE_OUT], [2, CAPTURE_IN]]);
  t.deepEqual(recs[0].body.subarray(CAPTURE_PREFIX), fromOne);
  t.deepEqual(recs[1].body.subarray(CAPTURE_PREFIX), fromTwo.subarray(VNET_HDR_LEN));
});

test('a mirror copies with a virtio_net_hdr to its ring, skips the monitoring port, and stops when removed', (t) => {
  const { e } = engine();
  const ring = Ring.create(1 << 16);
  e.observer = new FrameObserver(10);
  e.observer.add({ id: 3, portId: 0, ring, mirror: true, skipPort: 3, meta: 0x1234 });
  const a = frame(2, 1, 0x41);
  e.forward(a, 0, a.length, 1);
  e.forward(frame(1, 3, 0x43), 0, 60, 3);
  const recs = drain(ring);
  t.is(recs.length, 1, "the monitoring port's own frame is not mirrored");
  t.is(recs[0].meta, 0x1234);
  t.deepEqual(recs[0].body, Buffer.concat([Buffer.alloc(VNET_HDR_LEN), a]));
  e.observer.remove(3);
  t.true(e.observer.empty);
  e.forward(a, 0, a.length, 1);
  t.is(drain(ring).length, 0);
});

test('a full capture ring drops copies and counts them; the frames themselves are forwarded', (t) => {
  const { e, tx } = engine();
  const ring = Ring.create(256);
  e.observer = new FrameObserver(10);
  e.observer.add({ id: 4, portId: 0, ring, mirror: false, skipPort: 0, meta: 0 });
  for (let i = 0; i < 10; i++) e.forward(frame(2, 1, i, 100), 0, 100, 1);
  t.true(ring.drops > 0, 'copies the ring had no room for are counted');
  tx[1].commit();
  t.is(drain(tx[1]).length, 10, 'every frame still reached its port');
});

test('without an observer no copy is made', (t) => {
  const { e } = engine();
  t.is(e.observer, null);
  t.is(e.forward(frame(2, 1, 1), 0, 60, 1), 2);
});

test('pcap files read back: a header, then records with their time and frame', (t) => {
  const f1 = frame(1, 2, 3);
  const file = Buffer.concat([pcapFileHeader(), pcapRecord(1_700_000_000_123.456, f1)]);
  const { linktype, frames } = readPcap(file);
  t.is(linktype, 1);
  t.deepEqual(frames.map((f) => f.frame), [f1]);
  t.true(Math.abs(frames[0].ms - 1_700_000_000_123.456) < 0.01);
  t.is(file.length, 24 + PCAP_RECORD_HEADER_LEN + f1.length);
});
