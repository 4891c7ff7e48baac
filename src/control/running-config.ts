// The running-config: the switch's state (VLANs, TAPs, QEMU listeners, VXLAN
// settings, static peers) printed as the rc file that recreates it, and the atomic file write that
// `write FILE` saves it with (src/control/commands/running-config.ts). Reads the
// switch through SwitchControl; runs on the main thread.

import { limitLines, noLimits } from '../forwarding/port-limits.js';
import { randomBytes } from 'node:crypto';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DivesError } from '../core/errors.js';
import { quoteWord } from './format.js';
import type { ListenSpec, StaticPeer, SwitchControl, VxlanVlanConfig } from './switch-api.js';

export interface RunningConfig {
  vlans: { vid: number; taps: string[]; listeners: ListenSpec[] }[];
  /** Trunk TAPs, at switch level: each spans VLANs. */
  trunks: { name: string; vlans: string; native: number | null }[];
  /** Mirrors, after everything they name exists. */
  mirrors: { source: string; to: string }[];
  peers: StaticPeer[];
  /** Each VLAN's VXLAN settings, as typed. */
  vxlan: VxlanVlanConfig[];
  /** The rc file, one entry per line. */
  lines: string[];
}

/** The first line of every running-config, so a reader (and `write`) can tell one from other files. */
export const RUNNING_CONFIG_HEADER = '# DiVES running-config: the commands that recreate this switch.';

/** How a listener is written as an rc line: inside its VLAN, or a trunk listener at switch level. */
function listenLine(spec: ListenSpec, max: number | null, trunk?: { vlans: string; native: number | null }): string {
  const where = spec.kind === 'unix' ? `listen unix ${quoteWord(spec.path)}` : `listen ${quoteWord(spec.host)} ${spec.port}`;
  const tagged = trunk === undefined ? '' : ` trunk ${trunk.vlans}${trunk.native === null ? '' : ` native ${trunk.native}`}`;
  return max === null ? `${where}${tagged}` : `${where}${tagged} max-connections ${max}`;
}

/** Plain code-unit order: the same on every machine, whatever its locale. */
function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A VLAN's VXLAN settings as rc lines: the VNI first, so the remotes and group are carried as it. */
function vxlanLines(c: VxlanVlanConfig | undefined): string[] {
  if (c === undefined) return [];
  const remotes = [...c.remotes].sort((a, b) => byText(a.host, b.host) || (a.port ?? 0) - (b.port ?? 0));
  return [
    ...(c.vni === null ? [] : [`vxlan vni ${c.vni}`]),
    ...remotes.map((r) => `vxlan remote ${quoteWord(r.host)}${r.port === null ? '' : ` ${r.port}`}`),
    ...(c.group === null ? [] : [`vxlan group ${quoteWord(c.group.address)}${c.group.replyToSource ? ' reply-to-source' : ''}`]),
  ];
}

function listenKey(spec: ListenSpec): string {
  return spec.kind === 'unix' ? `unix ${spec.path}` : `tcp ${spec.host} ${String(spec.port).padStart(5, '0')}`;
}

/**
 * Read the switch and print it as an rc file. Everything is sorted (VLANs by
 * vid, TAPs by name, listeners by address), so the same state always prints
 * the same text and a reloaded switch prints exactly what it was loaded from.
 * QEMU connections are not configuration: the guests reconnect to the listeners.
 */
export async function renderRunningConfig(sw: SwitchControl): Promise<RunningConfig> {
  const vlanInfos = await sw.showVlans();
  const peers: StaticPeer[] = sw.staticPeers().map((p) => ({ host: p.host, port: p.port }));
  const taps = sw.showTaps();
  const listeners = sw.showListeners();
  const vxlan = sw.vxlanConfig();
  const sorted = [...listeners].sort((a, b) => byText(listenKey(a.spec), listenKey(b.spec)));
  const vlans = vlanInfos.map(({ vid }) => ({
    vid,
    taps: taps
      .filter((t) => t.vid === vid)
      .map((t) => t.name)
      .sort(byText),
    listeners: sorted.filter((l) => l.vid === vid).map((l) => l.spec),
  }));
  peers.sort((a, b) => byText(a.host, b.host) || a.port - b.port);

  const lines = [RUNNING_CONFIG_HEADER, '# Load it with `dives start -c FILE`; save it with `write FILE`.'];
  for (const v of vlans) {
    lines.push(`vlan ${v.vid}`);
    for (const name of v.taps) lines.push(`  tap ${quoteWord(name)}`);
    for (const l of sorted.filter((x) => x.vid === v.vid)) lines.push(`  ${listenLine(l.spec, l.maxConnections)}`);
    for (const line of limitLines(vlanInfos.find((x) => x.vid === v.vid)?.limits ?? noLimits())) lines.push(`  ${line}`);
    for (const line of vxlanLines(vxlan.find((x) => x.vid === v.vid))) lines.push(`  ${line}`);
    lines.push('exit');
  }
  const trunks = sw.showTrunks().map((t) => ({ name: t.name, vlans: t.vlans, native: t.native }));
  for (const t of trunks) lines.push(`tap ${quoteWord(t.name)} trunk ${t.vlans}${t.native === null ? '' : ` native ${t.native}`}`);
  for (const l of sorted.filter((x) => x.trunk !== undefined)) lines.push(listenLine(l.spec, l.maxConnections, l.trunk));
  for (const p of peers) lines.push(`peer ${quoteWord(p.host)} ${p.port}`);
  const mirrors = sw.showMirrors().mirrors.map((m) => ({ source: m.source, to: m.to }));
  for (const m of mirrors) lines.push(`mirror ${m.source.replace(/^port (.*)$/, (_, p: string) => `port ${quoteWord(p)}`)} to ${quoteWord(m.to)}`);
  return { vlans, trunks, mirrors, peers, vxlan, lines };
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
