// The argument words commands take (VLAN ids, device names, hosts, ports, paths,
// MACs) as ArgSpecs with their validators, and the helpers every command table uses
// to declare a command. Pure; runs on the main thread.

import { DivesError } from '../../core/errors.js';
import { VID_MAX, VID_MIN, parseMac } from '../../core/frame.js';
import type { ArgSpec, CommandContext, CommandSpec } from '../command-registry.js';
import type { CoreControl } from '../switch-api.js';
import { quote } from '../format.js';

const DEVNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;

/** A VLAN id, 1..4094, in plain decimal. */
export function parseVid(word: string): number {
  const n = /^[0-9]{1,4}$/.test(word) ? Number(word) : NaN;
  if (!(n >= VID_MIN && n <= VID_MAX)) {
    throw new DivesError('EBADARG', `VLAN ID must be a number ${VID_MIN}..${VID_MAX}, got ${quote(word)}`);
  }
  return n;
}

/** True for a word `vlan ID` accepts; the same rule as parseVid, without its error. */
export function isVid(word: string): boolean {
  const n = /^[0-9]{1,4}$/.test(word) ? Number(word) : NaN;
  return n >= VID_MIN && n <= VID_MAX;
}

/** A TCP or UDP port, 1..65535, in plain decimal. */
export function parsePort(word: string): number {
  const n = /^[0-9]{1,5}$/.test(word) ? Number(word) : NaN;
  if (!(n >= 1 && n <= 65535)) throw new DivesError('EBADARG', `PORT must be a number 1..65535, got ${quote(word)}`);
  return n;
}

/** A network device name as Linux accepts it for a TAP: 1..15 characters of [A-Za-z0-9_.-]. */
export function parseDevname(word: string): string {
  if (!DEVNAME_RE.test(word)) {
    throw new DivesError('EBADARG', `DEVNAME must be 1..15 characters of A-Z a-z 0-9 _ . -, got ${quote(word)}`);
  }
  return word;
}

/** A parser for an IPv4 address, an IPv6 address or a host name, named `name` in errors. "[::1]" is taken as "::1", the form Node's net module wants. */
function hostParser(name: string): (word: string) => string {
  return (word) => {
    const host = /^\[.*\]$/.test(word) ? word.slice(1, -1) : word;
    if (host === '') throw new DivesError('EBADARG', `${name} must not be empty, got ${quote(word)}`);
    return host;
  };
}

/** A QEMU listener's host (HOSTNAME). */
export const parseHostname = hostParser('HOSTNAME');
/** A peer's host (HOST); Peering checks it further. */
export const parsePeerHost = hostParser('HOST');

/** A UNIX socket path, absolute or relative to the switch's working directory. */
export function parsePath(word: string): string {
  if (word === '' || word.includes('\0')) throw new DivesError('EBADARG', `PATH must be a non-empty path, got ${quote(word)}`);
  return word;
}

/** A unicast MAC address ("02:00:00:00:00:01"), as the word it was given in. */
export function parseMacWord(word: string): string {
  const mac = parseMac(word);
  if (Math.floor(mac / 2 ** 40) % 2 === 1) throw new DivesError('EBADARG', `MAC must be a unicast address, got ${quote(word)}`);
  return word;
}

/** "on" or "off". */
export function parseOnOff(word: string): string {
  if (word !== 'on' && word !== 'off') throw new DivesError('EBADARG', `WHAT must be on or off, got ${quote(word)}`);
  return word;
}

/** A count 1..max in plain decimal, named `name` in errors. */
export function countParser(name: string, max: number): (word: string) => number {
  return (word) => {
    const n = /^[0-9]{1,9}$/.test(word) ? Number(word) : NaN;
    if (!(n >= 1 && n <= max)) throw new DivesError('EBADARG', `${name} must be a number 1..${max}, got ${quote(word)}`);
    return n;
  };
}

export const ID: ArgSpec = { name: 'ID', parse: parseVid };
/** The keyword `word` itself, as an optional argument that names an optional value after it. */
export function keyword(word: string): ArgSpec {
  return {
    name: word,
    optional: true,
    parse: (w) => {
      if (w !== word) throw new DivesError('EBADARG', `expected ${word}, got ${quote(w)}`);
      return w;
    },
  };
}

/** `[max-connections N]`: a listener's connections at most. */
export const MAX_CONNECTIONS: ArgSpec[] = [keyword('max-connections'), { name: 'N', optional: true, parse: countParser('N', 65535) }];
export const DEVNAME: ArgSpec = { name: 'DEVNAME', parse: parseDevname };
export const HOSTNAME_PORT: ArgSpec[] = [
  { name: 'HOSTNAME', parse: parseHostname },
  { name: 'PORT', parse: parsePort },
];
export const PATH: ArgSpec = { name: 'PATH', parse: parsePath };

/** The VLAN a VLAN-level handler runs in; the registry only calls those handlers with one. */
export function vlanOf(ctx: CommandContext<unknown>): number {
  if (ctx.vid === null) throw new DivesError('EINTERNAL', 'a VLAN-level command ran at switch level');
  return ctx.vid;
}

/**
 * A command record whose path is the literal words that open its syntax
 * ("no listen unix PATH" -> ['no', 'listen', 'unix']), so the two cannot disagree.
 */
export function command<C = CoreControl>(spec: Omit<CommandSpec<C>, 'path' | 'args'> & { args?: ArgSpec[] }): CommandSpec<C> {
  const words = spec.syntax.split(' ');
  const literal = words.findIndex((w) => !/^[a-z][a-z-]*$/.test(w));
  return { ...spec, path: literal === -1 ? words : words.slice(0, literal), args: spec.args ?? [] };
}
