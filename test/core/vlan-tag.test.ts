// Tests for src/core/vlan-tag.ts: VLAN lists parse and print back, bad ones are refused
// with the part named, and tags are written and recognized. Pure units.

import test from 'ava';
import { formatVlanList, isTpid, parseVlanList, writeTag } from '../../src/core/vlan-tag.js';

test('a VLAN list of vids and ranges parses to sorted vids, each once, and prints back short', (t) => {
  t.deepEqual(parseVlanList('20,10,100-103,10'), [10, 20, 100, 101, 102, 103]);
  t.is(formatVlanList([10, 20, 100, 101, 102, 103]), '10,20,100-103');
  t.is(formatVlanList([1, 2, 4]), '1,2,4');
  t.is(parseVlanList('1-4094').length, 4094);
  t.is(formatVlanList(parseVlanList('1-4094')), '1-4094');
});

test('a bad VLAN list is refused, naming the bad part', (t) => {
  for (const bad of ['', '0', '4095', '10,,20', '20-10', 'abc', '10-', '1-99999']) {
    t.throws(() => parseVlanList(bad), { code: 'EBADARG', message: /^VLANS must be vids 1\.\.4094/ }, bad);
  }
});

test('a written tag is an 802.1Q TPID with the vid, and every tag TPID is recognized', (t) => {
  const b = Buffer.alloc(4);
  writeTag(b, 0, 0xabc);
  t.deepEqual([...b], [0x81, 0x00, 0x0a, 0xbc]);
  t.true(isTpid(b, 0));
  t.true(isTpid(Buffer.from([0x88, 0xa8]), 0));
  t.true(isTpid(Buffer.from([0x91, 0x00]), 0));
  t.false(isTpid(Buffer.from([0x08, 0x00]), 0));
});
