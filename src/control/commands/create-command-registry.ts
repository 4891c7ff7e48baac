// createCommandRegistry: the one CommandRegistry that holds every DiVES command, made
// from the areas in this folder (src/control/commands/areas.ts lists them, the way VDE2's
// modules and Open vSwitch's unixctl register theirs). Each transport — the stdio console, the control socket,
// rc files — builds one and shares it between its sessions. Main thread.

import { CommandRegistry, type CommandSpec } from '../command-registry.js';
import { AREAS } from './areas.js';

/** Every command, in the order `help` lists them within each level: each area's in turn (src/control/commands/areas.ts). */
export const COMMANDS: readonly CommandSpec[] = AREAS.flatMap((a) => a.commands);

export function createCommandRegistry(): CommandRegistry {
  return new CommandRegistry(AREAS);
}
