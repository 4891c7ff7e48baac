// Switches that peer over loopback inside the test process: each a real Switch
// with its peer I/O thread bound on 127.0.0.1 and a free UDP port, discovery off
// unless asked for, and QEMU-protocol clients standing in for VMs. Test code,
// main thread of the ava worker.

import dgram from 'node:dgram';
import type { ExecutionContext } from 'ava';
import { Switch } from '../../src/switch/switch.js';
import { createLogger, type Logger } from '../../src/core/log.js';
import { resolvePeeringOptions, type FamilyLookup, type PeeringFlags } from '../../src/peer/peering-options.js';
import { freeTcpPort } from './guest.js';
import { QemuClient } from './qemu-client.js';
import { until } from './until.js';

/** A UDP port nobody on 127.0.0.1 uses right now. */
export async function freeUdpPort(address = '127.0.0.1'): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, address, () => resolve()));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface PeerSwitch {
  sw: Switch;
  port: number;
}

/**
 * Start a switch peering on 127.0.0.1:port (a free one unless given); closed in teardown.
 * `log` replaces the test logger, `lookup` the resolver of announced names.
 */
export async function peerSwitch(t: ExecutionContext, flags: Partial<PeeringFlags> = {}, with_: { log?: Logger; lookup?: FamilyLookup } = {}): Promise<PeerSwitch> {
  const port = flags.port ?? (await freeUdpPort());
  const sw = new Switch({ log: with_.log ?? createLogger(process.env.DIVES_TEST_LOG === '1' ? 'debug' : 'error'), forwardingThreads: 2 });
  t.teardown(() => sw.close());
  const opts = await resolvePeeringOptions({
    host: '127.0.0.1',
    port,
    discovery: false,
    group: '239.13.13.13',
    discoveryPort: 3535,
    interval: 0.2,
    // Long enough that a busy test machine does not expire a healthy peer; the
    // expiry test sets its own.
    expiry: 10,
    ttl: 0,
    ...flags,
  });
  await sw.startPeering({ ...opts, lookup: with_.lookup });
  return { sw, port };
}

/** A QEMU-protocol VM on a new TCP listener in `vid` of `sw`, attached once its port exists. */
export async function vm(t: ExecutionContext, sw: Switch, vid: number): Promise<QemuClient> {
  const port = await freeTcpPort();
  await sw.listen(vid, { kind: 'tcp', host: '127.0.0.1', port });
  const before = sw.qemu.livePorts(vid);
  const c = await QemuClient.connect({ port });
  t.teardown(() => c.close());
  await until(() => sw.qemu.livePorts(vid) > before, 5000, 'the QEMU port to attach');
  return c;
}

/** Poll until every listed peer of `sw` is up (by "host:port"). */
export async function peersUp(sw: Switch, keys: string[], timeoutMs = 5000): Promise<void> {
  await until(
    async () => {
      const { peers } = await sw.showPeers();
      return keys.every((k) => peers.some((p) => p.address === k && p.state === 'up' && p.portId !== null));
    },
    timeoutMs,
    `peers ${keys.join(', ')} up`,
  );
}
