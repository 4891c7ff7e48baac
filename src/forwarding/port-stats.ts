// PortStats: the counters the forwarding engine keeps for each member port of a
// VLAN, and their plain-object snapshot for `show ports`. Owned by the
// forwarding worker that runs the VLAN; other threads only see snapshots sent
// over the worker's control port.

/** Why the engine dropped a frame. Each name is a counter `show ports` prints. */
export const DROP_RUNT = 0; // shorter than an Ethernet header
export const DROP_GIANT = 1; // longer than the maximum frame size
export const DROP_RING_FULL = 2; // the port's tx ring had no room
export const DROP_SAME_PORT = 3; // destination was learned on the ingress port
export const DROP_SPLIT_HORIZON = 4; // peer-to-peer unicast, never forwarded
export const DROP_NO_PORT = 5; // the ring named a port this VLAN does not have
export const DROP_OFFLOAD = 6; // an offloaded frame (TCP segment, checksum to do) for a port that cannot take one
export const DROP_REASONS = ['runt', 'giant', 'ring-full', 'same-port', 'split-horizon', 'no-port', 'offload'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export interface PortStatsSnapshot {
  rxFrames: number;
  rxBytes: number;
  txFrames: number;
  txBytes: number;
  drops: Record<DropReason, number>;
}

export class PortStats {
  rxFrames = 0;
  rxBytes = 0;
  txFrames = 0;
  txBytes = 0;
  /** Indexed by the DROP_* constants above. */
  readonly drops = new Float64Array(DROP_REASONS.length);

  snapshot(): PortStatsSnapshot {
    const drops = {} as Record<DropReason, number>;
    DROP_REASONS.forEach((name, i) => {
      drops[name] = this.drops[i];
    });
    return { rxFrames: this.rxFrames, rxBytes: this.rxBytes, txFrames: this.txFrames, txBytes: this.txBytes, drops };
  }
}
