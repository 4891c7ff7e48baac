// Scenarios: random and mutated peer datagrams sent to the switch's peer socket, first from
// strangers (other hosts, the peer's address from another port, the switch's own address),
// then spoofed from the known peer's own address and port while that peer runs and is up.
// Each datagram is classified beforehand by DiVES's own codecs (test/hostile/fuzz.ts), and
// the switch's `show peers` counters must account for every one. Run by
// test/hostile/run-inside.ts on the runner's main thread; the datagrams leave through the
// raw socket of test/hostile/raw-udp.ts.

import { PeerDatagramFuzzer, classifyPeerDatagram, type Fuzz, type PeerClass } from '../fuzz.js';
import type { Endpoint } from '../raw-udp.js';
import { LOCAL_VIDS, PEER_ADDR, PEER_PORT, SW_ADDR, VM_A, VM_B, macBytes, type PeerJson, type PeersJson, type Rig } from '../rig.js';
import { kernelUdpDrops, paceTo, sum, timeUntil, type Scenario, type ScenarioOut } from '../scenario.js';

/** Datagrams sent back to back before the sender looks at the switch's queue. */
const BATCH = 128;
/** The peer socket asks for 8 MiB of buffer: send while under 2 MiB waits in it. */
const QUEUED_MAX = 2 << 20;
const SETTLE_TIMEOUT_MS = 15_000;
/** The datagram codec's reasons (src/peer/wire/peer-datagram.ts): exact for every datagram it refuses. */
const CODEC_DROPS = ['short', 'bad-vid', 'giant'] as const;

const SWITCH: Endpoint = { address: SW_ADDR, port: PEER_PORT };

function strangerSource(fz: Fuzz): Endpoint {
  switch (fz.int(0, 4)) {
    case 0:
      return { address: `10.77.0.${fz.int(3, 254)}`, port: fz.int(1, 65535) };
    case 1: {
      // The peer's address, but not its port: a stranger all the same.
      const port = fz.int(1, 65534);
      return { address: PEER_ADDR, port: port >= PEER_PORT ? port + 1 : port };
    }
    case 2:
      return { address: SW_ADDR, port: fz.int(1, 65535) };
    case 3:
      return { address: `10.${fz.int(0, 255)}.${fz.int(0, 255)}.${fz.int(1, 254)}`, port: fz.int(1, 65535) };
    default:
      return { address: `192.0.2.${fz.int(1, 254)}`, port: PEER_PORT };
  }
}

/** Sum of the fields of the peer's counters that a frame-carrying datagram can land in. */
function frameCounts(p: PeerJson | undefined): { framesIn: number; drops: Record<string, number> } {
  return { framesIn: p?.framesIn ?? 0, drops: { ...(p?.drops ?? {}) } };
}

function peerOf(info: PeersJson): PeerJson | undefined {
  return info.peers.find((p) => p.address === `${PEER_ADDR}:${PEER_PORT}`);
}

/** Send `count` datagrams, half random and half mutated, from `source()`; returns how many the kernel took, and counts them by class. */
async function fire(rig: Rig, count: number, source: () => Endpoint, classes: Map<PeerClass, number>): Promise<number> {
  const gen = new PeerDatagramFuzzer(rig.fz, [VM_A.mac, VM_B.mac].map(macBytes));
  const buf = Buffer.alloc(65_536);
  let sent = 0;
  for (let i = 0; i < count; i++) {
    const len = i % 2 === 0 ? gen.random(buf) : gen.mutated(buf);
    const from = source();
    if (rig.raw.send(from, SWITCH, buf, len)) {
      sent++;
      const c = classifyPeerDatagram(buf, len, LOCAL_VIDS);
      classes.set(c, (classes.get(c) ?? 0) + 1);
    }
    if (i % BATCH === BATCH - 1) await paceTo(PEER_PORT, QUEUED_MAX);
  }
  return sent;
}

export const strangerDatagrams: Scenario = {
  name: 'peer-stranger',
  what: 'random and mutated peer datagrams from strangers: other hosts, the peer address from another port, the switch itself',
  async run(rig: Rig, out: ScenarioOut): Promise<void> {
    const n = rig.sizes.strangerDatagrams;
    const before = await rig.ctl<PeersJson>('show peers');
    const k0 = kernelUdpDrops(PEER_PORT);
    const sent = await fire(rig, n, () => strangerSource(rig.fz), new Map());
    out.inputs += n;
    const counted = async (): Promise<number> => (await rig.ctl<PeersJson>('show peers')).strangers - before.strangers + kernelUdpDrops(PEER_PORT) - k0;
    await timeUntil(async () => (await counted()) >= sent, SETTLE_TIMEOUT_MS, 200);
    const after = await rig.ctl<PeersJson>('show peers');
    const strangers = after.strangers - before.strangers;
    const kd = kernelUdpDrops(PEER_PORT) - k0;
    out.figure('sent', sent);
    out.figure('kernel drops', kd);
    out.check('every stranger datagram counted under strangers', strangers + kd === sent, `strangers +${strangers}, kernel drops ${kd}; sent ${sent} (${rig.raw.refused} refused by the local kernel)`);
    const b0 = frameCounts(peerOf(before));
    const b1 = frameCounts(peerOf(after));
    const taken = b1.framesIn - b0.framesIn + sum(Object.keys(b1.drops).map((k) => b1.drops[k] - (b0.drops[k] ?? 0)));
    out.check('no stranger datagram taken as the peer\'s', taken === 0, `the peer's frames in and drops moved by ${taken}`);
  },
};

