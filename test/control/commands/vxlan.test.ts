// Tests for src/control/commands/vxlan.ts: `show vxlan` as text and JSON, `vxlan vni`,
// `vxlan remote`, `vxlan group` and their `no` forms against the sample switch, the
// refusals each checks for, and the VXLAN lines of the running-config read back by the
// rc loader. Pure units: no threads, no sockets.

import test from 'ava';
import { VTEP_DROPS, VXLAN_COUNTERS } from '../../../src/core/counters.js';
import { renderRunningConfig } from '../../../src/control/running-config.js';
import { AREAS } from '../../../src/control/commands/areas.js';
import { SampleSwitch } from '../../../src/docs/sample-switch.js';
import type { VxlanInfo } from '../../../src/control/switch-api.js';
import { at, fixture } from '../../helpers/command-session.js';
import { createCommandRegistry } from '../../../src/control/commands/create-command-registry.js';
import { ConsoleSession } from '../../../src/control/console-session.js';

test('show vxlan prints the sockets, each VTEP of each VLAN with its counters and drops, then the socket counters', async (t) => {
  const { session } = fixture();
  const reply = await at(session, null, 'show vxlan');
  t.true(reply.ok);
  if (!reply.ok) return;
  t.deepEqual(reply.lines, [
    'vxlan on UDP port 4789, sending from 10.0.0.1, source ports 49731,50212,51907,53340,55018,57264,60122,63305; learned VTEPs: 1 of at most 256',
    'VID  VNI   VTEP            KIND     PORT  HEARD  FRAMES-IN  BYTES-IN  FRAMES-OUT  BYTES-OUT',
    '20   5020  239.1.1.1:4789  group    21    -      0          0         12          1080',
    '    group 239.1.1.1',
    '    drops: none',
    '20   5020  10.0.0.5:4789   static   22    1s     40         3600      52          4420',
    '    drops: none',
    '20   5020  10.0.0.6:4789   learned  23    4s     9          810       7           630',
    '    drops: queue-full=2',
    'datagrams: in 49, out 71 (flooded 12)',
    'dropped: bad-header=1 unknown-vni=3',
    'VTEP drops, departed VTEPs included: queue-full=2',
  ]);
});

test('show vxlan in VLAN mode lists that VLAN only, and its JSON form has every counter', async (t) => {
  const { session } = fixture();
  const here = await at(session, 30, 'show vxlan');
  t.true(here.ok && here.lines.includes('(no VLAN carried over VXLAN)'));
  const json = await at(session, 20, 'show vxlan', true);
  if (!json.ok) return t.fail();
  const info = json.json as VxlanInfo;
  t.deepEqual(info.vlans.map((v) => v.vid), [20]);
  t.deepEqual(Object.keys(info.counters), [...VXLAN_COUNTERS.names]);
  t.deepEqual(Object.keys(info.drops), [...VTEP_DROPS.names]);
  t.deepEqual(Object.keys(info.vlans[0].vteps[0].drops), [...VTEP_DROPS.names]);
});

test('vxlan remote adds a VTEP port to the VLAN, no vxlan remote takes it away, and each refuses what the switch refuses', async (t) => {
  const { sw, session } = fixture();
  t.like(await at(session, 10, 'vxlan remote 10.0.0.7 8472'), { ok: true, lines: ['VXLAN remote 10.0.0.7:8472 added to VLAN 10 as port 24'] });
  t.deepEqual(sw.changes.at(-1), { method: 'addVxlanRemote', args: [10, '10.0.0.7', 8472] });
  t.like(await at(session, 10, 'vxlan remote 10.0.0.7 8472'), { ok: false, code: 'EATTACHED' });
  t.like(await at(session, 10, 'vxlan remote 239.1.1.2'), { ok: false, code: 'EBADARG', message: '239.1.1.2 is a multicast address; flood to a group with "vxlan group 239.1.1.2"' });
  t.like(await at(session, 10, 'vxlan remote fe80::1'), { ok: false, code: 'EBADARG' });
  t.like(await at(session, 10, 'vxlan remote 10.0.0.7 0'), { ok: false, code: 'EBADARG' });
  t.like(await at(session, null, 'vxlan remote 10.0.0.7'), { ok: false, code: 'EBADCMD' });
  t.like(await at(session, 10, 'no vxlan remote 10.0.0.7'), { ok: false, code: 'ENOTATTACHED', message: 'VLAN 10 has no VXLAN remote 10.0.0.7:4789; "show vxlan" lists them' });
  t.like(await at(session, 10, 'no vxlan remote 10.0.0.7 8472'), { ok: true, lines: ['VXLAN remote 10.0.0.7 8472 removed from VLAN 10'] });
  t.deepEqual(sw.vxlanConfig().map((c) => c.vid), [20]);
});

