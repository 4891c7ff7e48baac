// Keyed peering, for real: switches in network namespaces started with --key-file
// (docs/security.md). What the underlay sees (sealed, encrypted or not), key rotation under
// traffic, a keyed and an unkeyed switch refusing each other, keyed static peers, and the
// start-time checks of the key file. The other refusals (another key, forgers, replays) are
// test/peer/peer-keys-refusals.test.ts. The namespace tests need root (privTest); the last
// two run anywhere.

import test from 'ava';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, sweepStale } from '../helpers/netns.js';
import { privileged, privTest } from '../helpers/privileged.js';
import { sleep, untilValue } from '../helpers/until.js';
import { DISCOVERY_PORT, PEER_PORT } from '../helpers/two-hosts.js';
import { BIN, freeUdpPort, runCtl, startSwitch, tempDir } from '../helpers/ctl-process.js';
import { pcapCapture, type CapturedUdp } from '../helpers/udp-capture.js';
import { generateKey, writeKeyFile } from '../../src/crypto/cluster-key.js';
import type { KeysInfo } from '../../src/crypto/key-control.js';
import { SEAL_F_ADDRESSED, SEAL_F_ENCRYPTED, SEAL_MAGIC } from '../../src/crypto/sealed-datagram.js';
import { topology, keyFile, peers, waitPeers, key, up, peerOf, discovery, log, lit, relaunch, ping, iperf, FAST, NO_REPLY, PATTERN, PATTERN_TWICE, PING_DATAGRAM } from '../helpers/keyed-hosts.js';

test.before(async () => {
  if (privileged.ok) await sweepStale();
});

privTest('two switches with the same key discover each other, ping and carry TCP, every datagram sealed: frames encrypted, or visible with --no-encrypt', async (t) => {
  t.timeout(60_000);
  for (const encrypt of [true, false]) {
    const mode = encrypt ? 'encrypted' : '--no-encrypt';
    const { fx, topo, keyDir } = await topology(t, 2);
    const [h1, h2] = topo.hosts;
    const k = keyFile(keyDir, 'cluster.key');
    const args = ['--key-file', k.path, ...(encrypt ? [] : ['--no-encrypt'])];
    await Promise.all([
      h1.start([{ name: 'a', vid: 10, cidr: '10.98.20.1/24' }], { args }),
      h2.start([{ name: 'b', vid: 10, cidr: '10.98.20.2/24' }], { args }),
    ]);
    await waitPeers(h1, up(key(h2)), 5000, 'peer up');
    const p2 = await waitPeers(h2, up(key(h1)), 5000, 'peer up');
    t.deepEqual(p2.sealing, { sendKey: k.key.idHex, keys: [k.key.idHex], encrypt }, mode);
    t.like(await h1.json<KeysInfo>('show keys'), { keyed: true, encrypt, keys: [{ id: k.key.idHex, role: 'send', source: k.path }] });

    // Everything on h1's underlay link, both ways, while a pings b with a payload one can spot.
    const cap = await pcapCapture(fx, h1.ns, h1.dev, `udp port ${PEER_PORT} or udp port ${DISCOVERY_PORT}`, join(keyDir, 'underlay.pcap'));
    const [a, b] = [h1.vm('a'), h2.vm('b')];
    const pinged = await ping(fx, a, b.addr, ['-c', '5', '-i', '0.1', '-p', PATTERN]);
    t.true(pinged.ok, `${mode}: ${pinged.out}`);
    const fromEach = (ds: CapturedUdp[]) => [h1, h2].every((h) => ds.some((d) => d.dport === DISCOVERY_PORT && d.src === h.addr));
    await untilValue(() => cap.peek(), fromEach, 3000, 'an announcement from each host in the capture', { everyMs: 50 });
    const got = await cap.stop();

    const datagrams = got.filter((d) => d.sport === PEER_PORT || d.dport === PEER_PORT);
    const announcements = got.filter((d) => d.dport === DISCOVERY_PORT);
    t.log(`${mode}: ${datagrams.length} peer datagrams and ${announcements.length} announcements captured`);
    const bad = datagrams.filter((d) => d.payload[0] !== SEAL_MAGIC || (d.payload[1] & SEAL_F_ENCRYPTED) !== (encrypt ? SEAL_F_ENCRYPTED : 0));
    t.deepEqual(bad.map((d) => d.payload.subarray(0, 8).toString('hex')), [], `${mode}: every peer datagram is sealed, encrypted or not as configured`);
    const echoes = datagrams.filter((d) => d.payload.length === PING_DATAGRAM);
    t.true(echoes.length >= 10, `${mode}: the 5 echoes and 5 replies were captured`);
    t.true(echoes.every((d) => (d.payload[1] & SEAL_F_ADDRESSED) !== 0), `${mode}: frames are sealed for the receiver's session`);
    const visible = datagrams.filter((d) => d.payload.includes(PATTERN_TWICE)).length;
    if (encrypt) t.is(visible, 0, 'the ping payload is nowhere in clear');
    else t.true(visible >= 10, `--no-encrypt: the ping payload is in clear in every echo and reply (${visible})`);
    t.true(announcements.every((d) => d.payload[0] === SEAL_MAGIC && d.payload[1] === 0), 'every announcement is sealed (authenticated only)');
    // The announcement's text is authenticated, not hidden: the peer's HOST:PORT is public anyway.
    t.true(announcements.some((d) => d.payload.includes(Buffer.from(key(h1)))));

    const bps = await iperf(t, fx, a, b);
    t.log(`${mode}: iperf3 across two keyed hosts: ${(bps / 1e6).toFixed(0)} Mbit/s`);
    t.true(bps > 10e6, `${mode}: ${bps} bit/s`);
    const drops = peerOf(await peers(h2), h1)?.drops;
    t.like(drops, { unauthenticated: 0, keyed: 0, 'unknown-key': 0, 'bad-auth': 0, replay: 0, 'unknown-session': 0, stale: 0 }, mode);
    // Done with this pair: the switches go before their namespaces.
    await Promise.all([h1.dives?.stop('SIGKILL'), h2.dives?.stop('SIGKILL')]);
    await fx.cleanup();
  }
});

