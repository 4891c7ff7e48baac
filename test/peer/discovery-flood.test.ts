// What a stranger on the discovery group can make a switch log: 100,000 datagrams over
// loopback multicast — junk, oversized junk, 2,000 fake announcers, names that do not
// resolve — against a real switch (src/peer/discovery.ts, src/peer/peering.ts), whose log
// must stay a few lines of each kind with the rest counted (src/core/log-limiter.ts).

import test from 'ava';
import { DISCOVERY_COUNTERS } from '../../src/core/counters.js';
import { DEFAULT_LOG_BURST } from '../../src/core/log-limiter.js';
import { announcement, discoverySwitch, fakeHost, flood } from '../helpers/announcer.js';
import { until } from '../helpers/until.js';

const KINDS: [string, RegExp][] = [
  ['malformed', /dropped a malformed announcement/],
  ['unresolvable', /cannot resolve/],
  ['refused', /refused/],
  ['up', /^info peer \S+ up /],
  ['expired', /^info peer \S+ expired: /],
];

function* junkAndAnnouncements(n: number): Generator<Buffer> {
  for (let i = 0; i < n; i++) {
    switch (i % 4) {
      case 0:
        yield Buffer.from(`junk ${i}`);
        break;
      case 1:
        yield Buffer.alloc(300, 0x61);
        break;
      case 2:
        yield announcement(fakeHost((i >> 2) % 2000));
        break;
      default:
        yield announcement(`h${i}.nowhere.invalid`);
    }
  }
}

test('100,000 datagrams on the discovery group make a few log lines of each kind, and then one line with how many were suppressed', async (t) => {
  t.timeout(180_000);
  const lookups: string[] = [];
  // Names fail at once, as an offline resolver would after its timeout.
  const ds = await discoverySwitch(t, { interval: 0.2, expiry: 3 }, async (host) => {
    lookups.push(host);
    throw new Error(`getaddrinfo ENOTFOUND ${host}`);
  });
  ds.lines.length = 0;
  const started = Date.now();
  await flood(ds, junkAndAnnouncements(100_000), 100);
  const seconds = (Date.now() - started) / 1000;
  // The fake announcers fall silent and their peers expire.
  await until(async () => (await ds.sw.showPeers()).peers.length === 0, 10_000, 'the fake peers to expire');

  const c = (await ds.sw.showPeers()).discovery?.counters ?? DISCOVERY_COUNTERS.zero();
  t.true(c.received - c.own >= 90_000, `the flood arrived (${c.received - c.own} datagrams)`);
  t.true(c.malformed >= 45_000, `${c.malformed} malformed`);
  t.true(lookups.length <= 16 * Math.ceil(seconds + 1), `${lookups.length} names looked up in ${seconds} s: new names are resolved at --peer-rate at most`);
  const during = [...ds.lines];
  for (const [kind, re] of KINDS) t.true(during.filter((l) => re.test(l)).length <= DEFAULT_LOG_BURST, `${kind}: ${during.filter((l) => re.test(l)).length} lines`);
  t.true(during.length <= KINDS.length * DEFAULT_LOG_BURST, `${during.length} lines:\n${during.join('\n')}`);

  // A minute later by the limiter's clock, the next junk datagram is logged with the count
  // of its kind suppressed, and the other kinds are accounted for with it.
  ds.clock.now = 61_000;
  await flood(ds, [Buffer.from('junk again')]);
  const after = ds.lines.slice(during.length);
  t.regex(after.find((l) => /malformed/.test(l)) ?? '', /dropped a malformed announcement .*\(\d+ similar lines suppressed in the last 61 s\)$/);
  for (const [kind, re] of KINDS.filter(([k]) => k !== 'malformed')) {
    t.true(after.some((l) => re.test(l) && /\(the last of \d+ similar lines suppressed in the last 61 s\)$/.test(l)), `${kind} suppressed lines reported:\n${after.join('\n')}`);
  }
  t.true(ds.lines.length <= 2 * KINDS.length * DEFAULT_LOG_BURST, `${ds.lines.length} lines in all for 100,000 datagrams`);
});
