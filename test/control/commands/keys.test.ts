// The key commands against the sample switch (src/docs/sample-keys.ts): what `show keys`,
// `key add`, `key use` and `key remove` print, what they refuse, and that no secret is shown.

import test from 'ava';
import { ConsoleSession } from '../../../src/control/console-session.js';
import { createCommandRegistry } from '../../../src/control/commands/create-command-registry.js';
import { sampleSwitch } from '../../../src/docs/sample-data.js';

function fixture() {
  const sw = sampleSwitch();
  return { sw, session: new ConsoleSession(createCommandRegistry(), sw) };
}

test('show keys lists each key by id, role, since and file, and never a secret', async (t) => {
  const { session } = fixture();
  const reply = await session.execute('show keys');
  t.deepEqual(reply.ok && reply.lines, [
    'peer datagrams and announcements are sealed with XChaCha20-Poly1305 (libsodium below 1024 bytes, OpenSSL above): encrypted and authenticated; clocks may differ by 60 s',
    'KEY-ID    ROLE    SINCE                     FILE',
    '85220c5e  send    2026-11-30T09:00:00.000Z  /etc/dives/cluster.key',
    '5a313a40  accept  2026-11-30T09:00:00.000Z  /etc/dives/next.key',
  ]);
  const json = await session.execute('json show keys');
  const text = json.ok ? json.lines[0] : '';
  t.like(JSON.parse(text), { keyed: true, encrypt: true, maxClockSkewSeconds: 60, keys: [{ id: '85220c5e', role: 'send' }, { id: '5a313a40', role: 'accept' }] });
  // The sample's secrets are bytes of 01 and 02: neither run appears anywhere.
  t.false(/0101010101|0202020202|AQEBAQEB|AgICAgIC/.test(text + (reply.ok ? reply.lines.join('\n') : '')));
});

test('a rotation: key add, key use, key remove change the roles in that order', async (t) => {
  const { sw, session } = fixture();
  t.like(await session.execute('key add /etc/dives/third.key'), { ok: true, lines: ['key 286e4558 added from /etc/dives/third.key: datagrams sealed with it are accepted; "key use 286e4558" seals with it'] });
  t.like(await session.execute('key use 286E4558'), { ok: true, lines: ['sealing with key 286e4558; the others held are still accepted'] });
  t.like(await session.execute('key remove 85220c5e'), { ok: true, lines: ['key 85220c5e removed: datagrams sealed with it are refused'] });
  t.deepEqual(
    sw.showKeys().keys.map((k) => [k.id, k.role]),
    [
      ['5a313a40', 'accept'],
      ['286e4558', 'send'],
    ],
  );
});

test('key commands refuse bad ids, the key in use, unknown keys and a second copy of a key', async (t) => {
  const { session } = fixture();
  t.like(await session.execute('key use 123'), { ok: false, code: 'EBADARG' });
  t.like(await session.execute('key use 0badc0de'), { ok: false, code: 'ENOTATTACHED' });
  t.like(await session.execute('key remove 85220c5e'), { ok: false, code: 'EBADARG' });
  t.like(await session.execute('key add /etc/dives/third.key'), { ok: true });
  t.like(await session.execute('key add /etc/dives/again.key'), { ok: false, code: 'EATTACHED' });
  t.like(await session.execute('vlan 10 key use 85220c5e'), { ok: false });
});
