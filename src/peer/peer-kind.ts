// PeerKind: peer switches as one kind of port of the switch (src/core/port-kind-provider.ts) — the
// peer I/O thread and the peer ports it serves (src/peer/peer-ports.ts), and the policy
// that decides who the peers are and whether they are alive (src/peer/peering.ts). A
// peer port is a member of every VLAN with local ports, so `show ports` lists it once per
// VLAN. Main thread.

import type { PortDrops, PortRecord } from '../core/port-kind.js';
import type { KindThread, OffloadDecision, PortKindProvider } from '../core/port-kind-provider.js';
import type { PortKindParts } from '../forwarding/port-kind-parts.js';
import { PeerPorts } from './peer-ports.js';
import { Peering } from './peering.js';

export class PeerKind implements PortKindProvider {
  readonly kind = 'peer';
  /** A peer is another switch: split horizon, and it goes first when the switch stops. */
  readonly remote = true;
  /** A peer takes offloaded frames from TAPs on the VLANs it advertised (takesOffload); what it sends other peers never reaches them. */
  readonly offloads = { fromTaps: true, fromPeers: true };
  readonly ports: PeerPorts;
  readonly peering: Peering;

  constructor(parts: PortKindParts, offload: boolean) {
    this.ports = new PeerPorts(parts, offload);
    this.ports.onOffloadChange = parts.offloadsChanged;
    this.peering = new Peering(this.ports, parts.log);
  }

  /** Every live peer takes offloaded frames on `vid` (src/peer/peer-offload-policy.ts). */
  takesOffload(vid: number): boolean {
    return this.ports.takesOffload(vid);
  }

  /** Live peers hear which VLANs need plain frames from them. */
  applyOffloads(d: OffloadDecision): void {
    this.ports.advertise(d.plainFromPeers);
  }

  threads(): KindThread[] {
    return [{ io: this.ports.io.supervisor, cpu: -1, wakeups: this.ports.wakeups }];
  }

  /** The peer thread counts its drops per peer (`show peers`), not per port. */
  async ioDrops(): Promise<Map<number, PortDrops>> {
    return new Map();
  }

  portRows(port: PortRecord, vid?: number): PortRecord[] {
    return this.ports.memberships(port, vid);
  }

  crash(): Promise<void> {
    return this.ports.crash();
  }

  close(): Promise<void> {
    return this.peering.close();
  }
}