privTest('the cluster key is rotated (key add, key use, key remove on both switches) under a ping without losing one', async (t) => {
  t.timeout(60_000);
  const { fx, topo, keyDir } = await topology(t, 2);
  const [h1, h2] = topo.hosts;
  const k1 = keyFile(keyDir, 'k1.key');
  const k2 = keyFile(keyDir, 'k2.key');
  await Promise.all([
    h1.start([{ name: 'a', vid: 10, cidr: '10.98.24.1/24' }], { args: ['--key-file', k1.path] }),
    h2.start([{ name: 'b', vid: 10, cidr: '10.98.24.2/24' }], { args: ['--key-file', k1.path] }),
  ]);
  await waitPeers(h1, up(key(h2)), 5000, 'h2 up');
  await waitPeers(h2, up(key(h1)), 5000, 'h1 up');
  const [a, b] = [h1.vm('a'), h2.vm('b')];
  t.true(await fx.ping(a.ns, b.addr, { count: 3 }), 'ARP resolved before the count starts');

  // h1 by its console, h2 by `dives ctl`: the same commands either way.
  const ctl = async (line: string): Promise<void> => {
    const r = await runCtl(['-u', h2.dir, ...line.split(' ')]);
    t.is(r.code, 0, `dives ctl ${line}: ${r.stderr}`);
  };
  const pinging = ping(fx, a, b.addr, ['-c', '200', '-i', '0.02']);
  await sleep(300);
  const [added] = await Promise.all([h1.json(`key add ${k2.path}`), ctl(`key add ${k2.path}`)]);
  t.like(added, { key: { id: k2.key.idHex, role: 'accept', source: k2.path } });
  await sleep(500);
  t.like(await h1.json(`key use ${k2.key.idHex}`), { key: { id: k2.key.idHex, role: 'send' } });
  await ctl(`key use ${k2.key.idHex}`);
  await sleep(500);
  await Promise.all([h1.json(`key remove ${k1.key.idHex}`), ctl(`key remove ${k1.key.idHex}`)]);
  const pinged = await pinging;
  t.true(pinged.ok, pinged.out);
  t.regex(pinged.out, /200 packets transmitted, 200 received, 0% packet loss/);

  for (const [h, other] of [[h1, h2], [h2, h1]] as const) {
    t.like(await h.json<KeysInfo>('show keys'), { keyed: true, keys: [{ id: k2.key.idHex, role: 'send', source: k2.path }] }, `host ${h.index + 1}`);
    t.is((await h.json<KeysInfo>('show keys')).keys.length, 1, `host ${h.index + 1} holds only the new key`);
    const p = await peers(h);
    t.like(p.sealing, { sendKey: k2.key.idHex, keys: [k2.key.idHex] });
    t.like(peerOf(p, other), { state: 'up', drops: { 'unknown-key': 0, 'bad-auth': 0, replay: 0, 'unknown-session': 0 } }, `host ${h.index + 1}`);
    t.like(p.discovery?.counters, { 'unknown-key': 0, 'bad-auth': 0 });
    t.regex(log(h), lit(`keys: sealing with key ${k2.key.idHex} from now on`));
    t.regex(log(h), lit(`keys: removed key ${k1.key.idHex}`));
  }
  // From now on every datagram on the underlay is sealed with the new key.
  const cap = await pcapCapture(fx, h1.ns, h1.dev, `udp port ${PEER_PORT} or udp port ${DISCOVERY_PORT}`, join(keyDir, 'after.pcap'));
  t.true((await ping(fx, a, b.addr, ['-c', '3', '-i', '0.1'])).ok, 'the new key carries frames');
  await untilValue(() => cap.peek(), (ds) => ds.some((d) => d.dport === DISCOVERY_PORT), 3000, 'an announcement in the capture', { everyMs: 50 });
  const got = await cap.stop();
  t.true(got.length >= 7, `${got.length} datagrams captured`);
  t.deepEqual([...new Set(got.map((d) => d.payload.readUInt32BE(4)))], [k2.key.id], 'all sealed with the new key');
});

