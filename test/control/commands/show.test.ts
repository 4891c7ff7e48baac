// Tests for src/control/commands/show.ts: the text of `show macs`, `show ports`,
// `show vlans`, `show threads` and `show rings` against the sample switch, and empty
// tables. Pure units: no threads, no sockets.

import test from 'ava';
import { createCommandRegistry } from '../../../src/control/commands/create-command-registry.js';
import { ConsoleSession } from '../../../src/control/console-session.js';
import { SampleSwitch } from '../../../src/docs/sample-switch.js';
import { at, fixture } from '../../helpers/command-session.js';
test('show macs prints MAC, port and age in aligned columns', async (t) => {
  const { session } = fixture();
  t.deepEqual(await at(session, 10, 'show macs'), {
    ok: true,
    lines: ['MAC                PORT                   AGE', '02:00:00:00:00:01  tap:tap0               3s', '02:00:00:00:00:02  qemu:127.0.0.1:4000#3  2m05s'],
    json: {
      vid: 10,
      macs: [
        { mac: '02:00:00:00:00:01', port: 'tap:tap0', portId: 1, ageSeconds: 3 },
        { mac: '02:00:00:00:00:02', port: 'qemu:127.0.0.1:4000#3', portId: 2, ageSeconds: 125 },
      ],
    },
  });
});

test('show ports prints each port with its counters and its non-zero drops', async (t) => {
  const { session } = fixture();
  const reply = await at(session, 10, 'show ports');
  t.like(reply, {
    ok: true,
    lines: [
      'ID  NAME                   KIND  VID  RX-FRAMES  RX-BYTES  TX-FRAMES  TX-BYTES',
      '1   tap:tap0               tap   10   120        9000      80         7040',
      '    drops: none',
      '2   qemu:127.0.0.1:4000#3  qemu  10   7          602       9          1200',
      '    drops: runt=1 ring-full=3',
    ],
  });
});

test('show ports at switch level covers every VLAN and asks the switch for all', async (t) => {
  const { sw, session } = fixture();
  const reply = await at(session, null, 'show ports');
  t.true(reply.ok && reply.lines.some((l) => l.startsWith('3   peer:10.0.0.2:3333')));
  t.deepEqual(sw.calls, [{ method: 'showPorts', args: [undefined] }]);
});

test('empty tables print their header and say what is missing', async (t) => {
  const { session } = fixture();
  t.like(await at(session, 30, 'show macs'), { lines: ['MAC  PORT  AGE', '(no MACs learned)'] });
  t.like(await at(session, 30, 'show ports'), { lines: ['ID  NAME  KIND  VID  RX-FRAMES  RX-BYTES  TX-FRAMES  TX-BYTES', '(no ports in VLAN 30)'] });
  t.like(await at(session, 30, 'show taps'), { lines: ['NAME  VID  PORT  CREATED  STATE', '(no TAPs attached)'] });
  t.like(await at(session, 30, 'show listeners'), { lines: ['ADDRESS  VID  CONNECTIONS  MAX  STATE', '(no listeners)'] });
  const empty = new ConsoleSession(createCommandRegistry(), new SampleSwitch());
  t.like(await empty.execute('show vlans'), { lines: ['VID  STATE  PORTS  MACS  WORKER  FORWARDED  FLOODED  DROPPED', '(no VLANs)'] });
  t.like(await empty.execute('show ports'), { lines: ['ID  NAME  KIND  VID  RX-FRAMES  RX-BYTES  TX-FRAMES  TX-BYTES', '(no ports)'] });
});

test('show vlans says a down VLAN is down and why, under its row', async (t) => {
  const { sw, session } = fixture();
  sw.downVlans.set(30, 'died 4 times within 60 s, last: worker exited with code: 70');
  const reply = await at(session, null, 'show vlans');
  t.true(reply.ok);
  if (!reply.ok) return;
  const row = reply.lines.findIndex((l) => l.startsWith('30 '));
  t.regex(reply.lines[row], /^30\s+down\s/);
  t.is(reply.lines[row + 2], '    down: died 4 times within 60 s, last: worker exited with code: 70');
});

test('show threads lists each thread with its state, CPU and VLANs, and notes only what there is to say', async (t) => {
  const { session } = fixture();
  const reply = await at(session, null, 'show threads');
  t.like(reply, { ok: true });
  if (!reply.ok) return;
  t.is(reply.lines[0], 'NAME                 KIND        STATE  CPU  VLANS  RESTARTS  WAKEUPS');
  t.is(reply.lines[1], 'forwarding thread 0  forwarding  up     0    10     0         10');
  t.true(reply.lines.some((l) => l.startsWith('tap-io:tap0 ')));
});

test('show rings prints each ring with its producer, consumer, size and counters', async (t) => {
  const { session } = fixture();
  const reply = await at(session, null, 'show rings');
  t.like(reply, { ok: true });
  if (!reply.ok) return;
  t.is(reply.lines[0], 'ID  NAME         PRODUCER             CONSUMER             SIZE   USED  PUSHED  FULL  OVERSIZE  UNDELIVERED');
  t.is(reply.lines[1], '1   tap:tap0 rx  tap-io:tap0          forwarding thread 0  4 MiB  0 B   120     0     0         0');
});
