// Tests for src/peer/peering-options.ts: what `dives start` accepts for peering,
// the multicast interface it picks, the refusals and the loopback warning, and the key file's
// settings. Pure units (name lookups are faked; key files are written to a temporary directory).

import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey, writeKeyFile } from '../../src/crypto/cluster-key.js';
import { parseIntervalSeconds, resolvePeeringOptions, type PeeringFlags } from '../../src/peer/peering-options.js';

const base: PeeringFlags = {
  host: '127.0.0.1',
  port: 3333,
  discovery: true,
  group: '239.13.13.13',
  discoveryPort: 3535,
  interval: '1',
  expiry: 3,
  ttl: 1,
};

const noLookup = async (host: string): Promise<string> => {
  throw new Error(`unexpected lookup of ${host}`);
};

test('the defaults announce 127.0.0.1:3333 on loopback every second and expire after 3 missed', async (t) => {
  const o = await resolvePeeringOptions(base, noLookup);
  t.like(o, { host: '127.0.0.1', port: 3333, bind: { address: '127.0.0.1', port: 3333, family: 'udp4' }, intervalMs: 1000, expiryIntervals: 3, warnings: [] });
  t.like(o.discovery, { group: '239.13.13.13', port: 3535, interfaceAddress: '127.0.0.1', ttl: 1 });
  t.is(o.discovery?.announcement.toString('latin1'), '127.0.0.1:3333');
});

test('the multicast interface defaults to -h and can be given; a name for -h is resolved but announced as written', async (t) => {
  const o = await resolvePeeringOptions({ ...base, host: 'node7.example' }, async () => '10.0.0.7');
  t.like(o, { bind: { address: '10.0.0.7' }, discovery: { interfaceAddress: '10.0.0.7' } });
  t.is(o.discovery?.announcement.toString('latin1'), 'node7.example:3333');
  const given = await resolvePeeringOptions({ ...base, host: '10.0.0.7', multicastIf: '10.0.0.8' }, noLookup);
  t.is(given.discovery?.interfaceAddress, '10.0.0.8');
});

test('a loopback -h with discovery on another interface starts with a warning', async (t) => {
  const o = await resolvePeeringOptions({ ...base, multicastIf: '10.0.0.7' }, noLookup);
  t.is(o.warnings.length, 1);
  t.regex(o.warnings[0], /-h 127\.0\.0\.1 is a loopback address but discovery runs on 10\.0\.0\.7/);
});

test('a wildcard -h is refused with discovery and allowed without it', async (t) => {
  await t.throwsAsync(resolvePeeringOptions({ ...base, host: '0.0.0.0' }, noLookup), { code: 'EBADARG', message: /wildcard.*--no-discovery/ });
  const o = await resolvePeeringOptions({ ...base, host: '0.0.0.0', discovery: false }, noLookup);
  t.like(o, { bind: { address: '0.0.0.0', family: 'udp4' }, discovery: null });
});

test('an IPv6 -h peers over udp6 and needs --multicast-if for discovery', async (t) => {
  const o = await resolvePeeringOptions({ ...base, host: '[::1]', discovery: false }, noLookup);
  t.like(o, { host: '::1', bind: { address: '::1', family: 'udp6' } });
  await t.throwsAsync(resolvePeeringOptions({ ...base, host: '::1' }, noLookup), { code: 'EBADARG', message: /--multicast-if/ });
});

test('bad intervals, expiries, TTLs, interfaces and unresolvable names are refused with the flag named', async (t) => {
  for (const interval of ['0', '0.01', '-1', 'abc', '1e3', '4000']) {
    await t.throwsAsync(resolvePeeringOptions({ ...base, interval }, noLookup), { code: 'EBADARG', message: /--discovery-interval/ }, interval);
  }
  await t.throwsAsync(resolvePeeringOptions({ ...base, expiry: 0 }, noLookup), { message: /--peer-expiry/ });
  await t.throwsAsync(resolvePeeringOptions({ ...base, ttl: 256 }, noLookup), { message: /--multicast-ttl/ });
  await t.throwsAsync(resolvePeeringOptions({ ...base, multicastIf: 'eth0' }, noLookup), { message: /--multicast-if/ });
  await t.throwsAsync(resolvePeeringOptions({ ...base, host: 'nowhere.invalid' }, async () => Promise.reject(new Error('ENOTFOUND'))), {
    message: /-h nowhere\.invalid: cannot resolve/,
  });
});

