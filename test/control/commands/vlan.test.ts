// Tests for src/control/commands/vlan.ts: `vlan ID` makes sure the VLAN exists and
// enters VLAN mode. Pure units: no threads, no sockets.

import test from 'ava';
import { fixture } from '../../helpers/command-session.js';
test('vlan ID makes sure the VLAN exists and enters VLAN mode', async (t) => {
  const { sw, session } = fixture();
  t.deepEqual(await session.execute('vlan 42'), { ok: true, lines: [], json: { vid: 42 } });
  t.deepEqual(session.mode, { vid: 42 });
  t.deepEqual(sw.changes, [{ method: 'ensureVlan', args: [42] }]);
  t.true(sw.vlans.has(42));
});