export const peerDatagrams: Scenario = {
  name: 'peer-spoofed',
  what: "random and mutated datagrams from the known peer's own address and port while it is up (raw-socket spoofing)",
  async run(rig: Rig, out: ScenarioOut): Promise<void> {
    const n = rig.sizes.peerDatagrams;
    const before = peerOf(await rig.ctl<PeersJson>('show peers'));
    if (before?.state !== 'up') throw new Error('the peer is not up before the scenario');
    const k0 = kernelUdpDrops(PEER_PORT);
    const classes = new Map<PeerClass, number>();
    const t0 = Date.now();
    const sent = await fire(rig, n, () => ({ address: PEER_ADDR, port: PEER_PORT }), classes);
    out.inputs += n;
    const want = (c: PeerClass): number => classes.get(c) ?? 0;
    const frameish = sum(['frame', 'no-vlan', 'keyed', ...CODEC_DROPS].map((c) => want(c as PeerClass)));
    const seen = (p: PeerJson | undefined): number => {
      const a = frameCounts(p);
      const b = frameCounts(before);
      return a.framesIn - b.framesIn + sum(Object.keys(a.drops).map((k) => a.drops[k] - (b.drops[k] ?? 0)));
    };
    await timeUntil(async () => seen(peerOf(await rig.ctl<PeersJson>('show peers'))) + kernelUdpDrops(PEER_PORT) - k0 >= frameish, SETTLE_TIMEOUT_MS, 200);
    const after = peerOf(await rig.ctl<PeersJson>('show peers'));
    const seconds = (Date.now() - t0) / 1000;
    const kd = kernelUdpDrops(PEER_PORT) - k0;
    for (const c of ['frame', 'no-vlan', 'short', 'bad-vid', 'giant', 'keyed', 'keepalive', 'advert'] as const) out.figure(c, want(c));
    out.figure('kernel drops', kd);
    checkPeerCounts(out, before, after, { sent, frameish, kd, seconds, want });
  },
};

function checkPeerCounts(
  out: ScenarioOut,
  before: PeerJson | undefined,
  after: PeerJson | undefined,
  f: { sent: number; frameish: number; kd: number; seconds: number; want: (c: PeerClass) => number },
): void {
  const d = (k: string): number => (after?.drops[k] ?? 0) - (before?.drops[k] ?? 0);
  const framesIn = (after?.framesIn ?? 0) - (before?.framesIn ?? 0);
  const allDrops = sum(Object.keys(after?.drops ?? {}).map(d));
  out.figure('drops', Object.keys(after?.drops ?? {}).filter((k) => d(k) > 0).map((k) => `${k} +${d(k)}`).join(' '));
  out.figure('frames in', framesIn);
  out.check('every datagram carrying a vid word counted (frames in + the peer\'s drops)', framesIn + allDrops + f.kd === f.frameish, `frames in +${framesIn}, drops +${allDrops}, kernel drops ${f.kd}; expected ${f.frameish} of ${f.sent} sent`);
  // The codec's reasons, and sealed-looking datagrams (`keyed`: this switch has no key), are exact; after it, a frame may be forwarded or dropped for one of
  // several reasons in an order of the peer thread's choosing (a header check, the VLAN, a full ring).
  if (f.kd === 0) for (const c of [...CODEC_DROPS, 'keyed'] as const) out.check(`${c} counted exactly`, d(c) === f.want(c), `${c} +${d(c)}, expected ${f.want(c)}`);
  // The real peer keeps sending its own keepalives, one an interval, and answers the switch's
  // answers to the spoofed ones, at most one a half interval: three a second at most.
  const extra = (after?.keepalivesIn ?? 0) - (before?.keepalivesIn ?? 0) - f.want('keepalive');
  out.check('keepalives counted', extra >= 0 && extra <= 3 * Math.ceil(f.seconds) + 3, `keepalives in − spoofed ${f.want('keepalive')} = ${extra} over ${f.seconds.toFixed(1)} s`);
  out.check('the peer is still up', after?.state === 'up', `state ${after?.state}`);
}
