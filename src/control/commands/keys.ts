// The key commands of DiVES — `show keys`, `key add FILE`, `key use ID`, `key remove ID` —
// as CommandRegistry records: rotating the cluster key on a running switch (docs/security.md,
// "Rotating the key"). Handlers parse, call SwitchControl and format; main thread.
// Nothing here prints a secret: a key is shown by its id, its role and its file.

import { DivesError } from '../../core/errors.js';
import type { CommandArea, CommandContext, CommandResult, CommandSpec } from '../command-registry.js';
import { formatTable, quote } from '../format.js';
import type { KeyInfo, KeysInfo } from '../../crypto/key-control.js';
import { command } from './args.js';

/** The lines of `show keys`. */
export function keysLines(info: KeysInfo): string[] {
  if (!info.keyed) return ['no cluster key: peer datagrams and announcements are neither authenticated nor encrypted (dives start --key-file FILE)'];
  const mode = info.encrypt ? 'encrypted and authenticated' : 'authenticated, not encrypted (--no-encrypt)';
  return [
    `peer datagrams and announcements are sealed with XChaCha20-Poly1305 (${info.libraries}): ${mode}; clocks may differ by ${info.maxClockSkewSeconds} s`,
    ...formatTable(
      ['KEY-ID', 'ROLE', 'SINCE', 'FILE'],
      info.keys.map((k) => [k.id, k.role, k.since, k.source]),
      '(no keys)',
    ),
  ];
}

function parseFile(word: string): string {
  if (word === '' || word.includes('\0')) throw new DivesError('EBADARG', `FILE must be a key file's path, got ${quote(word)}`);
  return word;
}

function parseKeyId(word: string): string {
  if (!/^[0-9a-fA-F]{8}$/.test(word)) throw new DivesError('EBADARG', `ID must be a key id of 8 hex digits as "show keys" prints it, got ${quote(word)}`);
  return word.toLowerCase();
}

function showKeys(ctx: Ctx): CommandResult {
  const info = ctx.sw.showKeys();
  return { lines: keysLines(info), json: info };
}

function keyAdd(ctx: Ctx): CommandResult {
  const k = ctx.sw.addKey(ctx.args.string('FILE'));
  return { lines: [`key ${k.id} added from ${k.source}: datagrams sealed with it are accepted; "key use ${k.id}" seals with it`], json: { key: k } };
}

function keyUse(ctx: Ctx): CommandResult {
  const k = ctx.sw.useKey(ctx.args.string('ID'));
  return { lines: [`sealing with key ${k.id}; the others held are still accepted`], json: { key: k } };
}

function keyRemove(ctx: Ctx): CommandResult {
  const id = ctx.args.string('ID');
  ctx.sw.removeKey(id);
  return { lines: [`key ${id} removed: datagrams sealed with it are refused`], json: { removed: id } };
}

const ID = [{ name: 'ID', parse: parseKeyId }];

/** What the key commands ask of the switch (src/crypto/key-control.ts). */
export interface KeysControl {
  /** The keys held, by id and role; never a secret. */
  showKeys(): KeysInfo;
  /** Accept the key in FILE too; DivesError EBADARG for a bad file, EBADCMD on a switch without a key. */
  addKey(file: string): KeyInfo;
  /** Seal with the held key ID from now on; ENOTATTACHED when it is not held. */
  useKey(id: string): KeyInfo;
  /** Refuse the held key ID (not the one in use). */
  removeKey(id: string): void;
}

type Ctl = KeysControl;
type Ctx = CommandContext<Ctl>;

export const KEY_COMMANDS: readonly CommandSpec<Ctl>[] = [
  command({ mode: 'switch', syntax: 'show keys', example: 'show keys', handler: showKeys, help: 'Show the cluster keys held: id, whether datagrams are sealed with it (send) or only accepted, since when, from which file. Never the secret.' }),
  command({
    mode: 'switch',
    syntax: 'key add FILE',
    example: 'key add /etc/dives/next.key',
    args: [{ name: 'FILE', parse: parseFile }],
    handler: keyAdd,
    help: 'Accept datagrams sealed with the key in FILE too (checked as --key-file is: mode 0600, well formed). Rotation, step 1 on every switch.',
  }),
  command({ mode: 'switch', syntax: 'key use ID', example: 'key use 5a313a40', args: ID, handler: keyUse, help: 'Seal datagrams with the held key ID from now on; the others stay accepted. Rotation, step 2.' }),
  command({ mode: 'switch', syntax: 'key remove ID', example: 'key remove 5a313a40', args: ID, handler: keyRemove, help: 'Refuse datagrams sealed with key ID (not the one in use). Rotation, step 3, once every switch seals with the new key.' }),
];

/** The key commands; keys are files, never in the running-config. */
export const KEY_AREA: CommandArea<Ctl> = { commands: KEY_COMMANDS };
