// Unit tests of the per-VLAN forwarding engine on one thread: learning,
// unicast forwarding, flooding, split horizon, ageing and per-port counters.

import test from 'ava';
import { PORT_DROP, VLAN_COUNTERS } from '../../src/core/counters.js';
import { VNET_HDR_LEN, metaPort, metaVid } from '../../src/core/ring-record.js';
import { VlanEngine } from '../../src/forwarding/vlan-engine.js';
import { Ring } from '../../src/core/ring.js';
import { ETHERTYPE_IPV4, frame } from '../helpers/frames.js';

const BCAST = 'ff:ff:ff:ff:ff:ff';

/** An IPv4-typed frame from src to dst with nothing after the ethertype, `len` bytes. */
function ethFrame(dst: string, src: string, _tag = '', len = 64): Buffer {
  return frame({ dst, src, ethertype: ETHERTYPE_IPV4, padTo: len });
}

interface Fixture { engine: VlanEngine; rings: Map<number, Ring> }

/** One of the engine's VLAN counters (VLAN_COUNTERS) by name. */
function counter(engine: VlanEngine, name: (typeof VLAN_COUNTERS.names)[number]): number {
  return VLAN_COUNTERS.toRecord(engine.counts())[name];
}

/** Publish what the engine staged on every member's tx ring, as the forwarding loop does after a batch. */
function commitAll(engine: VlanEngine): void {
  for (const p of engine.ports) p.tx.commit();
}

/** An engine on VLAN 10 with ports 1..n, each with its own tx ring; `peers` are peer ports. */
function fixture(n: number, peers: number[] = [], opts = {}): Fixture {
  const engine = new VlanEngine(10, opts);
  const rings = new Map<number, Ring>();
  for (let id = 1; id <= n; id++) {
    const r = Ring.create(64 * 1024);
    rings.set(id, r);
    engine.addPort(id, peers.includes(id), r);
  }
  return { engine, rings };
}

/** Which ports received how many frames since the last call. */
function drain(fx: Fixture): Record<number, number> {
  commitAll(fx.engine);
  const got: Record<number, number> = {};
  for (const [id, r] of fx.rings) {
    const n = r.consume(1000, (_b, _o, _l, meta) => {
      if (metaPort(meta) !== id || metaVid(meta) !== 10) throw new Error(`ring of port ${id} got meta for port ${metaPort(meta)}`);
    });
    if (n > 0) got[id] = n;
  }
  return got;
}

function send(fx: Fixture, port: number, f: Buffer): number {
  return fx.engine.forward(f, 0, f.length, port);
}

test('a broadcast floods to every member port except the ingress, once each', (t) => {
  const fx = fixture(4);
  t.is(send(fx, 2, ethFrame(BCAST, '02:00:00:00:00:02')), 3);
  t.deepEqual(drain(fx), { 1: 1, 3: 1, 4: 1 });
  t.is(counter(fx.engine, 'flooded'), 1);
});

test('unknown unicast floods; once learned, unicast goes to exactly one port', (t) => {
  const fx = fixture(4);
  send(fx, 3, ethFrame('02:00:00:00:00:01', '02:00:00:00:00:03'));
  t.deepEqual(drain(fx), { 1: 1, 2: 1, 4: 1 }, 'unknown destination is flooded');
  send(fx, 1, ethFrame('02:00:00:00:00:03', '02:00:00:00:00:01'));
  t.deepEqual(drain(fx), { 3: 1 }, 'the source was learned on port 3');
  send(fx, 3, ethFrame('02:00:00:00:00:01', '02:00:00:00:00:03'));
  t.deepEqual(drain(fx), { 1: 1 });
  t.is(counter(fx.engine, 'forwarded'), 2);
});

test('a multicast destination floods even when a matching unicast-looking entry exists', (t) => {
  const fx = fixture(3);
  send(fx, 1, ethFrame('01:00:5e:00:00:01', '02:00:00:00:00:01'));
  t.deepEqual(drain(fx), { 2: 1, 3: 1 });
});

