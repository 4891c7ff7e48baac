// The kinds of port a switch is made of, registered here, one line each: what makes each
// kind's main side (src/core/port-kind-provider.ts says what the switch asks of it). Adding a kind
// of port is adding its line (docs/architecture.md, "Adding a port kind"); the `satisfies`
// clause fails to compile until every name of PORT_KINDS has one. Main thread.

import type { PortKind } from '../core/port-kind.js';
import type { PortKindProvider } from '../core/port-kind-provider.js';
import type { PortKindParts } from '../forwarding/port-kind-parts.js';
import { PeerKind } from '../peer/peer-kind.js';
import { QemuPorts } from '../qemu/qemu-ports.js';
import { TapKind } from '../tap/tap-kind.js';
import { VxlanPorts } from '../vxlan/vxlan-ports.js';
import type { VxlanSettings } from '../vxlan/vxlan-sockets.js';

/** The settings of `dives start` that a kind of port takes. */
export interface PortKindOptions {
  /** QEMU connections of the whole switch at most (--max-connections). */
  maxConnections?: number;
  /** Offloaded frames between peers (--no-peer-offload turns them off). */
  peerOffload: boolean;
  ageingTimeMs: number;
  vxlan: VxlanSettings;
}

/** One of each kind, in PORT_KINDS order: `show threads` lists their threads in this order, and the switch closes them in it (remote kinds first). */
export function createPortKinds(parts: PortKindParts, o: PortKindOptions) {
  return {
    tap: new TapKind(parts),
    qemu: new QemuPorts(parts, o.maxConnections),
    peer: new PeerKind(parts, o.peerOffload),
    vxlan: new VxlanPorts(parts, o.ageingTimeMs, o.vxlan),
  } satisfies { [K in PortKind]: PortKindProvider & { kind: K } };
}

export type PortKinds = ReturnType<typeof createPortKinds>;

/** The kinds as a list, in PORT_KINDS order. */
export function kindList(kinds: PortKinds): PortKindProvider[] {
  return Object.values(kinds);
}
