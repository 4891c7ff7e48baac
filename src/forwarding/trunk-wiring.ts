// Trunk wiring: what ties a trunk (a TAP or a QEMU connection carrying several VLANs,
// src/tap/trunk-ports.ts and src/qemu/qemu-trunk-conns.ts) to the forwarding threads —
// one ring pair with each thread that runs a member VLAN, one port per member VLAN on its
// thread's pair — and taking them back in the order a removal must go. The trunk's own I/O
// thread tags and untags (src/core/trunk-demux.ts). Main thread.

import type { Doorbell } from '../core/doorbell.js';
import type { Ring } from '../core/ring.js';
import type { TrunkMember } from '../core/trunk-demux.js';
import type { ForwardingPool } from './forwarding-pool.js';
import type { ForwardingThread } from './forwarding-thread.js';
import type { PortKind } from '../core/port-kind.js';
import type { PortTable } from './port-table.js';
import type { RingTable } from './ring-table.js';

/** A trunk's ring pair with one forwarding thread. */
export interface TrunkPair {
  fw: ForwardingThread;
  rx: Ring;
  tx: Ring;
  rxId: number;
  txId: number;
}

/** A trunk's ring pairs and its port in each member VLAN (`pair` indexes `pairs`). */
export interface TrunkWiring {
  pairs: TrunkPair[];
  members: TrunkMember[];
}

/** A trunk's member VLANs: the tagged ones and the native one (0: none), sorted. */
export function trunkVids(tagged: readonly number[], native: number): number[] {
  return [...new Set([...tagged, ...(native === 0 ? [] : [native])])].sort((a, b) => a - b);
}

/** The forwarding threads of `vids` (placing the VLANs first if needed): one ring pair each. */
export function trunkThreads(pool: ForwardingPool, vids: readonly number[]): ForwardingThread[] {
  return [...new Set(vids.map((v) => pool.place(v)))];
}

export interface TrunkWiringParts {
  pool: ForwardingPool;
  ports: PortTable;
  rings: RingTable;
  /** Each direction of each pair. */
  ringBytes: number;
}

/**
 * Make the pairs and ports of a trunk named `name` ("tap:tap0", "qemu:ADDRESS#CONN"; its
 * ports are "NAME.VID") whose I/O thread `io` sleeps on `bell`, and tell the forwarding
 * threads; the caller waits for their `sync` before the trunk's first frame.
 */
export function wireTrunk(parts: TrunkWiringParts, kind: PortKind, name: string, vids: readonly number[], io: { name: string; bell: Doorbell }): TrunkWiring {
  const { pool, ports, rings, ringBytes } = parts;
  const fws = trunkThreads(pool, vids);
  const pairs = fws.map((fw): TrunkPair => {
    const rx = rings.create(ringBytes, fw.bell, { name: `${name} trunk rx, ${fw.name}`, producer: io.name, consumer: fw.name });
    const tx = rings.create(ringBytes, io.bell, { name: `${name} trunk tx, ${fw.name}`, producer: fw.name, consumer: io.name });
    fw.configure(`ring:${rx.id}`, { type: 'add-input', ringId: rx.id, sab: rx.ring.sab });
    fw.configure(`ring:${tx.id}`, { type: 'add-output', ringId: tx.id, sab: tx.ring.sab, doorbellSab: io.bell.sab });
    return { fw, rx: rx.ring, tx: tx.ring, rxId: rx.id, txId: tx.id };
  });
  const members = vids.map((vid): TrunkMember => {
    const port = ports.add(kind, vid, `${name}.${vid}`);
    const pair = fws.indexOf(pool.place(vid));
    pairs[pair].fw.configure(`port:${port.id}`, { type: 'add-port', vid, portId: port.id, isPeer: false, txRingId: pairs[pair].txId, vnet: false });
    return { vid, portId: port.id, pair };
  });
  return { pairs, members };
}

/** Take a trunk off its forwarding threads: the rx rings first (each thread forwards what is left in them while the ports exist), then the ports, then the tx rings. */
export async function unwireTrunk(w: TrunkWiring): Promise<void> {
  for (const p of w.pairs) p.fw.unconfigure([`ring:${p.rxId}`], { type: 'remove-ring', ringId: p.rxId });
  for (const m of w.members) w.pairs[m.pair].fw.unconfigure([`port:${m.portId}`], { type: 'remove-port', vid: m.vid, portId: m.portId });
  for (const p of w.pairs) p.fw.unconfigure([`ring:${p.txId}`], { type: 'remove-ring', ringId: p.txId });
  await Promise.all(w.pairs.map((p) => p.fw.request({ type: 'sync' }).catch(() => undefined)));
}

/** Free an unwired trunk's rings and ports. */
export function releaseTrunk(w: TrunkWiring, parts: Pick<TrunkWiringParts, 'ports' | 'rings'>): void {
  for (const p of w.pairs) {
    parts.rings.remove(p.rxId);
    parts.rings.remove(p.txId);
  }
  for (const m of w.members) parts.ports.remove(m.portId);
}