test('a group source address is never learned', (t) => {
  const fx = fixture(3);
  send(fx, 1, ethFrame(BCAST, '03:00:00:00:00:01'));
  drain(fx);
  t.is(fx.engine.fdb.size, 0);
});

test('a frame for a station on the ingress port is dropped and counted as same-port', (t) => {
  const fx = fixture(3);
  send(fx, 1, ethFrame(BCAST, '02:00:00:00:00:01'));
  send(fx, 1, ethFrame(BCAST, '02:00:00:00:00:0a'));
  drain(fx);
  t.is(send(fx, 1, ethFrame('02:00:00:00:00:0a', '02:00:00:00:00:01')), 0);
  t.deepEqual(drain(fx), {});
  t.is(fx.engine.port(1)?.stats.snapshot().drops['same-port'], 1);
});

test('split horizon: a flood from a peer reaches local ports only', (t) => {
  const fx = fixture(4, [3, 4]);
  send(fx, 3, ethFrame(BCAST, '02:00:00:00:00:33'));
  t.deepEqual(drain(fx), { 1: 1, 2: 1 });
  send(fx, 1, ethFrame(BCAST, '02:00:00:00:00:11'));
  t.deepEqual(drain(fx), { 2: 1, 3: 1, 4: 1 }, 'a local flood reaches every peer');
});

test('split horizon: unicast from a peer to a MAC learned on another peer is dropped and counted', (t) => {
  const fx = fixture(4, [3, 4]);
  send(fx, 4, ethFrame(BCAST, '02:00:00:00:00:44'));
  drain(fx);
  t.is(send(fx, 3, ethFrame('02:00:00:00:00:44', '02:00:00:00:00:33')), 0);
  t.deepEqual(drain(fx), {});
  t.is(fx.engine.port(3)?.stats.snapshot().drops['split-horizon'], 1);
});

test('a MAC that moves to another port follows it and the move is counted', (t) => {
  const fx = fixture(3);
  send(fx, 1, ethFrame(BCAST, '02:00:00:00:00:aa'));
  send(fx, 2, ethFrame(BCAST, '02:00:00:00:00:aa'));
  drain(fx);
  send(fx, 3, ethFrame('02:00:00:00:00:aa', '02:00:00:00:00:03'));
  t.deepEqual(drain(fx), { 2: 1 });
  t.is(fx.engine.fdb.counters.moved, 1);
});

test('learned MACs age out and the destination floods again', (t) => {
  const fx = fixture(3, [], { fdb: { ageingTimeMs: 1000 } });
  fx.engine.nowMs = 10_000;
  send(fx, 1, ethFrame(BCAST, '02:00:00:00:00:01'));
  drain(fx);
  fx.engine.nowMs = 10_500;
  send(fx, 2, ethFrame('02:00:00:00:00:01', '02:00:00:00:00:02'));
  t.deepEqual(drain(fx), { 1: 1 });
  fx.engine.nowMs = 12_000;
  send(fx, 2, ethFrame('02:00:00:00:00:01', '02:00:00:00:00:02'));
  t.deepEqual(drain(fx), { 1: 1, 3: 1 }, 'flooded after ageing');
});

test('removing a port deletes its MACs, stops flooding to it, and keeps its drops in the VLAN\'s left-port-drops', (t) => {
  const fx = fixture(3);
  send(fx, 1, ethFrame(BCAST, '02:00:00:00:00:01'));
  send(fx, 1, ethFrame(BCAST, '02:00:00:00:00:09'));
  drain(fx);
  // Two frames to a station on their own ingress port: two same-port drops on port 1.
  send(fx, 1, ethFrame('02:00:00:00:00:09', '02:00:00:00:00:01'));
  send(fx, 1, ethFrame('02:00:00:00:00:01', '02:00:00:00:00:09'));
  const last = fx.engine.removePort(1);
  t.is(last?.rxFrames, 4);
  t.is(last?.drops[PORT_DROP['same-port']], 2);
  t.is(fx.engine.removePort(1), undefined);
  const counts = VLAN_COUNTERS.toRecord(fx.engine.counts());
  t.is(counts.deleted, 2, 'its two MACs went with it');
  t.is(counts['left-port-drops'], 2);
  send(fx, 2, ethFrame('02:00:00:00:00:01', '02:00:00:00:00:02'));
  t.deepEqual(drain(fx), { 3: 1 });
});

