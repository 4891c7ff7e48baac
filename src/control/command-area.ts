// CommandArea: one area of the control plane, as VDE2's modules and Open vSwitch's
// unixctl providers each bring theirs — its commands (src/control/command-registry.ts),
// the lines it writes into the running-config (src/control/running-config.ts), and the
// metric families read from its `show` commands (src/control/metric-sources.ts). Every
// area is listed once, in the order `help` lists their commands
// (src/control/commands/areas.ts). Types; main thread.

import type { CommandSpec } from './command-registry.js';
import type { SwitchControl } from './commands/areas.js';
import type { FamilySource, SetMetrics } from './metric-sources.js';
import type { VlanInfo } from './switch-api.js';

/** What an area configured, read once per rendering of the running-config. */
export interface ConfigState {
  /** Its lines inside `vlan VID` (the renderer indents them), and its fields of that VLAN's JSON entry. */
  vlan?(vid: number): { lines: string[]; json?: Record<string, unknown> };
  /** Its lines at switch level, after every VLAN. */
  lines?: string[];
  /** Its fields of the JSON document's top level. */
  json?: Record<string, unknown>;
}

export interface CommandArea {
  /** The commands, in the order `help` lists them. */
  commands: readonly CommandSpec[];
  /** Read what the area configured, for the running-config; `vlans` is what `show vlans` says now. */
  config?(sw: SwitchControl, vlans: readonly VlanInfo[]): ConfigState | Promise<ConfigState>;
  /** Families read from the JSON of its `show` commands. */
  metrics?: readonly FamilySource[];
  /** Its counter sets (src/core/counters.ts), each read from the JSON of the set's `show` command. */
  counters?: readonly SetMetrics[];
}