privTest('a keyed and an unkeyed switch refuse each other, by discovery and as static peers, counting and logging why', async (t) => {
  t.timeout(60_000);
  const { fx, topo, keyDir } = await topology(t, 2);
  const [h1, h2] = topo.hosts;
  const k = keyFile(keyDir, 'k.key');
  await Promise.all([
    h1.start([{ name: 'a', vid: 10, cidr: '10.98.25.1/24' }], { args: [...FAST, '--key-file', k.path] }),
    h2.start([{ name: 'b', vid: 10, cidr: '10.98.25.2/24' }], { args: FAST }),
  ]);
  const [a, b] = [h1.vm('a'), h2.vm('b')];

  // Discovery: four announcements refused on each side, and neither lists the other.
  const p1 = await waitPeers(h1, (p) => discovery(p, 'unauthenticated') >= 4, 5000, "h2's plain announcements refused");
  const p2 = await waitPeers(h2, (p) => discovery(p, 'keyed') >= 4, 5000, "h1's sealed announcements refused");
  t.deepEqual([p1.peers, p2.peers], [[], []], 'neither is a peer');
  t.regex(log(h1), lit(`discovery: refused an announcement without an authenticator from ${h2.addr}`));
  t.regex(log(h2), lit(`discovery: refused a sealed announcement (key ${k.key.idHex}) from ${h1.addr}: this switch has no cluster key`));
  t.false(await fx.ping(a.ns, b.addr, NO_REPLY));

  // Static peers, no discovery: each hears the other's keepalives and refuses them.
  await Promise.all([
    relaunch(h1, [...FAST, '--no-discovery', '--key-file', k.path], [`peer ${h2.addr} ${PEER_PORT}`]),
    relaunch(h2, [...FAST, '--no-discovery'], [`peer ${h1.addr} ${PEER_PORT}`]),
  ]);
  const s1 = await waitPeers(h1, (p) => (peerOf(p, h2)?.drops.unauthenticated ?? 0) >= 4, 5000, "h2's keepalives refused");
  const s2 = await waitPeers(h2, (p) => (peerOf(p, h1)?.drops.keyed ?? 0) >= 4, 5000, "h1's keepalives refused");
  t.like(peerOf(s1, h2), { learned: 'static', state: 'down', keepalivesIn: 0, framesIn: 0 });
  t.like(peerOf(s2, h1), { learned: 'static', state: 'down', keepalivesIn: 0, framesIn: 0 });
  t.true((peerOf(s1, h2)?.keepalivesOut ?? 0) > 0 && (peerOf(s2, h1)?.keepalivesOut ?? 0) > 0, 'both send keepalives');
  t.regex(log(h1), lit(`peer ${key(h2)} sent a datagram without an authenticator: this switch has a cluster key`));
  t.regex(log(h2), lit(`peer ${key(h1)} sent a sealed datagram (key ${k.key.idHex}): this switch has no cluster key`));
  t.false(await fx.ping(a.ns, b.addr, NO_REPLY));
  // Logged once per peer and reason, not once per keepalive.
  t.is(log(h1).split('sent a datagram without an authenticator').length - 1, 1);
  t.is(log(h2).split('sent a sealed datagram').length - 1, 1);
});

