// CommandRegistry: the one table of control commands (path, syntax, help, mode,
// arguments, handler) shared by the stdio console, the control socket, `dives ctl`
// and rc files, in the manner of VDE2's and Open vSwitch's per-module command
// tables, made from the command areas (CommandArea below: an area's commands, the lines
// it writes into the running-config and the metrics of its `show` commands; every area
// is listed once, src/control/commands/areas.ts). It resolves words to a command, validates arguments and runs the
// handler against the part of SwitchControl its area calls (src/control/commands/areas.ts
// puts the parts together). Runs on the main thread.

import { DivesError } from '../core/errors.js';
import type { FamilySource, SetMetrics } from './metric-sources.js';
import type { CommandStream } from './command-stream.js';
import type { ByteSink, CoreControl, VlanInfo } from './switch-api.js';
import { quote } from './format.js';

/** Where a command may run: at switch level, inside `vlan ID`, or at either level. */
export type CommandMode = 'switch' | 'vlan' | 'any';

/** The level a session is at when a command runs. */
export type Level = 'switch' | 'vlan';

export interface ArgSpec {
  /** The name as it appears in the syntax and in error messages: "ID", "DEVNAME". */
  name: string;
  /** Validates and converts one word; throws DivesError('EBADARG') on a bad one. Default: the word as given. */
  parse?: (word: string) => string | number;
  /** The argument may be left out; only trailing arguments may be optional. */
  optional?: boolean;
  /** Takes every remaining word unparsed (as `words(name)`); only the last argument may be. */
  rest?: boolean;
}

export interface CommandResult {
  /** Text for people, one entry per line, no trailing newlines. */
  lines: string[];
  /** The same result for programs; every `show` command sets it. */
  json?: unknown;
  /** Ask the transport to end the session; the transport decides what that means. */
  close?: boolean;
  /** Change the session's mode: enter VLAN `vid`, or leave VLAN mode with null. Undefined keeps it. */
  mode?: { vid: number } | null;
  /** Lines to send after the reply as they happen, until the client stops them (`monitor`; src/control/command-stream.ts). */
  stream?: CommandStream;
}

/** The validated arguments of one command invocation, by their ArgSpec names. */
export class ArgValues {
  readonly #values: ReadonlyMap<string, string | number | string[]>;

  constructor(values: ReadonlyMap<string, string | number | string[]>) {
    this.#values = values;
  }

  has(name: string): boolean {
    return this.#values.has(name);
  }

  number(name: string): number {
    const v = this.#values.get(name);
    if (typeof v !== 'number') throw new DivesError('EINTERNAL', `argument ${name} is not a number`);
    return v;
  }

  string(name: string): string {
    const v = this.#values.get(name);
    if (typeof v !== 'string') throw new DivesError('EINTERNAL', `argument ${name} is not a word`);
    return v;
  }

  /** The words a `rest` argument took; empty when there were none. */
  words(name: string): string[] {
    const v = this.#values.get(name);
    return Array.isArray(v) ? v : [];
  }
}

/** What a handler is given; `C` is the part of SwitchControl its area calls (TapControl, ...). */
export interface CommandContext<C = CoreControl> {
  readonly sw: C;
  readonly registry: CommandRegistry;
  /** The VLAN the command runs in (session mode or a one-shot prefix); null at switch level. */
  readonly vid: number | null;
  /** True when the command runs under a one-shot `vlan ID ...` prefix. */
  readonly oneShot: boolean;
  readonly args: ArgValues;
  /**
   * Start streaming bytes to the client instead of lines (the control socket's binary
   * stream, docs/console.md "The protocol"); null where the transport cannot (the stdio
   * console, rc files). `capture` without a FILE uses it.
   */
  readonly openStream: (() => ByteSink) | null;
}

/** One command; `C` as in CommandContext (the registry holds every area's, so `any` there). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a registry holds the commands of every area, each typed on its own part of SwitchControl
export interface CommandSpec<C = any> {
  /** The fixed words that name the command: ['show', 'macs']. */
  path: readonly string[];
  /** How a person types it: "listen HOSTNAME PORT". */
  syntax: string;
  /** One sentence for `help`. */
  help: string;
  mode: CommandMode;
  args: readonly ArgSpec[];
  /** Left out of the short `help`; listed by `help WORD` for its first word. */
  hidden?: boolean;
  /** The command enters or leaves a mode, so it cannot run under a one-shot `vlan ID` prefix. */
  changesMode?: boolean;
  /**
   * A line that runs this command against the sample switch (src/docs/sample-switch.ts):
   * docs/console.md shows its replies, generated, and a test runs every one.
   */
  example: string;
  /** The VLAN the example runs in; default: 10 for a VLAN-level command, switch level otherwise. */
  exampleVid?: number;
  handler(ctx: CommandContext<C>): Promise<CommandResult> | CommandResult;
}

export interface RunOptions {
  /** The switch: every area's part (SwitchControl, src/control/commands/areas.ts). */
  sw: CoreControl;
  vid: number | null;
  oneShot?: boolean;
  openStream?: (() => ByteSink) | null;
}

function allowedAt(mode: CommandMode, level: Level): boolean {
  return mode === 'any' || mode === level;
}

function startsWith(words: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= words.length && prefix.every((w, i) => words[i] === w);
}

/** What an area configured, read once per rendering of the running-config. */
export interface ConfigState {
  /** Its lines inside `vlan VID` (the renderer indents them), and its fields of that VLAN's JSON entry. */
  vlan?(vid: number): { lines: string[]; json?: Record<string, unknown> };
  /** Its lines at switch level, after every VLAN. */
  lines?: string[];
  /** Its fields of the JSON document's top level. */
  json?: Record<string, unknown>;
}

