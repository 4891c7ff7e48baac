// Every command area of the control plane, listed once, in the order `help` lists their
// commands — the core's and each kind of port's (docs/architecture.md, "Adding a port
// kind") — and SwitchControl, what all of them together ask of a running switch, which
// src/switch/switch.ts implements (and src/docs/sample-switch.ts, for the docs and the
// control-plane tests). Main thread.

import type { CommandArea } from '../command-registry.js';
import type { CoreControl } from '../switch-api.js';
import { CAPTURE_AREA, type CaptureControl } from './capture.js';
import { DEBUG_AREA, type DebugControl } from './debug.js';
import { KEY_AREA, type KeysControl } from './keys.js';
import { LIMIT_AREA, type LimitControl } from './limits.js';
import { LISTEN_AREA, type ListenControl } from './listen.js';
import { MIRROR_AREA, type MirrorControl } from './mirror.js';
import { MONITOR_AREA } from './monitor.js';
import { PEER_AREA, type PeerControl } from './peer.js';
import { RUNNING_CONFIG_AREA } from './running-config.js';
import { SESSION_AREA } from './session.js';
import { SHOW_AREA } from './show.js';
import { TAP_AREA, type TapControl } from './tap.js';
import { TRUNK_AREA, type TrunkControl } from './trunk.js';
import { VLAN_AREA } from './vlan.js';
import { VXLAN_AREA, type VxlanControl } from './vxlan.js';

export const AREAS: readonly CommandArea[] = [
  VLAN_AREA,
  SHOW_AREA,
  TAP_AREA,
  TRUNK_AREA,
  LISTEN_AREA,
  LIMIT_AREA,
  PEER_AREA,
  KEY_AREA,
  VXLAN_AREA,
  CAPTURE_AREA,
  MIRROR_AREA,
  RUNNING_CONFIG_AREA,
  MONITOR_AREA,
  SESSION_AREA,
  DEBUG_AREA,
];

/** What the console, rc files, the control socket and `dives ctl` may ask of a running switch: every area's part. */
export interface SwitchControl
  extends CoreControl, LimitControl, DebugControl, TapControl, TrunkControl, ListenControl, PeerControl, KeysControl, VxlanControl, CaptureControl, MirrorControl {}