privTest('two keyed switches as static peers come up by keepalives alone, again when one restarts before the other expires it, and at once when a peer thread dies', async (t) => {
  t.timeout(60_000);
  const { fx, topo, keyDir } = await topology(t, 2);
  const [h1, h2] = topo.hosts;
  const k = keyFile(keyDir, 'k.key');
  await Promise.all([
    h1.start([{ name: 'a', vid: 10, cidr: '10.98.26.1/24' }], { args: ['--no-discovery', '--key-file', k.path], rc: [`peer ${h2.addr} ${PEER_PORT}`] }),
    h2.start([{ name: 'b', vid: 10, cidr: '10.98.26.2/24' }], { args: ['--no-discovery', '--key-file', k.path], rc: [`peer ${h1.addr} ${PEER_PORT}`] }),
  ]);
  const [a, b] = [h1.vm('a'), h2.vm('b')];
  await waitPeers(h1, up(key(h2)), 5000, 'static h2 up');
  await waitPeers(h2, up(key(h1)), 5000, 'static h1 up');
  t.true(await fx.ping(a.ns, b.addr, { count: 5 }), 'a pings b over keyed static peers');

  // h1 restarts at once, in a new session, while h2 still holds it up in the old one.
  await h1.dives?.stop('SIGKILL');
  const restarted = Date.now();
  await h1.restart();
  t.true(await fx.ping(h1.vm('a').ns, b.addr, { count: 10 }), 'a pings b again');
  t.log(`a pinged b ${Date.now() - restarted} ms after h1 restarted`);
  await waitPeers(h1, up(key(h2)), 5000, 'h2 up after the restart');
  const p2 = await waitPeers(h2, up(key(h1)), 5000, 'h1 up after the restart');
  // A peer that restarted is no attacker: h2 took its new session without a refusal.
  t.like(peerOf(p2, h1)?.drops, { 'bad-auth': 0, replay: 0, stale: 0, 'unknown-key': 0 });

  // h1's peer I/O thread dies and is restarted: it goes on with the same session, counter
  // and replay windows (memory main keeps), so neither side refuses anything of the other.
  await h1.json('debug crash-peers');
  t.true(await fx.ping(a.ns, b.addr, { count: 10 }), 'a pings b after h1\'s peer thread was restarted');
  const [q1, q2] = [await peers(h1), await peers(h2)];
  t.like(peerOf(q2, h1)?.drops, { 'bad-auth': 0, replay: 0, stale: 0, 'unknown-session': 0 }, 'h1 numbers on from where its dead thread stopped');
  t.like(peerOf(q1, h2)?.drops, { replay: 0, stale: 0, 'unknown-session': 0, 'no-session': 0 }, "h1's new thread knows h2's session at once");
});

