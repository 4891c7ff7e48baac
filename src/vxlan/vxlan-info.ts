// What `show vxlan` reports, as text or JSON, and what the running-config lists of each
// VLAN's VXLAN configuration: the VXLAN part of SwitchControl's results
// (src/control/switch-api.ts). Produced by src/vxlan/vxlan-ports.ts, printed by
// src/control/commands/vxlan.ts; main thread.

import type { VTEP_DROPS, VXLAN_COUNTERS } from '../core/counters.js';
import type { VtepIoStats, VtepKind } from './vxlan-io-messages.js';

/** A VTEP: where it is and what it is, and what the VXLAN thread counted for it (a group never sends, so its heardSeconds stays null). */
export interface VtepInfo extends Omit<VtepIoStats, 'vtepId'> {
  /** Where datagrams to it go, "10.0.0.2:4789" (IPv6 in brackets). */
  address: string;
  /** static: `vxlan remote`; group: `vxlan group`; learned: heard on the group. */
  kind: VtepKind;
  /** Its port in the VLAN; null while a learned one waits for it. */
  portId: number | null;
}

export interface VxlanVlanInfo {
  vid: number;
  vni: number;
  /** The group floods go to and VTEPs are learned on; null without one. */
  group: string | null;
  /** Learned VTEPs are answered at the port they send from (vxvde), not at the VXLAN port. */
  replyToSource: boolean;
  /** The group first, then the remotes, then the learned VTEPs. */
  vteps: VtepInfo[];
}

export interface VxlanInfo {
  /** The VXLAN thread and its sockets run (from the first remote or group on). */
  running: boolean;
  /** --vxlan-port, --vxlan-local (null: by route) and --vxlan-max-vteps. */
  port: number;
  local: string | null;
  maxVteps: number;
  /** The ports datagrams are sent from, by a hash of the inner frame; empty until it runs. */
  sourcePorts: number[];
  /** VTEPs learned on groups now, of maxVteps at most. */
  learnedVteps: number;
  vlans: VxlanVlanInfo[];
  /** The VXLAN sockets' counters (VXLAN_COUNTERS), zeros included. */
  counters: Record<(typeof VXLAN_COUNTERS.names)[number], number>;
  /** Every VTEP's drops summed, departed VTEPs included. */
  drops: Record<(typeof VTEP_DROPS.names)[number], number>;
  /** The last sender counted as a stranger, "address:port", or null. */
  lastStranger: string | null;
}

/** A VLAN's VXLAN configuration, as typed: what the running-config prints inside the VLAN. */
export interface VxlanVlanConfig {
  vid: number;
  /** Set with `vxlan vni N`; null: the vid. */
  vni: number | null;
  /** `vxlan remote HOST [PORT]`; port null: the VXLAN port. */
  remotes: { host: string; port: number | null }[];
  group: { address: string; replyToSource: boolean } | null;
}
