// The running-config: the switch's state (VLANs, TAPs, QEMU listeners, VXLAN
// settings, static peers) printed as the rc file that recreates it, and the atomic file write that
// `write FILE` saves it with (src/control/commands/running-config.ts). Reads the
// switch through SwitchControl; runs on the main thread.

import { randomBytes } from 'node:crypto';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DivesError } from '../core/errors.js';
import type { CommandArea, ConfigState } from './command-registry.js';
import type { CoreControl } from './switch-api.js';

/** The running-config as JSON: each VLAN with its areas' fields, each area's own fields, and the rc file. */
export interface RunningConfig {
  vlans: ({ vid: number } & Record<string, unknown>)[];
  /** The rc file, one entry per line. */
  lines: string[];
  [field: string]: unknown;
}

/** The first line of every running-config, so a reader (and `write`) can tell one from other files. */
export const RUNNING_CONFIG_HEADER = '# DiVES running-config: the commands that recreate this switch.';

/**
 * The fields of the JSON document in the order it was first published in (scripts that
 * compare it as text see the same text); an area's field not named here comes after them,
 * in the order of the areas.
 */
const FIELD_ORDER = ['trunks', 'mirrors', 'peers', 'vxlan'];

/**
 * Read the switch and print it as an rc file: every VLAN (by vid) with each area's lines
 * inside it, then each area's lines at switch level, in the order of the areas
 * (src/control/commands/areas.ts), each area sorting its own (TAPs by name, listeners by
 * address), so the same state always prints the same text and a reloaded switch prints
 * exactly what it was loaded from. QEMU connections are not configuration.
 */
export async function renderRunningConfig(sw: CoreControl, areas: readonly CommandArea[]): Promise<RunningConfig> {
  const vlanInfos = await sw.showVlans();
  const states: ConfigState[] = [];
  for (const a of areas) if (a.config !== undefined) states.push(await a.config(sw, vlanInfos));
  const lines = [RUNNING_CONFIG_HEADER, '# Load it with `dives start -c FILE`; save it with `write FILE`.'];
  const vlans = vlanInfos.map(({ vid }) => {
    const vlan: { vid: number } & Record<string, unknown> = { vid };
    lines.push(`vlan ${vid}`);
    for (const st of states) {
      const part = st.vlan?.(vid);
      if (part === undefined) continue;
      for (const line of part.lines) lines.push(`  ${line}`);
      Object.assign(vlan, part.json);
    }
    lines.push('exit');
    return vlan;
  });
  for (const st of states) lines.push(...(st.lines ?? []));
  const fields: Record<string, unknown> = Object.assign({}, ...states.map((st) => st.json ?? {}));
  const named = FIELD_ORDER.filter((f) => f in fields);
  const ordered = Object.fromEntries([...named, ...Object.keys(fields).filter((f) => !named.includes(f))].map((f) => [f, fields[f]]));
  return { vlans, ...ordered, lines };
}

/**
 * Replace `path` with `text` atomically: write a temporary file beside it,
 * flush it to disk, then rename it over the old file, so a reader (or a crash)
 * sees the old file or the new one, never half of one. The new file keeps the
 * old one's permissions, or gets 0644.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let mode = 0o644;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new DivesError('EWRITE', `cannot write the running-config to ${path}: it is a directory`);
    mode = st.mode & 0o777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw wrap(path, err);
  }
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw wrap(path, err);
  }
  // Make the rename itself durable; a directory that cannot be opened for this is no reason to fail.
  try {
    const d = await open(dir, 'r');
    await d.sync().finally(() => d.close());
  } catch {
    // The file is written and renamed; only its survival across a power cut is less certain.
  }
}

function wrap(path: string, err: unknown): DivesError {
  if (err instanceof DivesError) return err;
  const e = err as NodeJS.ErrnoException;
  const reason = e.code === 'ENOENT' ? 'no such directory' : e.code === 'EACCES' ? 'permission denied' : e.message;
  return new DivesError('EWRITE', `cannot write the running-config to ${path}: ${reason}`, { cause: err });
}
