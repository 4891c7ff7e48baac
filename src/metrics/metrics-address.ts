// The address `dives start --metrics HOST:PORT` serves on: parsed and checked before
// anything starts, so a typo is refused with what to type instead. Pure; main thread.

import { isIP } from 'node:net';
import { DivesError } from '../core/errors.js';
import { formatHostPort } from '../linux/host-port.js';

export interface MetricsAddress {
  /** An IPv4 or IPv6 address (without brackets) or a host name. */
  host: string;
  port: number;
}

const HOSTNAME_RE = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** `HOST:PORT` (IPv6 as `[ADDRESS]:PORT`), or DivesError EBADARG saying what is wrong and how to write it. */
export function parseMetricsAddress(text: string): MetricsAddress {
  const fail = (why: string): DivesError =>
    new DivesError('EBADARG', `--metrics ${JSON.stringify(text)}: ${why}; give HOST:PORT, e.g. 127.0.0.1:9470, [::1]:9470, or 0.0.0.0:9470 for every interface`);
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([^:]*)$/.exec(text);
  if (m === null) throw fail(text.includes(':') ? 'an IPv6 address goes in brackets' : 'no port');
  const host = m[1] ?? m[2];
  if (host === '') throw fail('no host');
  if (m[1] !== undefined ? isIP(host) !== 6 : isIP(host) === 0 && !HOSTNAME_RE.test(host)) throw fail(`${JSON.stringify(host)} is not an address or a host name`);
  const port = /^[0-9]{1,5}$/.test(m[3]) ? Number(m[3]) : NaN;
  if (!(port >= 1 && port <= 65535)) throw fail(`the port must be a number 1..65535, got ${JSON.stringify(m[3])}`);
  return { host, port };
}

/** How an address is written back: IPv6 in brackets. */
export function formatMetricsAddress(a: MetricsAddress): string {
  return formatHostPort(a.host, a.port);
}