test('runts, giants and frames from unknown ports are dropped and counted, never forwarded', (t) => {
  const fx = fixture(2, [], { maxFrame: 1518 });
  t.is(fx.engine.forward(Buffer.alloc(13), 0, 13, 1), 0);
  t.is(fx.engine.forward(Buffer.alloc(1519), 0, 1519, 1), 0);
  t.is(send(fx, 7, ethFrame(BCAST, '02:00:00:00:00:07')), 0);
  t.deepEqual(drain(fx), {});
  const d = fx.engine.port(1)?.stats.snapshot().drops;
  t.is(d?.runt, 1);
  t.is(d?.giant, 1);
  t.is(counter(fx.engine, 'no-port'), 1);
  t.is(counter(fx.engine, 'dropped'), 3);
});

test('a full tx ring drops and counts ring-full on that port only; other ports still get the frame', (t) => {
  const engine = new VlanEngine(10);
  const tiny = Ring.create(256);
  const roomy = Ring.create(64 * 1024);
  engine.addPort(1, false, Ring.create(1024));
  engine.addPort(2, false, tiny);
  engine.addPort(3, false, roomy);
  const f = ethFrame(BCAST, '02:00:00:00:00:01', '', 100);
  for (let i = 0; i < 10; i++) engine.forward(f, 0, f.length, 1);
  commitAll(engine);
  t.is(engine.port(2)?.stats.snapshot().drops['ring-full'], 8);
  t.is(engine.port(2)?.stats.txFrames, 2);
  t.is(engine.port(3)?.stats.txFrames, 10);
  t.is(roomy.consume(100, () => {}), 10);
});

test('rx and tx counters count frames and bytes per port', (t) => {
  const fx = fixture(2);
  send(fx, 1, ethFrame(BCAST, '02:00:00:00:00:01', '', 100));
  send(fx, 1, ethFrame(BCAST, '02:00:00:00:00:01', '', 60));
  drain(fx);
  const p1 = fx.engine.port(1)?.stats.snapshot();
  const p2 = fx.engine.port(2)?.stats.snapshot();
  t.like(p1, { rxFrames: 2, rxBytes: 160, txFrames: 0 });
  t.like(p2, { rxFrames: 0, txFrames: 2, txBytes: 160 });
});

// ---- records with a virtio_net_hdr (TAPs opened with IFF_VNET_HDR) ----------

function vnetRecord(f: Buffer, flags = 0, gsoType = 0): Buffer {
  const hdr = Buffer.alloc(VNET_HDR_LEN);
  hdr[0] = flags;
  hdr[1] = gsoType;
  return Buffer.concat([hdr, f]);
}

/** Ports 1 and 2 are vnet TAPs, port 3 a plain port; returns what each ring got. */
function vnetFixture() {
  const engine = new VlanEngine(10);
  const rings = [1, 2, 3].map(() => Ring.create(256 * 1024));
  engine.addPort(1, false, rings[0], true);
  engine.addPort(2, false, rings[1], true);
  engine.addPort(3, false, rings[2], false);
  const got = (i: number): Buffer[] => {
    commitAll(engine);
    const out: Buffer[] = [];
    rings[i].consume(100, (b, o, l) => out.push(Buffer.from(b.subarray(o, o + l))));
    return out;
  };
  return { engine, got };
}

