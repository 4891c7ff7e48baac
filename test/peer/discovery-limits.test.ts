// Tests for src/peer/discovery-limits.ts, first as a pure unit with the clock passed in,
// then on a real switch that 2,000 fake announcers on its discovery group (loopback
// multicast) try to give 2,000 peers: at most --max-peers, at most --peer-rate new a
// second, every refusal counted, and nothing left behind once the peers expire.

import test from 'ava';
import { DISCOVERY_COUNTERS } from '../../src/core/counters.js';
import { LogLimiter } from '../../src/core/log-limiter.js';
import { DiscoveryLimits } from '../../src/peer/discovery-limits.js';
import { announcement, captureLog, discoverySwitch, fakeHost, flood } from '../helpers/announcer.js';
import { sleep, until } from '../helpers/until.js';

function limits(maxPeers: number, peerRate: number) {
  const { log, lines } = captureLog();
  const counts = DISCOVERY_COUNTERS.create();
  const l = new DiscoveryLimits({ maxPeers, peerRate, counts, lines: new LogLimiter(log, { now: () => 0 }) });
  return { l, lines, counters: () => DISCOVERY_COUNTERS.toRecord(counts) };
}

test('a new peer needs room under the most allowed; a refusal is counted and logged', (t) => {
  const { l, lines, counters } = limits(2, 100);
  t.true(l.admit('10.0.0.2:3333', '10.0.0.2', 0, 0));
  t.true(l.admit('10.0.0.3:3333', '10.0.0.3', 1, 0));
  t.false(l.admit('10.0.0.4:3333', '10.0.0.4', 2, 0));
  t.like(counters(), { 'peer-limit': 1, 'peer-rate': 0 });
  t.deepEqual(lines, ['warn discovery: 10.0.0.4:3333 (announced from 10.0.0.4) refused: already 2 discovered peers, the most --max-peers allows (counted as peer-limit)']);
});

test('new peers are taken at the rate a second, a second\'s worth at once, and refused meanwhile', (t) => {
  const { l, counters } = limits(1000, 4);
  const admitted = (now: number, n: number): number => Array.from({ length: n }, () => l.admit('k', 's', 0, now)).filter(Boolean).length;
  t.is(admitted(0, 10), 4, 'a burst of one second\'s worth');
  t.is(admitted(100, 10), 0, 'a tenth of a second refills less than one');
  t.is(admitted(600, 10), 2, 'half a second later (the 100 ms count too), two more');
  t.is(admitted(10_000, 10), 4, 'a long quiet refills one second\'s worth, no more');
  t.is(counters()['peer-rate'], 30);
  t.is(counters()['peer-limit'], 0);
  t.is(admitted(5000, 10), 0, 'a clock that steps back refills nothing');
});

test('2,000 fake announcers make at most --max-peers peers, each refusal counted, and leave nothing behind when they expire', async (t) => {
  t.timeout(60_000);
  // 0.2 s × 25: peers outlive the flood, and expire within seconds after it.
  const ds = await discoverySwitch(t, { interval: 0.2, expiry: 25, maxPeers: 50, peerRate: 10_000 });
  await flood(ds, Array.from({ length: 2000 }, (_, i) => announcement(fakeHost(i))));
  const info = await ds.sw.showPeers();
  const c = info.discovery?.counters ?? DISCOVERY_COUNTERS.zero();
  t.true(c.accepted >= 1900, `the flood arrived (${c.accepted} accepted)`);
  t.is(info.peers.length, 50);
  t.is(c['peer-limit'], c.accepted - 50, 'every other announcer was refused and counted');
  t.is(c['peer-rate'], 0);
  await until(async () => (await ds.sw.showPorts()).filter((p) => p.kind === 'peer').length === 0 && (await ds.sw.peers.stats()).peers.length === 0, 20_000, 'the expired peers to leave');
  t.deepEqual((await ds.sw.showPeers()).peers, [], 'the peer table is empty again');
  t.false(ds.sw.ports.all().some((p) => p.kind === 'peer'), 'no peer port is left');
  t.deepEqual((await ds.sw.peers.stats()).peers, [], 'the peer I/O thread keeps no record of them');
  // The room is given back: a refused announcer is taken when it announces again.
  await flood(ds, [announcement(fakeHost(1999))]);
  await until(async () => (await ds.sw.showPeers()).peers.length === 1, 5000, 'a new peer');
  t.is((await ds.sw.showPeers()).peers[0].address, `${fakeHost(1999)}:4000`);
});

test('new discovered peers come at --peer-rate a second at most; the refused are counted and taken at a later announcement', async (t) => {
  t.timeout(60_000);
  const rate = 20;
  const ds = await discoverySwitch(t, { interval: 0.2, expiry: 100, peerRate: rate });
  const started = Date.now();
  await flood(ds, Array.from({ length: 2000 }, (_, i) => announcement(fakeHost(i))));
  const seconds = (Date.now() - started) / 1000;
  const info = await ds.sw.showPeers();
  const c = info.discovery?.counters ?? DISCOVERY_COUNTERS.zero();
  const made = info.peers.length;
  t.true(c.accepted >= 1900, `the flood arrived (${c.accepted} accepted)`);
  t.true(made >= rate && made <= rate + Math.ceil(rate * seconds), `${made} peers in ${seconds} s`);
  t.is(c['peer-rate'], c.accepted - made, 'every other announcer was refused and counted');
  t.is(c['peer-limit'], 0);
  const late = `${fakeHost(1999)}:4000`;
  t.false(info.peers.some((p) => p.address === late));
  await sleep(1000);
  await flood(ds, [announcement(fakeHost(1999))]);
  await until(async () => (await ds.sw.showPeers()).peers.some((p) => p.address === late), 5000, `${late} to be taken`);
  t.pass();
});
