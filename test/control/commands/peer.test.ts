// Tests for src/control/commands/peer.ts: `show peers` as text and JSON, `peer HOST
// PORT` and `no peer HOST PORT` against a SampleSwitch, their errors and argument
// checks, and that they run at switch level only. Pure units: no threads, no sockets.

import test from 'ava';
import { createCommandRegistry } from '../../../src/control/commands/create-command-registry.js';
import { ConsoleSession } from '../../../src/control/console-session.js';
import { PEER_COMMANDS } from '../../../src/control/commands/peer.js';
import { parsePeerHost, parsePort as parsePeerPort } from '../../../src/control/commands/args.js';
import { SampleSwitch } from '../../../src/docs/sample-switch.js';
import { sampleSwitch } from '../../../src/docs/sample-data.js';

/** The sample switch's peers: 10.0.0.2 discovered and up, 10.0.0.3 static and down. */
function fixture(): { sw: SampleSwitch; session: ConsoleSession } {
  const sw = sampleSwitch();
  return { sw, session: new ConsoleSession(createCommandRegistry(), sw) };
}

test('show peers prints where the switch peers, each peer with its counters and drops, and the discovery and stranger counts', async (t) => {
  const { session } = fixture();
  const reply = await session.execute('show peers');
  t.deepEqual(reply, {
    ok: true,
    lines: [
      'peering on 10.0.0.1:3333; discovery 239.13.13.13:3535 via 10.0.0.1 (ttl 1, text announcements); every 1 s, expiry after 3 missed',
      'socket buffers: send 8 MiB, receive 8 MiB',
      'sealing: key 85220c5e (accepting 85220c5e, 5a313a40), frames encrypted and authenticated',
      'ADDRESS        LEARNED     STATE  HEARD  PORT  FRAMES-IN  BYTES-IN  FRAMES-OUT  BYTES-OUT',
      '10.0.0.2:3333  discovered  up     0s     3     120        9000      80          7040',
      '    drops: no-vlan=4',
      '    offload: yes (not on VLANs 20,30), 7 frames in, 5 out',
      '10.0.0.3:3333  static      down   1m15s  -     0          0         0           0',
      '    drops: none',
      '    offload: no (the peer has not advertised it), 0 frames in, 0 out',
      'announcements: sent 40, accepted 40 (sockaddr 0), own 40, malformed 1 (oversized 0)',
      'discovered peers: 1 of at most 256, at most 16 new a second; refused: none',
      'announcements refused: none',
      'strangers: 2 datagrams from non-peers dropped (last from 10.0.0.66:40000)',
      'peer socket drops: recv-error=1',
    ],
    json: (reply as { json: unknown }).json,
  });
});

test('show peers says how many announcements of new peers the discovery limits refused, and why', async (t) => {
  const { sw, session } = fixture();
  const d = sw.peering.discovery;
  if (d === null) return t.fail();
  sw.peering.discovery = { ...d, maxPeers: 1, peerRate: 4, counters: { ...d.counters, 'peer-limit': 1900, 'peer-rate': 84 } };
  const reply = await session.execute('show peers');
  t.true(reply.ok && reply.lines.includes('discovered peers: 1 of at most 1, at most 4 new a second; refused: peer-limit=1900 peer-rate=84'));
});

test('show peers says when offloaded frames between peers are off here', async (t) => {
  const { sw, session } = fixture();
  sw.peering.offload = false;
  const reply = await session.execute('show peers');
  t.true(reply.ok && reply.lines.includes('    offload: off here (--no-peer-offload), 7 frames in, 5 out'));
});

test('show peers says which peers are legacy (the original DiVES) and what they are sent, and how many announcements were sockaddrs', async (t) => {
  const { sw, session } = fixture();
  const d = sw.peering.discovery;
  if (d === null) return t.fail();
  sw.peering.discovery = { ...d, format: 'sockaddr', counters: { ...d.counters, sockaddr: 12 } };
  const p = sw.addPeer('10.0.0.4:3333', 'discovered', { legacy: true, framesOut: 3 });
  p.drops['legacy-too-big'] = 2;
  const reply = await session.execute('show peers');
  t.true(reply.ok);
  if (!reply.ok) return;
  const at = reply.lines.findIndex((l) => l.startsWith('10.0.0.4:3333'));
  t.deepEqual(reply.lines.slice(at + 1, at + 3), [
    '    drops: legacy-too-big=2',
    '    legacy: the original DiVES (only sockaddr announcements heard); sent plain frames of at most 16380 bytes, nothing else',
  ]);
  t.regex(reply.lines[0], /\(ttl 1, sockaddr announcements\)/);
  t.true(reply.lines.includes('announcements: sent 40, accepted 40 (sockaddr 12), own 40, malformed 1 (oversized 0)'));
  const json = await session.execute('show peers', { json: true });
  t.like(json.ok ? JSON.parse(json.lines[0]) : {}, { discovery: { format: 'sockaddr' }, peers: [{ legacy: false }, { legacy: false }, { address: '10.0.0.4:3333', legacy: true }] });
});

test('show peers has a JSON form with every counter', async (t) => {
  const { sw, session } = fixture();
  const reply = await session.execute('show peers', { json: true });
  t.true(reply.ok);
  if (!reply.ok) return;
  const json = JSON.parse(reply.lines[0]);
  t.deepEqual(json, JSON.parse(JSON.stringify({ ...sw.peering, peers: sw.peers })));
  t.like(json.peers[0], { address: '10.0.0.2:3333', learned: 'discovered', state: 'up', portId: 3, framesIn: 120, plainVids: [20, 30], offloadedOut: 5, drops: { 'no-vlan': 4, short: 0, offload: 0 } });
});

