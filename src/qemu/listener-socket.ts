// openListener: the listening socket of a QEMU listener, opened by main through libc
// (src/linux/stream-socket.ts) so a bind error is reported where `listen` was typed: a
// TCP host resolved to an address, or a UNIX path made free first (a stale socket left by
// a killed switch is replaced). Main thread, for src/qemu/qemu-ports.ts.

import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { DivesError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { claimSocketPath } from '../linux/socket-path.js';
import { listenTcp, listenUnix } from '../linux/stream-socket.js';
import type { ListenSpec } from './listen-spec.js';

/** Open the listening socket `spec` names; returns its fd. Throws DivesError ELISTEN with what to do. */
export async function openListener(spec: ListenSpec, log: Logger): Promise<number> {
  if (spec.kind === 'unix') {
    await claimPath(spec.path, log);
    return listenUnix(spec.path).fd;
  }
  return listenTcp(await resolveHost(spec.host), spec.port).fd;
}

/**
 * Make a UNIX listener's path free: a socket left by a switch that was killed is
 * removed, as a restarted daemon must; one something still accepts on, or a file that
 * is not a socket, is refused.
 */
async function claimPath(path: string, log: Logger): Promise<void> {
  const c = await claimSocketPath(path);
  switch (c.kind) {
    case 'free':
      return;
    case 'replaced':
      log.info(`listen unix:${path}: replaced a stale socket (nothing accepted on it)`);
      return;
    case 'busy':
      throw new DivesError('ELISTEN', `listen unix:${path}: another program accepts connections on it; stop it or choose another path`);
    case 'not-socket':
      throw new DivesError('ELISTEN', `listen unix:${path}: the path exists and is not a socket; move it away or choose another path`);
    case 'error':
      throw new DivesError('ELISTEN', `listen unix:${path}: ${c.message}`);
  }
}

/** A listener's host as an address: numeric as given, a name resolved (IPv4 first, as Node's net module does). */
async function resolveHost(host: string): Promise<string> {
  if (isIP(host) !== 0) return host;
  try {
    return (await lookup(host)).address;
  } catch (err) {
    throw new DivesError('ELISTEN', `listen ${host}: cannot resolve it (${err instanceof Error ? err.message : String(err)})`);
  }
}
