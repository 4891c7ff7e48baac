// Tests for src/control/commands/tap.ts: `tap DEVNAME` and `no tap DEVNAME` against
// the sample switch, and the calls they make. Pure units: no threads, no sockets.

import test from 'ava';
import { at, fixture } from '../../helpers/command-session.js';
test('tap DEVNAME attaches the device to the VLAN and says whether it was created', async (t) => {
  const { sw, session } = fixture();
  t.deepEqual(await at(session, 10, 'tap tap7'), {
    ok: true,
    lines: ['tap tap7 attached to VLAN 10 as port 4 (created)'],
    json: { tap: { name: 'tap7', vid: 10, portId: 4, created: true, state: 'up', reason: null } },
  });
  t.like(await at(session, 10, 'tap tap1'), { ok: true, lines: ['tap tap1 attached to VLAN 10 as port 5'] });
  t.deepEqual(sw.changes, [
    { method: 'attachTap', args: [10, 'tap7'] },
    { method: 'attachTap', args: [10, 'tap1'] },
  ]);
});

test('no tap DEVNAME detaches the device from the VLAN', async (t) => {
  const { sw, session } = fixture();
  t.deepEqual(await at(session, 10, 'no tap tap0'), {
    ok: true,
    lines: ['tap tap0 detached from VLAN 10'],
    json: { detached: { vid: 10, name: 'tap0' } },
  });
  t.deepEqual(sw.changes, [{ method: 'detachTap', args: [10, 'tap0'] }]);
  t.is(sw.taps.length, 0);
});
