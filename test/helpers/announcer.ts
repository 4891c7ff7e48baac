// A stranger on the discovery group: sends datagrams to a switch's group over loopback
// multicast, paced so the switch's socket buffer never overflows, and a switch with a
// logger whose lines the test counts. Test code, main thread of the ava worker.

import dgram from 'node:dgram';
import type { ExecutionContext } from 'ava';
import type { Logger } from '../../src/core/log.js';
import { LogLimiter } from '../../src/core/log-limiter.js';
import type { Switch } from '../../src/switch/switch.js';
import { freeUdpPort, peerSwitch, type PeerSwitch } from './peer-switches.js';
import type { FamilyLookup, PeeringFlags } from '../../src/peer/peering-options.js';
import { until } from './until.js';

/** A logger that keeps every line as "level message". */
export function captureLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (m: string) => lines.push(`${level} ${m}`);
  return { log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

export interface DiscoverySwitch extends PeerSwitch {
  group: string;
  discoveryPort: number;
  lines: string[];
  /** The log limiter's clock, ms; tests move it. */
  clock: { now: number };
}

/** A switch with discovery on a group of its own, its log captured and its log limiter on a clock the test moves. */
export async function discoverySwitch(t: ExecutionContext, flags: Partial<PeeringFlags> = {}, lookup?: FamilyLookup): Promise<DiscoverySwitch> {
  const { log, lines } = captureLog();
  const clock = { now: 0 };
  LogLimiter.attach(log, { now: () => clock.now });
  const group = `239.202.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
  const discoveryPort = await freeUdpPort();
  const ps = await peerSwitch(t, { discovery: true, group, discoveryPort, ...flags }, { log, lookup });
  return { ...ps, group, discoveryPort, lines, clock };
}

/** The discovery counters of `sw` (show peers). */
export async function discoveryCounters(sw: Switch): Promise<Record<string, number>> {
  return (await sw.showPeers()).discovery?.counters ?? {};
}

/** Datagrams the switch received on its group from others (its own announcements left out). */
async function heard(sw: Switch): Promise<number> {
  const c = await discoveryCounters(sw);
  return c.received - c.own;
}

/**
 * Send every datagram to the group, `chunk` at a time, each chunk waited for until the
 * switch has received it (or received nothing more for 100 ms), so the flood measures the
 * switch and not the kernel's socket buffer.
 */
export async function flood(ds: DiscoverySwitch, datagrams: Iterable<Buffer>, chunk = 200): Promise<void> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  s.setMulticastInterface('127.0.0.1');
  s.setMulticastTTL(0);
  s.setMulticastLoopback(true);
  const send = (b: Buffer): Promise<void> => new Promise((resolve) => s.send(b, ds.discoveryPort, ds.group, () => resolve()));
  let expect = await heard(ds.sw);
  let batch: Promise<void>[] = [];
  const settle = async (): Promise<void> => {
    expect += batch.length;
    await Promise.all(batch);
    batch = [];
    let got = await heard(ds.sw);
    let progressAt = Date.now();
    // Done when all came, or when none came for 100 ms: the kernel dropped the rest.
    await until(async () => {
      const now = await heard(ds.sw);
      if (now > got) progressAt = Date.now();
      got = now;
      return got >= expect || Date.now() - progressAt >= 100;
    }, 60_000, `the switch to hear ${expect} announcements`, { everyMs: 2 });
    // What the kernel dropped is not waited for again.
    expect = got;
  };
  try {
    for (const d of datagrams) {
      batch.push(send(d));
      if (batch.length >= chunk) await settle();
    }
    await settle();
  } finally {
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** An announcement of host:port. */
export function announcement(host: string, port = 4000): Buffer {
  return Buffer.from(`${host}:${port}`, 'latin1');
}

/** The i-th of many fake announcers' hosts: loopback addresses (127.77.x.y), so nothing sent to them leaves this host. */
export function fakeHost(i: number): string {
  return `127.77.${(i >> 8) & 255}.${i & 255}`;
}