test('a vnet record is learned and looked up past its header, and keeps the header toward a vnet port', (t) => {
  const { engine, got } = vnetFixture();
  const rec = vnetRecord(ethFrame(BCAST, '02:00:00:00:00:01'), 1, 0);
  t.is(engine.forward(rec, 0, rec.length, 1, VNET_HDR_LEN), 1, 'one copy: the plain port cannot take it');
  t.deepEqual(got(1), [rec], 'vnet port: the same header and frame');
  t.deepEqual(got(2), [], 'a frame whose checksum is still to do never reaches a plain port');
  t.is(engine.port(3)?.stats.snapshot().drops.offload, 1);
  t.is(engine.fdb.lookup(0x020000000001, engine.nowMs), 1);
  t.is(engine.port(1)?.stats.rxBytes, 64, 'bytes count the frame, not the header');
});

test('a plain vnet record reaches a plain port without its header, and a plain frame reaches a vnet port with a zero header', (t) => {
  const { engine, got } = vnetFixture();
  const f = ethFrame(BCAST, '02:00:00:00:00:01');
  const rec = vnetRecord(f);
  engine.forward(rec, 0, rec.length, 1, VNET_HDR_LEN);
  t.deepEqual(got(2), [f]);
  got(1);
  const g = ethFrame(BCAST, '02:00:00:00:00:03');
  engine.forward(g, 0, g.length, 3, 0);
  t.deepEqual(got(0), [vnetRecord(g)]);
  t.deepEqual(got(1), [vnetRecord(g)]);
});

test('an offloaded TCP segment (gso) bigger than the maximum frame passes between vnet ports and is dropped toward a plain one', (t) => {
  const { engine, got } = vnetFixture();
  const seg = vnetRecord(ethFrame(BCAST, '02:00:00:00:00:01', 'gso', 65535 + 14), 0, 1);
  t.is(engine.forward(seg, 0, seg.length, 1, VNET_HDR_LEN), 1);
  t.is(got(1)[0].length, seg.length);
  t.deepEqual(got(2), []);
  t.is(engine.port(3)?.stats.snapshot().drops.offload, 1);
});

test('split horizon across kinds: a flood from a VXLAN VTEP reaches neither a DiVES peer nor another VTEP, and theirs never reach it', (t) => {
  // Port 1 a TAP, 2 a DiVES peer, 3 a static VTEP, 4 a group's VTEP: all but 1 are peers to the engine.
  const fx = fixture(4, [2, 3, 4]);
  send(fx, 3, ethFrame(BCAST, '02:00:00:00:00:33'));
  t.deepEqual(drain(fx), { 1: 1 }, 'from a VTEP: the local port only');
  send(fx, 2, ethFrame(BCAST, '02:00:00:00:00:22'));
  t.deepEqual(drain(fx), { 1: 1 }, 'from a DiVES peer: the local port only');
  t.is(send(fx, 2, ethFrame('02:00:00:00:00:33', '02:00:00:00:00:22')), 0, 'unicast from a peer to a MAC behind a VTEP');
  t.is(fx.engine.port(2)?.stats.snapshot().drops['split-horizon'], 1);
  send(fx, 1, ethFrame(BCAST, '02:00:00:00:00:11'));
  t.deepEqual(drain(fx), { 2: 1, 3: 1, 4: 1 }, 'a local flood reaches every peer of every kind');
});

test('a port that takes no floods (a VTEP learned on a group) gets only the unicast learned on it', (t) => {
  const engine = new VlanEngine(10);
  const rings = new Map<number, Ring>();
  for (const [id, isPeer, floods] of [[1, false, true], [2, true, true], [3, true, false]] as const) {
    const r = Ring.create(64 * 1024);
    rings.set(id, r);
    engine.addPort(id, isPeer, r, false, floods);
  }
  const fx = { engine, rings };
  send(fx, 1, ethFrame(BCAST, '02:00:00:00:00:11'));
  t.deepEqual(drain(fx), { 2: 1 }, 'the flood went to the group (2), not to the learned VTEP (3)');
  send(fx, 3, ethFrame('02:00:00:00:00:11', '02:00:00:00:00:33'));
  t.deepEqual(drain(fx), { 1: 1 });
  t.is(send(fx, 1, ethFrame('02:00:00:00:00:33', '02:00:00:00:00:11')), 1);
  t.deepEqual(drain(fx), { 3: 1 }, 'unicast to a MAC learned on it');
});