test('discovery makes at most 256 peers, 16 new a second, unless --max-peers and --peer-rate say otherwise, and refuses nonsense', async (t) => {
  t.like((await resolvePeeringOptions(base, noLookup)).discovery, { maxPeers: 256, peerRate: 16 });
  t.like((await resolvePeeringOptions({ ...base, maxPeers: 4000, peerRate: 1 }, noLookup)).discovery, { maxPeers: 4000, peerRate: 1 });
  for (const maxPeers of [0, -1, 1.5, 65536]) {
    await t.throwsAsync(resolvePeeringOptions({ ...base, maxPeers }, noLookup), { code: 'EBADARG', message: /--max-peers must be a whole number of peers 1\.\.65535/ }, String(maxPeers));
  }
  for (const peerRate of [0, 0.5, 10_001]) {
    await t.throwsAsync(resolvePeeringOptions({ ...base, peerRate }, noLookup), { code: 'EBADARG', message: /--peer-rate must be a whole number of new peers a second 1\.\.10000/ }, String(peerRate));
  }
});

test('intervals take decimals', (t) => {
  t.is(parseIntervalSeconds('0.5'), 0.5);
  t.is(parseIntervalSeconds(2), 2);
  t.is(parseIntervalSeconds('0.05'), 0.05);
});

test('--discovery-format sockaddr announces the resolved -h as the original DiVES does, and warns of an interval it would not wait for', async (t) => {
  const o = await resolvePeeringOptions({ ...base, host: '10.0.0.7', discoveryFormat: 'sockaddr' }, noLookup);
  t.is(o.discovery?.format, 'sockaddr');
  t.is(o.discovery?.announcement.length, 16);
  t.is(o.discovery?.announcement.subarray(2, 8).toString('hex'), '0d050a000007');
  t.deepEqual(o.warnings, []);
  const named = await resolvePeeringOptions({ ...base, host: 'node7.example', discoveryFormat: 'sockaddr' }, async () => '10.0.0.8');
  t.is(named.discovery?.announcement.subarray(4, 8).toString('hex'), '0a000008', 'a name is announced resolved: a sockaddr holds an address');
  const text = await resolvePeeringOptions({ ...base, host: '10.0.0.7' }, noLookup);
  t.like(text.discovery, { format: 'text' });
  const slow = await resolvePeeringOptions({ ...base, host: '10.0.0.7', discoveryFormat: 'sockaddr', interval: '5' }, noLookup);
  t.regex(slow.warnings.join('\n'), /the original DiVES forgets a switch it has not heard for 5 s/);
});

test('--key-file gives a key ring, a new random session at each start and the clock skew; sockaddr announcements, --no-encrypt without a key and a bad skew are refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dives-opts-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'k.key');
  const key = generateKey();
  writeKeyFile(file, key);
  const a = await resolvePeeringOptions({ ...base, keyFile: file }, noLookup);
  const b = await resolvePeeringOptions({ ...base, keyFile: file, encrypt: false, maxClockSkew: 5 }, noLookup);
  t.is(a.security?.ring.sendId, key.id);
  t.true(a.security?.ring.encrypt);
  t.is(a.security?.skewMs, 60_000);
  t.is(a.security?.session.length, 8);
  t.notDeepEqual(a.security?.session, b.security?.session, 'each start has its own session');
  t.like(b.security, { skewMs: 5000 });
  t.false(b.security?.ring.encrypt);
  t.is((await resolvePeeringOptions(base, noLookup)).security, null, 'no key: the original wire format');
  await t.throwsAsync(resolvePeeringOptions({ ...base, keyFile: file, discoveryFormat: 'sockaddr' }, noLookup), { message: /--discovery-format sockaddr cannot go with --key-file/ });
  await t.throwsAsync(resolvePeeringOptions({ ...base, encrypt: false }, noLookup), { message: /--no-encrypt needs --key-file/ });
  await t.throwsAsync(resolvePeeringOptions({ ...base, keyFile: file, maxClockSkew: 0 }, noLookup), { message: /--max-clock-skew must be whole seconds 1\.\.86400/ });
});
