// createCommandRegistry: the one CommandRegistry that holds every DiVES command, made
// from the per-area tables in this folder (the way VDE2's modules and Open vSwitch's
// unixctl register theirs). Each transport — the stdio console, the control socket,
// rc files — builds one and shares it between its sessions. Main thread.

import { CommandRegistry, type CommandSpec } from '../command-registry.js';
import { CAPTURE_COMMANDS } from './capture.js';
import { DEBUG_COMMANDS } from './debug.js';
import { LIMIT_COMMANDS } from './limits.js';
import { LISTEN_COMMANDS } from './listen.js';
import { MIRROR_COMMANDS } from './mirror.js';
import { MONITOR_COMMANDS } from './monitor.js';
import { PEER_COMMANDS } from './peer.js';
import { KEY_COMMANDS } from './keys.js';
import { RUNNING_CONFIG_COMMANDS } from './running-config.js';
import { SESSION_COMMANDS } from './session.js';
import { SHOW_COMMANDS } from './show.js';
import { TAP_COMMANDS } from './tap.js';
import { TRUNK_COMMANDS } from './trunk.js';
import { VLAN_COMMANDS } from './vlan.js';
import { VXLAN_COMMANDS } from './vxlan.js';

/** Every command, in the order `help` lists them within each level. */
export const COMMANDS: readonly CommandSpec[] = [
  ...VLAN_COMMANDS,
  ...SHOW_COMMANDS,
  ...TAP_COMMANDS,
  ...TRUNK_COMMANDS,
  ...LISTEN_COMMANDS,
  ...LIMIT_COMMANDS,
  ...PEER_COMMANDS,
  ...KEY_COMMANDS,
  ...VXLAN_COMMANDS,
  ...CAPTURE_COMMANDS,
  ...MIRROR_COMMANDS,
  ...RUNNING_CONFIG_COMMANDS,
  ...MONITOR_COMMANDS,
  ...SESSION_COMMANDS,
  ...DEBUG_COMMANDS,
];

export function createCommandRegistry(): CommandRegistry {
  const registry = new CommandRegistry();
  for (const spec of COMMANDS) registry.add(spec);
  return registry;
}