test('show peers without peers, and without discovery, says so', async (t) => {
  const sw = new SampleSwitch();
  sw.peering.discovery = null;
  const session = new ConsoleSession(createCommandRegistry(), sw);
  t.like(await session.execute('show peers'), {
    ok: true,
    lines: [
      'peering on 10.0.0.1:3333; discovery off (static peers only); every 1 s, expiry after 3 missed',
      'socket buffers: send 8 MiB, receive 8 MiB',
      'sealing: key 85220c5e (accepting 85220c5e, 5a313a40), frames encrypted and authenticated',
      'ADDRESS  LEARNED  STATE  HEARD  PORT  FRAMES-IN  BYTES-IN  FRAMES-OUT  BYTES-OUT',
      '(no peers)',
      'strangers: 0 datagrams from non-peers dropped',
      'peer socket drops: none',
    ],
  });
  sw.peering.local = null;
  t.like(await session.execute('show peers'), { ok: true, lines: ['(peering is not running)'] });
});

test('peer HOST PORT adds a static peer and no peer HOST PORT removes it', async (t) => {
  const { sw, session } = fixture();
  t.like(await session.execute('peer 10.0.0.9 3333'), {
    ok: true,
    lines: ['static peer 10.0.0.9:3333 added (down until it answers a keepalive)'],
    json: { peer: { address: '10.0.0.9:3333', learned: 'static', state: 'down' } },
  });
  t.like(await session.execute('peer [fd00::9] 3333'), { ok: true, lines: ['static peer [fd00::9]:3333 added (down until it answers a keepalive)'] });
  t.deepEqual(sw.staticPeers(), [
    { host: '10.0.0.3', port: 3333 },
    { host: '10.0.0.9', port: 3333 },
    { host: 'fd00::9', port: 3333 },
  ]);
  t.deepEqual(await session.execute('no peer 10.0.0.9 3333'), {
    ok: true,
    lines: ['static peer 10.0.0.9:3333 removed'],
    json: { removed: { host: '10.0.0.9', port: 3333 } },
  });
  t.deepEqual(sw.changes, [
    { method: 'addStaticPeer', args: ['10.0.0.9', 3333] },
    { method: 'addStaticPeer', args: ['fd00::9', 3333] },
    { method: 'removeStaticPeer', args: ['10.0.0.9', 3333] },
  ]);
});

test('the switch\'s refusals come back as error replies', async (t) => {
  const { session } = fixture();
  t.like(await session.execute('peer 10.0.0.3 3333'), { ok: false, code: 'EATTACHED' });
  t.like(await session.execute('no peer 10.0.0.2 3333'), { ok: false, code: 'ENOTATTACHED' });
});

test('peer commands run at switch level only and check their arguments', async (t) => {
  const { session } = fixture();
  session.mode = { vid: 10 };
  t.like(await session.execute('show peers'), { ok: false, code: 'EBADCMD', message: '"show peers" is a switch-level command; leave VLAN mode with "exit"' });
  t.like(await session.execute('peer 10.0.0.9 3333'), { ok: false, code: 'EBADCMD' });
  session.mode = null;
  t.like(await session.execute('peer 10.0.0.9'), { ok: false, code: 'EBADARG', message: '"peer" needs PORT; usage: peer HOST PORT' });
  t.like(await session.execute('peer 10.0.0.9 0'), { ok: false, code: 'EBADARG' });
  t.like(await session.execute('no peer 10.0.0.9 3333 now'), { ok: false, code: 'EBADARG' });
  t.is(parsePeerHost('[::1]'), '::1');
  t.is(parsePeerHost('node7.example'), 'node7.example');
  t.throws(() => parsePeerHost('[]'), { code: 'EBADARG' });
  t.is(parsePeerPort('65535'), 65535);
  for (const bad of ['0', '65536', 'x', '']) t.throws(() => parsePeerPort(bad), { code: 'EBADARG' }, bad);
});

test('help lists the peer commands at switch level', async (t) => {
  const { session } = fixture();
  const reply = await session.execute('help peer');
  t.like(reply, { ok: true });
  if (!reply.ok) return;
  t.true(reply.lines[0] === 'Switch level:');
  t.true(reply.lines.some((l) => l.startsWith('  peer HOST PORT  ')));
  t.deepEqual(PEER_COMMANDS.map((c) => c.syntax), ['show peers', 'peer HOST PORT', 'no peer HOST PORT']);
});

test('show peers says when nothing is sealed, and which announcements a keyed switch refused and why', async (t) => {
  const { sw, session } = fixture();
  const d = sw.peering.discovery;
  if (d === null) return t.fail();
  sw.peering.discovery = { ...d, counters: { ...d.counters, unauthenticated: 3, 'bad-auth': 2, replay: 1 } };
  let reply = await session.execute('show peers');
  t.true(reply.ok && reply.lines.includes('announcements refused: unauthenticated=3 bad-auth=2 replay=1'));
  sw.peering.sealing = null;
  reply = await session.execute('show peers');
  t.true(reply.ok && reply.lines.includes('sealing: none (no cluster key): datagrams and announcements in the original format, neither authenticated nor encrypted'));
});