/** An area whose commands and config read `C`, its part of SwitchControl. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as CommandSpec's: a list holds every area
export interface CommandArea<C = any> {
  /** The commands, in the order `help` lists them. */
  commands: readonly CommandSpec<C>[];
  /** Read what the area configured, for the running-config; `vlans` is what `show vlans` says now. */
  config?(sw: C, vlans: readonly VlanInfo[]): ConfigState | Promise<ConfigState>;
  /** Families read from the JSON of its `show` commands. */
  metrics?: readonly FamilySource[];
  /** Its counter sets (src/core/counters.ts), each read from the JSON of the set's `show` command. */
  counters?: readonly SetMetrics[];
}

export class CommandRegistry {
  readonly #commands: CommandSpec[] = [];

  /** A registry of the commands of `areas`, in their order; `areas` stay known to the commands that print every area's part (the running-config). */
  constructor(readonly areas: readonly CommandArea[] = []) {
    for (const a of areas) for (const spec of a.commands) this.add(spec);
  }

  /** Add a command. Two commands may share a path only if they run at different levels. */
  add(spec: CommandSpec): this {
    const clash = this.#commands.find(
      (c) => c.path.join(' ') === spec.path.join(' ') && (c.mode === 'any' || spec.mode === 'any' || c.mode === spec.mode),
    );
    if (clash) throw new DivesError('EINTERNAL', `command "${spec.syntax}" is registered twice`);
    const restAt = spec.args.findIndex((a) => a.rest);
    if (restAt !== -1 && restAt !== spec.args.length - 1) {
      throw new DivesError('EINTERNAL', `command "${spec.syntax}": only the last argument may take the rest`);
    }
    this.#commands.push(spec);
    return this;
  }

  /** Every command, in the order they were added. */
  list(): readonly CommandSpec[] {
    return this.#commands;
  }

  /**
   * Find the command `words` names at `level`: the longest path that prefixes the
   * words wins, so `listen unix PATH` beats `listen HOSTNAME PORT`. Throws
   * EBADCMD for an unknown or incomplete command, or one of another level.
   */
  resolve(words: readonly string[], level: Level): { spec: CommandSpec; rest: string[] } {
    const matches = this.#commands.filter((c) => startsWith(words, c.path));
    const longest = Math.max(0, ...matches.map((c) => c.path.length));
    const best = matches.filter((c) => c.path.length === longest);
    const here = best.find((c) => allowedAt(c.mode, level));
    if (here) return { spec: here, rest: words.slice(here.path.length) };

    if (best.length > 0) {
      const name = quote(best[0].path.join(' '));
      if (level === 'switch') throw new DivesError('EBADCMD', `${name} needs VLAN mode; enter it with "vlan ID"`);
      throw new DivesError('EBADCMD', `${name} is a switch-level command; leave VLAN mode with "exit"`);
    }
    const line = quote(words.join(' '));
    if (this.#commands.some((c) => c.path.length > words.length && startsWith(c.path, words))) {
      throw new DivesError('EBADCMD', `incomplete command ${line}; try ${quote(`help ${words.join(' ')}`)}`);
    }
    const group = this.#commands.some((c) => c.path[0] === words[0]);
    throw new DivesError('EBADCMD', `unknown command ${line}; try ${quote(group ? `help ${words[0]}` : 'help')}`);
  }

  /** Resolve `words`, validate the arguments and run the handler. */
  async run(words: readonly string[], opts: RunOptions): Promise<CommandResult> {
    const level: Level = opts.vid === null ? 'switch' : 'vlan';
    const { spec, rest } = this.resolve(words, level);
    const oneShot = opts.oneShot ?? false;
    if (oneShot && spec.changesMode) {
      throw new DivesError('EBADCMD', `${quote(spec.path.join(' '))} cannot follow a one-shot "vlan ${opts.vid}" prefix`);
    }
    const args = parseArgs(spec, rest);
    return spec.handler({ sw: opts.sw, registry: this, vid: opts.vid, oneShot, args, openStream: opts.openStream ?? null });
  }

  /**
   * The words that may come next after `words` at `level`, starting with
   * `partial`, for tab completion. Hidden commands are offered only once
   * their first word has been typed, unless `hidden` asks for them (`help`).
   */
  complete(words: readonly string[], partial: string, level: Level, hidden = false): string[] {
    const next = new Set<string>();
    for (const c of this.#commands) {
      if (!allowedAt(c.mode, level) || c.path.length <= words.length || !startsWith(c.path, words)) continue;
      if (c.hidden && words.length === 0 && !hidden) continue;
      const word = c.path[words.length];
      if (word.startsWith(partial)) next.add(word);
    }
    return [...next].sort();
  }
}

/** Match words to a command's ArgSpecs, running each parser; missing or extra words are EBADARG. */
export function parseArgs(spec: CommandSpec, words: readonly string[]): ArgValues {
  const values = new Map<string, string | number | string[]>();
  const usage = `usage: ${spec.syntax}`;
  const name = quote(spec.path.join(' '));
  let i = 0;
  for (const arg of spec.args) {
    if (arg.rest) {
      values.set(arg.name, words.slice(i));
      i = words.length;
      break;
    }
    if (i >= words.length) {
      if (arg.optional) break;
      throw new DivesError('EBADARG', `${name} needs ${arg.name}; ${usage}`);
    }
    values.set(arg.name, arg.parse ? arg.parse(words[i]) : words[i]);
    i++;
  }
  if (i < words.length) {
    throw new DivesError('EBADARG', `unexpected argument ${quote(words[i])} to ${name}; ${usage}`);
  }
  return new ArgValues(values);
}
