// Tests for src/vxlan/vtep-table.ts: which VTEP a datagram came from (a static remote by
// its address alone, a learned VTEP by address or by address and port), the bound on
// learned VTEPs, and which learned VTEPs fall silent. Pure units on one thread.

import test from 'ava';
import { sockaddrFor } from '../../src/linux/udp-socket.js';
import { VtepTable } from '../../src/vxlan/vtep-table.js';

const sa = (address: string, port: number): Buffer => sockaddrFor('udp4', address, port);

function table(maxVteps = 4): VtepTable {
  const t = new VtepTable('udp4', 4789, maxVteps);
  t.setVlan(10, 10, 0, 'address');
  t.setVlan(20, 5020, 0, 'source-port');
  t.setVtep(10, 'group', sa('239.1.1.1', 4789), 1, 5, 0);
  t.setVtep(20, 'group', sa('239.0.0.1', 4789), 2, 6, 0);
  t.setVtep(10, 'static', sa('10.0.0.2', 4789), 3, 7, 0);
  return t;
}

test('a static remote is found by its address whatever port the datagram came from, and a VNI finds its VLAN', (t) => {
  const vt = table();
  const v = vt.vlanOfVni(10);
  if (v === undefined) return t.fail();
  t.is(vt.lookup(v, sa('10.0.0.2', 51234), 0)?.portId, 7, 'Linux sends from a hashed port');
  t.is(vt.lookup(v, sa('10.0.0.3', 4789), 0), undefined);
  t.is(vt.vlanOfVni(5020)?.vid, 20);
  t.is(vt.vlanOfVni(20), undefined, 'VLAN 20 is VNI 5020, not 20');
  t.is(vt.byPort[7]?.sockaddr.readUInt16BE(2), 4789, 'frames for it go to the VXLAN port');
});

test('a VTEP learned by address is answered at the VXLAN port; one learned by source port at that port, and another port is another VTEP', (t) => {
  const vt = table();
  const byAddr = vt.vlanOfVni(10);
  const bySource = vt.vlanOfVni(5020);
  if (byAddr === undefined || bySource === undefined) return t.fail();
  const a = vt.learn(byAddr, sa('10.0.0.9', 40000), 0, 0);
  t.is(a?.sockaddr.readUInt16BE(2), 4789);
  t.is(vt.lookup(byAddr, sa('10.0.0.9', 40001), 0), a ?? undefined, 'the same VTEP from another source port');
  const s = vt.learn(bySource, sa('10.0.0.9', 40000), 0, 0);
  t.is(s?.sockaddr.readUInt16BE(2), 40000, 'vxvde takes unicast only at the port it sends from');
  t.is(vt.lookup(bySource, sa('10.0.0.9', 40000), 0), s ?? undefined);
  t.is(vt.lookup(bySource, sa('10.0.0.9', 40001), 0), undefined, 'another port of the same host is another vxvde');
  // Main gives the waiting one its port: the same record, now with an id and a port.
  vt.setVtep(20, 'learned', sa('10.0.0.9', 40000), 9, 11, 0);
  t.is(vt.lookup(bySource, sa('10.0.0.9', 40000), 0)?.portId, 11);
  t.is(vt.byPort[11], s ?? undefined);
});

test('learned VTEPs are bounded, and those silent for the ageing time are handed back once, or forgotten when they never got a port', (t) => {
  const vt = table(2);
  const v = vt.vlanOfVni(10);
  if (v === undefined) return t.fail();
  const a = vt.learn(v, sa('10.0.0.11', 1), 0, 0);
  vt.learn(v, sa('10.0.0.12', 1), 0, 0);
  t.is(vt.learn(v, sa('10.0.0.13', 1), 0, 0), null, 'past maxVteps');
  vt.setVtep(10, 'learned', sa('10.0.0.11', 4789), 21, 31, 0);
  if (a !== null) a.heardS = 100;
  const out: unknown[] = [];
  vt.silent(350, 300, out as never[]);
  t.deepEqual(out, [], 'the one with a port was heard 250 s ago; the one without, silent for 350 s, is forgotten');
  t.is(vt.lookup(v, sa('10.0.0.12', 1), 0), undefined);
  t.not(vt.learn(v, sa('10.0.0.13', 1), 0, 350), null, 'its room is free again');
  vt.silent(401, 300, out as never[]);
  t.is(out.length, 1);
  vt.silent(402, 300, out as never[]);
  t.is(out.length, 1, 'told once');
  t.is(vt.remove(21)?.portId, 31);
  t.is(vt.byPort[31], undefined);
});
