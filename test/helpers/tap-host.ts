// A "host" for tests: a TAP attached to a VLAN of a real switch, moved into a network
// namespace of its own (addressed `cidr` when given) whose kernel answers pings and ARP.
// Test code, main thread of the ava worker; the fixture removes the namespace and TAP.

import type { Switch } from '../../src/switch/switch.js';
import type { NetnsFixture } from './netns.js';

/** Create TAP `fx.ifname(short)`, attach it to `vid` of `sw`, and move it into a new namespace. */
export async function tapHost(sw: Switch, fx: NetnsFixture, short: string, vid: number, cidr?: string): Promise<{ ns: string; tap: string }> {
  const tap = fx.ifname(short);
  await fx.createTap(tap);
  await sw.attachTap(vid, tap);
  const ns = await fx.addNs(short);
  await fx.moveToNs(tap, ns, cidr);
  return { ns, tap };
}