test('vxlan vni gives a VLAN another VNI, refused when another VLAN carries it; no vxlan vni goes back to the vid', async (t) => {
  const { sw, session } = fixture();
  t.like(await at(session, 10, 'vxlan vni 5020'), { ok: false, code: 'EATTACHED', message: 'VNI 5020 is VLAN 20\'s already; give VLAN 10 another with "vxlan vni N"' });
  t.like(await at(session, 10, 'vxlan vni 16777216'), { ok: false, code: 'EBADARG' });
  t.like(await at(session, 10, 'vxlan vni 0'), { ok: false, code: 'EBADARG' });
  t.like(await at(session, 10, 'vxlan vni 1'), { ok: true, lines: ['VLAN 10 is VXLAN network 1'] });
  t.like(await at(session, 20, 'no vxlan vni'), { ok: true, lines: ['VLAN 20 is VXLAN network 20 (its vid)'] });
  t.deepEqual(sw.vxlanConfig().map((c) => [c.vid, c.vni]), [[10, 1], [20, null]]);
});

test('vxlan group takes one multicast group per VLAN, with reply-to-source for vxvde; no vxlan group removes it', async (t) => {
  const { sw, session } = fixture();
  t.like(await at(session, 20, 'vxlan group 239.1.1.3'), { ok: false, code: 'EATTACHED', message: 'VLAN 20 floods to group 239.1.1.1 already; remove it first with "no vxlan group 239.1.1.1"' });
  t.like(await at(session, 10, 'vxlan group 10.0.0.9'), { ok: false, code: 'EBADARG', message: 'ADDR must be a multicast address (224.0.0.0/4), got "10.0.0.9"' });
  t.like(await at(session, 10, 'vxlan group 239.0.0.1 reply-to-sauce'), { ok: false, code: 'EBADARG' });
  const ok = await at(session, 10, 'vxlan group 239.0.0.1 reply-to-source');
  t.like(ok, { ok: true, lines: ['VLAN 10 floods to VXLAN group 239.0.0.1:4789 (port 24); learned VTEPs are answered at their source port'] });
  t.like(await at(session, 20, 'no vxlan group 239.1.1.9'), { ok: false, code: 'ENOTATTACHED' });
  t.like(await at(session, 20, 'no vxlan group 239.1.1.1'), { ok: true });
  t.deepEqual(sw.vxlanConfig().map((c) => [c.vid, c.group]), [[10, { address: '239.0.0.1', replyToSource: true }], [20, null]]);
});

test('the running-config writes each VLAN\'s VXLAN settings in it, VNI first, and the rc loader reads them back to the same', async (t) => {
  const { sw } = fixture();
  const { lines } = await renderRunningConfig(sw, AREAS);
  const at20 = lines.indexOf('vlan 20');
  t.deepEqual(lines.slice(at20, at20 + 5), ['vlan 20', '  listen unix /run/dives/vm.sock', '  vxlan vni 5020', '  vxlan remote 10.0.0.5', '  vxlan group 239.1.1.1']);
  const fresh = new SampleSwitch();
  const loader = new ConsoleSession(createCommandRegistry(), fresh);
  // The VLANs and their VXLAN lines only: the sample's other ports are not a fresh switch's to recreate.
  for (const line of lines.filter((l) => /^(vlan \d+|exit| {2}vxlan )/.test(l))) {
    const r = await loader.execute(line);
    t.true(r.ok, line);
  }
  t.deepEqual(fresh.vxlanConfig(), sw.vxlanConfig());
});
