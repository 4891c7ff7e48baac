// Where offloaded frames may go (a virtio_net_hdr that asks for work: a TCP segment of up
// to 64 KiB, a checksum still to do), decided from every kind's needs: a VLAN's TAPs hand
// over offloaded frames only while every port of the VLAN can take one (another TAP, a
// peer that advertised it takes them), and peers are told which VLANs need plain frames
// from them (a QEMU connection or a trunk is there). The port table changes before a port
// is wired, so a port that needs plain frames turns them on before it can receive one.
// Each kind acts on the decision (TAPs turn their offloads on or off, peers advertise).
// Main thread, for src/switch/switch.ts.

import type { PortRecord } from '../core/port-kind.js';
import type { OffloadDecision, PortKindProvider } from '../core/port-kind-provider.js';

export function decideOffloads(ports: readonly PortRecord[], kinds: readonly PortKindProvider[]): OffloadDecision {
  const byKind = new Map(kinds.map((k) => [k.kind, k]));
  const wanted = kinds.flatMap((k) => [...(k.plainVids?.() ?? [])]);
  const plainFrom = (side: 'fromTaps' | 'fromPeers'): Set<number> =>
    new Set([...ports.filter((p) => byKind.get(p.kind)?.offloads[side] === false).map((p) => p.vid), ...wanted]);
  const plainForTaps = plainFrom('fromTaps');
  const judges = kinds.filter((k) => k.takesOffload !== undefined);
  return {
    tapsOffload: (vid) => !plainForTaps.has(vid) && judges.every((k) => k.takesOffload?.(vid) !== false),
    plainFromPeers: [...plainFrom('fromPeers')].sort((a, b) => a - b),
  };
}

/** Decide and tell every kind. */
export function applyOffloads(ports: readonly PortRecord[], kinds: readonly PortKindProvider[]): void {
  const d = decideOffloads(ports, kinds);
  for (const k of kinds) k.applyOffloads?.(d);
}