test('dives start refuses a key file that is missing, readable by others or malformed, and --no-encrypt without one: it exits at once, naming the file and the fix', async (t) => {
  t.timeout(30_000);
  const dir = tempDir(t);
  const good = generateKey();
  const secret = good.secret.toString('hex');
  const cases: { name: string; text?: string; mode?: number; expect: RegExp[] }[] = [
    { name: 'missing', expect: [/no such file/, /make one with `dives keygen /] },
    { name: 'group-readable', text: `dives-key-v1 ${good.idHex} ${secret}\n`, mode: 0o640, expect: [/readable by group or others \(mode 0640\)/, /run `chmod 600 /] },
    { name: 'world-readable', text: `dives-key-v1 ${good.idHex} ${secret}\n`, mode: 0o644, expect: [/mode 0644/, /run `chmod 600 /] },
    { name: 'empty', text: '# nothing here\n', expect: [/no key line/, /dives keygen/] },
    { name: 'one-word', text: 'hello\n', expect: [/line 1: a key line is 3 words \(dives-key-v1 ID SECRET\)/] },
    { name: 'damaged', text: `dives-key-v1 ${good.idHex} ${secret.slice(0, -1)}${secret.endsWith('0') ? '1' : '0'}\n`, expect: [/does not match its secret/, /damaged or was edited/] },
    { name: 'swapped', text: `dives-key-v1 ${secret} ${good.idHex}\n`, expect: [/the key id must be 8 hex digits \(found 64 characters\)/] },
  ];
  const noKey = run(process.execPath, [BIN, 'start', '--no-console', '-u', join(dir, 'no-key'), '-h', '127.0.0.1', '-p', String(await freeUdpPort()), '--no-discovery', '--no-encrypt'], { timeoutMs: 10_000 });
  await Promise.all(
    cases.map(async (c) => {
      const file = join(dir, `${c.name}.key`);
      if (c.text !== undefined) {
        writeFileSync(file, c.text, { mode: 0o600 });
        chmodSync(file, c.mode ?? 0o600);
      }
      const sockets = join(dir, c.name);
      const args = ['start', '--no-console', '-u', sockets, '-h', '127.0.0.1', '-p', String(await freeUdpPort()), '--no-discovery', '--key-file', file];
      const started = Date.now();
      const r = await run(process.execPath, [BIN, ...args], { timeoutMs: 10_000 });
      t.log(`${c.name}: exit ${r.code} after ${Date.now() - started} ms: ${r.stderr.trim().split('\n').at(-1)}`);
      t.true(r.code > 0, `${c.name}: exits non-zero by itself (${r.code})`);
      t.regex(r.stderr, /not starting: key file /, c.name);
      t.true(r.stderr.includes(file), `${c.name}: the message names the file`);
      for (const re of c.expect) t.regex(r.stderr, re, c.name);
      t.notRegex(r.stderr, /DiVES switch up/, c.name);
      t.false(existsSync(join(sockets, 'dives.ctl')), `${c.name}: no control socket left behind`);
      t.false(r.stderr.toLowerCase().includes(secret), `${c.name}: the secret is not printed`);
    }),
  );
  const r = await noKey;
  t.true(r.code > 0, `--no-encrypt without a key: exit ${r.code}`);
  t.regex(r.stderr, /--no-encrypt needs --key-file/);
});

test('key add, use and remove refuse what they cannot do, and no secret is printed: not by show keys, show peers or show running-config (text or JSON, console or dives ctl), nor in the log of a keyed switch from start to stop', async (t) => {
  t.timeout(30_000);
  const dir = tempDir(t);
  const [k1, k2] = [generateKey(), generateKey()];
  const [f1, f2] = [join(dir, 'k1.key'), join(dir, 'k2.key')];
  writeKeyFile(f1, k1);
  writeKeyFile(f2, k2);
  const p = await startSwitch(t, join(dir, 'sw'), ['-h', '127.0.0.1', '--key-file', f1, '--max-clock-skew', '30']);
  const said: string[] = [];
  // The console prints no prompt on a pipe, so each command is followed by an unknown one
  // whose error marks where the reply ends.
  let marks = 0;
  const cmd = async (line: string): Promise<string> => {
    const mark = `dvt-end-${++marks}`;
    const out = await p.command(`${line}\n${mark}`, new RegExp(`unknown command "${mark}"`));
    const reply = out.slice(0, out.indexOf(`error EBADCMD: unknown command "${mark}"`));
    said.push(reply);
    return reply;
  };
  await cmd(`peer 127.0.0.1 ${await freeUdpPort()}`);
  // Refusals say why and what to do, and change nothing.
  const loose = join(dir, 'loose.key');
  writeKeyFile(loose, generateKey());
  chmodSync(loose, 0o644);
  t.regex(await cmd(`key add ${loose}`), /^error \w+: key file .*loose\.key is readable by group or others \(mode 0644\); run `chmod 600 /m);
  t.regex(await cmd(`key remove ${k1.idHex}`), new RegExp(`^error \\w+: key ${k1.idHex} is the one this switch seals with`, 'm'));
  t.regex(await cmd('key use 0badc0de'), /^error \w+: no key 0badc0de is held/m);
  // VXLAN datagrams have no room for a MAC: a keyed switch takes no VTEP.
  t.regex(await cmd('vlan 10 vxlan remote 10.9.9.9'), /^error EBADARG: vxlan remote 10\.9\.9\.9: this switch has a cluster key .* VXLAN datagrams carry no authenticator/m);
  t.regex(await cmd('vlan 10 vxlan group 239.9.9.9'), /^error EBADARG: vxlan group 239\.9\.9\.9: this switch has a cluster key/m);
  await cmd(`key add ${f2}`);
  let keys: KeysInfo | undefined;
  const shows = ['show keys', 'show peers', 'show running-config'];
  for (const line of shows) {
    await cmd(line);
    const json = await cmd(`json ${line}`);
    if (line === 'show keys') keys = JSON.parse(json) as KeysInfo;
  }
  const viaCtl = await Promise.all(shows.flatMap((line) => [[], ['--json']].map((json) => runCtl(['-u', join(dir, 'sw'), ...json, ...line.split(' ')]))));
  t.deepEqual(viaCtl.map((r) => r.code), shows.flatMap(() => [0, 0]), 'dives ctl answered');
  t.true(viaCtl[0].stdout.includes(k2.idHex) && viaCtl[1].stdout.includes(k2.idHex), 'dives ctl show keys lists the keys');
  said.push(...viaCtl.flatMap((r) => [r.stdout, r.stderr]));
  t.like(keys, { keyed: true, encrypt: true, maxClockSkewSeconds: 30, keys: [{ id: k1.idHex, role: 'send', source: f1 }, { id: k2.idHex, role: 'accept', source: f2 }] });
  await cmd(`key use ${k2.idHex}`);
  await cmd(`key remove ${k1.idHex}`);
  t.regex(await cmd('show keys'), new RegExp(`\\n${k2.idHex} +send +\\S+ +${lit(f2).source}\\n$`));
  t.is(await p.stop('SIGTERM'), 0);
  const everything = [...said, p.stdout, p.stderr].join('\n').toLowerCase();
  t.regex(p.stderr, lit(`peers: cluster key ${k1.idHex} from ${f1}`), 'the log names the key by its id');
  for (const k of [k1, k2]) {
    t.false(everything.includes(k.secret.toString('hex')), `the secret of ${k.idHex} (hex) appears nowhere`);
    t.false(everything.includes(k.secret.toString('base64').toLowerCase()), `the secret of ${k.idHex} (base64) appears nowhere`);
  }
});
