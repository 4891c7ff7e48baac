// Tests for src/control/commands/session.ts: `help` and `help WORD...`. Pure units:
// no threads, no sockets.

import test from 'ava';
import { fixture } from '../../helpers/command-session.js';
test('help lists every visible command grouped by level, and help debug the hidden ones', async (t) => {
  const { session } = fixture();
  const reply = await session.execute('help');
  t.snapshot(reply);
  t.true(reply.ok);
  if (!reply.ok) return;
  for (const syntax of ['show vlans', 'show macs', 'tap DEVNAME', 'no listen unix PATH', 'vlan ID [COMMAND...]', 'quit']) {
    t.true(reply.lines.some((l) => l.startsWith(`  ${syntax}  `)), syntax);
  }
  t.false(reply.lines.some((l) => l.includes('crash-')));
  t.deepEqual(reply.lines.filter((l) => !l.startsWith(' ')).slice(0, 3), [
    'Switch level:',
    'VLAN level (enter with "vlan ID", leave with "exit"):',
    'Either level:',
  ]);

  const debug = await session.execute('help debug');
  t.snapshot(debug);
  t.like(debug, {
    ok: true,
    lines: [
      'Either level:',
      '  debug crash-worker ID        Crash the forwarding thread of VLAN ID on purpose, for recovery drills.',
      '  debug crash-on-frame ID MAC  Make the forwarding thread of VLAN ID die on every frame from MAC, as a bug on that frame would; it is restarted within its budget, then the VLAN goes down.',
      '  debug crash-tap DEVNAME      Stop the I/O thread of TAP DEVNAME as a crash would, for recovery drills.',
      '  debug crash-peers            Stop the peer I/O thread as a crash would, for recovery drills.',
      '  debug crash-qemu             Stop the QEMU I/O thread as a crash would, for recovery drills.',
      '  debug crash-vxlan            Stop the VXLAN I/O thread as a crash would, for recovery drills.',
      '  debug trace WHAT             Trace frames through the threads (WHAT: on or off); "show trace" prints where their time goes. Costs a clock read per frame and thread while on.',
    ],
  });
});

test('help WORD lists the commands that start with it, and its JSON lists them too', async (t) => {
  const { session } = fixture();
  const reply = await session.execute('json help no listen');
  t.like(reply, { ok: true });
  if (!reply.ok) return;
  t.deepEqual((reply.json as { commands: { syntax: string }[] }).commands.map((c) => c.syntax), ['no listen HOSTNAME PORT trunk', 'no listen unix PATH trunk', 'no listen HOSTNAME PORT', 'no listen unix PATH']);
  t.like(await session.execute('help nope'), { ok: false, code: 'EBADCMD', message: 'no command starts with "nope"; try "help"' });
});
