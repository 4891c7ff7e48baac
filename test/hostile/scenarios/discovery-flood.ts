// Scenario: a flood on the discovery group — malformed announcements and valid ones naming
// thousands of fake hosts (by address, and by names that never resolve), each spoofed from
// a random host of the underlay. The switch must count every datagram (received = sent,
// accepted and malformed as DiVES's own parser says), keep its real peer up, and forget
// every fake peer once it stops announcing. Run by test/hostile/run-inside.ts on the
// runner's main thread; the datagrams leave through test/hostile/raw-udp.ts.

import { badAnnouncement, classifyAnnouncement } from '../fuzz.js';
import { DISCOVERY_PORT, PEER_ADDR, PEER_PORT, type PeersJson, type Rig } from '../rig.js';
import { BOUNDS } from '../hostile-config.js';
import { kernelUdpDrops, paceTo, sleep, timeUntil, type Scenario, type ScenarioOut } from '../scenario.js';

const BATCH = 32;
/** The discovery socket keeps Node's default buffer (about 200 KiB, some 300 small datagrams): send while under a third of it is queued. */
const QUEUED_MAX = 64 * 1024;
/** Each fake host announces itself this many times, as a real switch does once an interval. */
const REPEATS = 3;

type Item = { kind: 'bad' } | { kind: 'host'; text: string };

/** Every announcement to send, in a seeded random order. */
function plan(rig: Rig): Item[] {
  const s = rig.sizes;
  const items: Item[] = [];
  for (let i = 0; i < s.badAnnouncements; i++) items.push({ kind: 'bad' });
  for (let i = 1; i <= s.fakePeers; i++) {
    const text = `10.123.${i >> 8}.${i & 0xff}:${rig.fz.int(1024, 65535)}`;
    for (let r = 0; r < REPEATS; r++) items.push({ kind: 'host', text });
  }
  for (let i = 1; i <= s.fakeNames; i++) items.push({ kind: 'host', text: `h${i}-${rig.plan.seed}.hostile.invalid:3333` });
  for (let i = items.length - 1; i > 0; i--) {
    const j = rig.fz.int(0, i);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

export const discoveryFlood: Scenario = {
  name: 'discovery-flood',
  what: 'malformed announcements and valid ones for thousands of fake hosts (addresses and unresolvable names) from many spoofed sources',
  async run(rig: Rig, out: ScenarioOut): Promise<void> {
    const before = await rig.ctl<PeersJson>('show peers');
    if (before.discovery === null) throw new Error('discovery is off on the switch under test');
    const c0 = before.discovery.counters;
    const k0 = kernelUdpDrops(DISCOVERY_PORT);
    const items = plan(rig);
    const buf = Buffer.alloc(1024);
    const want = { accepted: 0, malformed: 0, oversized: 0, keyed: 0 };
    let sent = 0;
    let peak = 0;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        peak = Math.max(peak, discovered(await rig.ctl<PeersJson>('show peers')));
        await sleep(250);
      }
    })();
    const dst = { address: rig.group, port: DISCOVERY_PORT };
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      const len = it.kind === 'bad' ? badAnnouncement(rig.fz, buf) : buf.write(it.text, 0, 'latin1');
      const src = { address: `10.77.0.${rig.fz.int(3, 254)}`, port: DISCOVERY_PORT };
      if (!rig.raw.send(src, dst, buf, len)) continue;
      sent++;
      const c = classifyAnnouncement(buf.subarray(0, len), src.address);
      if (c.accepted) want.accepted++;
      else if (c.keyed) want.keyed++;
      else want.malformed++;
      if (c.oversized) want.oversized++;
      if (i % BATCH === BATCH - 1) await paceTo(DISCOVERY_PORT, QUEUED_MAX);
    }
    out.inputs += items.length;
    polling = false;
    await poller;
    const counted = async (): Promise<number> => {
      const c = (await rig.ctl<PeersJson>('show peers')).discovery?.counters ?? {};
      return c.received - c0.received - (c.own - c0.own) + kernelUdpDrops(DISCOVERY_PORT) - k0;
    };
    await timeUntil(async () => (await counted()) >= sent, 15_000, 200);
    const after = await rig.ctl<PeersJson>('show peers');
    peak = Math.max(peak, discovered(after));
    checkCounts(out, before, after, { sent, kd: kernelUdpDrops(DISCOVERY_PORT) - k0, want });
    out.figure('peak discovered peers', peak);
    const gone = await timeUntil(async () => discovered(await rig.ctl<PeersJson>('show peers')) === 0, (after.peers.length > 0 ? 3000 : 0) + BOUNDS.drainMaxMs, 250);
    out.check('fake peers forgotten once they stop announcing', gone >= 0, gone >= 0 ? `all gone ${gone} ms after the flood` : `${discovered(await rig.ctl<PeersJson>('show peers'))} left after ${BOUNDS.drainMaxMs + 3000} ms`);
    const real = (await rig.ctl<PeersJson>('show peers')).peers.find((p) => p.address === `${PEER_ADDR}:${PEER_PORT}`);
    out.check('the real peer stayed up', real?.state === 'up', `state ${real?.state}`);
  },
};

function discovered(info: PeersJson): number {
  return info.peers.filter((p) => p.learned === 'discovered').length;
}

function checkCounts(
  out: ScenarioOut,
  before: PeersJson,
  after: PeersJson,
  f: { sent: number; kd: number; want: { accepted: number; malformed: number; oversized: number; keyed: number } },
): void {
  const c0 = before.discovery?.counters ?? {};
  const c1 = after.discovery?.counters ?? {};
  const d = (k: string): number => (c1[k] ?? 0) - (c0[k] ?? 0);
  out.figure('sent', f.sent);
  out.figure('kernel drops', f.kd);
  out.figure('counters', Object.keys(c1).map((k) => `${k} +${d(k)}`).join(' '));
  // The switch's own announcements come back too; one the kernel dropped shows only in its drops.
  const seen = d('received') - d('own') + f.kd;
  out.check('every announcement received or dropped by the kernel', seen >= f.sent && seen <= f.sent + d('sent'), `received +${d('received')} − own +${d('own')} + kernel drops ${f.kd}; sent ${f.sent} (and ${d('sent')} of its own)`);
  if (f.kd > 0) return;
  out.check('malformed counted exactly', d('malformed') === f.want.malformed, `malformed +${d('malformed')}, expected ${f.want.malformed}`);
  out.check('oversized counted exactly', d('oversized') === f.want.oversized, `oversized +${d('oversized')}, expected ${f.want.oversized}`);
  out.check('sealed-looking announcements counted as keyed', d('keyed') === f.want.keyed, `keyed +${d('keyed')}, expected ${f.want.keyed}`);
  // Counters a cap adds (peers refused for now) are a part of accepted, shown in the figures.
  out.check('valid announcements counted as accepted', d('accepted') === f.want.accepted, `accepted +${d('accepted')}, expected ${f.want.accepted}`);
}
