// Tests for src/control/commands/debug.ts: the crash drills ask the switch for the
// right thread. Pure units: no threads, no sockets.

import test from 'ava';
import { fixture } from '../../helpers/command-session.js';
test('debug crash-worker ID asks the switch to crash that VLAN\'s worker', async (t) => {
  const { sw, session } = fixture();
  t.deepEqual(await session.execute('debug crash-worker 10'), {
    ok: true,
    lines: ['crashed the forwarding thread of VLAN 10'],
    json: { crashed: 10 },
  });
  t.deepEqual(sw.changes, [{ method: 'crashWorker', args: [10] }]);
});

test('debug crash-tap DEVNAME, crash-peers and crash-qemu ask the switch to stop that I/O thread as a crash would', async (t) => {
  const { sw, session } = fixture();
  t.deepEqual(await session.execute('debug crash-tap tap0'), {
    ok: true,
    lines: ['stopped the I/O thread of tap tap0 as a crash would'],
    json: { crashed: 'tap0' },
  });
  t.deepEqual(sw.changes, [{ method: 'crashTapIo', args: ['tap0'] }]);
  t.deepEqual(await session.execute('debug crash-peers'), { ok: true, lines: ['stopped the peer I/O thread as a crash would'], json: { crashed: 'peers' } });
  t.deepEqual(sw.changes.at(-1), { method: 'crashPeerIo', args: [] });
  t.deepEqual(await session.execute('debug crash-qemu'), { ok: true, lines: ['stopped the QEMU I/O thread as a crash would'], json: { crashed: 'qemu' } });
  t.deepEqual(sw.changes.at(-1), { method: 'crashQemuIo', args: [] });
});

test('debug crash-on-frame ID MAC arms the drill for that VLAN and takes only a unicast MAC', async (t) => {
  const { sw, session } = fixture();
  t.deepEqual(await session.execute('debug crash-on-frame 10 02:de:ad:00:00:01'), {
    ok: true,
    lines: ['the forwarding thread of VLAN 10 now dies on every frame from 02:de:ad:00:00:01'],
    json: { armed: { vid: 10, mac: '02:de:ad:00:00:01' } },
  });
  t.deepEqual(sw.changes, [{ method: 'crashOnFrame', args: [10, '02:de:ad:00:00:01'] }]);
  t.like(await session.execute('debug crash-on-frame 10 ff:ff:ff:ff:ff:ff'), { ok: false, code: 'EBADARG' });
  t.like(await session.execute('debug crash-on-frame 10 nope'), { ok: false, code: 'EBADARG' });
});
