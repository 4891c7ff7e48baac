// The sample switch's made-up state: what `npm run docs` prints in docs/console.md and the
// control-plane tests run against (src/docs/sample-switch.ts is the switch itself). Pure.

import { LISTENER_REFUSALS } from '../core/counters.js';
import { SampleSwitch } from './sample-switch.js';
import { sampleVxlan } from './sample-vxlan.js';
import { SampleMonitor, sampleMonitor } from './sample-monitor.js';

/**
 * The switch the docs and the command tests show: VLAN 10 with a TAP and a QEMU guest
 * (which has dropped a few frames), VLAN 20 with a peer port, a UNIX listener and VXLAN
 * VTEPs (src/docs/sample-vxlan.ts), VLAN 30, entered but empty; a trunk and mirrors (src/docs/sample-monitor.ts); a discovered peer that
 * is up and a static one that is down.
 */
export function sampleSwitch(): SampleSwitch {
  const sw = new SampleSwitch();
  const tap0 = sw.addPort(10, 'tap', 'tap:tap0', { rxFrames: 120, rxBytes: 9000, txFrames: 80, txBytes: 7040 });
  sw.taps.push({ name: 'tap0', vid: 10, portId: tap0.id, created: false, state: 'up', reason: null });
  const guest = sw.addPort(10, 'qemu', 'qemu:127.0.0.1:4000#3', { rxFrames: 7, rxBytes: 602, txFrames: 9, txBytes: 1200 });
  guest.drops['ring-full'] = 3;
  guest.drops.runt = 1;
  sw.listeners.push({ vid: 10, spec: { kind: 'tcp', host: '127.0.0.1', port: 4000 }, address: '127.0.0.1:4000', connections: 1, maxConnections: 16, refused: { ...LISTENER_REFUSALS.zero(), 'listener-full': 2 }, state: 'up', reason: null });
  sw.listeners.push({ vid: 20, spec: { kind: 'unix', path: '/run/dives/vm.sock' }, address: 'unix:/run/dives/vm.sock', connections: 0, maxConnections: null, refused: LISTENER_REFUSALS.zero(), state: 'up', reason: null });
  // A QEMU trunk listener (src/qemu/qemu-trunk-conns.ts): switch level, so vid 0.
  sw.listeners.push({ vid: 0, spec: { kind: 'tcp', host: '127.0.0.1', port: 4010 }, address: '127.0.0.1:4010', connections: 0, maxConnections: null, refused: LISTENER_REFUSALS.zero(), state: 'up', reason: null, trunk: { vlans: '10,20', native: null, drops: { untagged: 0, 'unlisted-vid': 2, 'double-tag': 0, 'bad-tag': 0 } } });
  sw.listeners.push({ vid: 0, spec: { kind: 'unix', path: '/run/dives/trunk.sock' }, address: 'unix:/run/dives/trunk.sock', connections: 0, maxConnections: 4, refused: LISTENER_REFUSALS.zero(), state: 'up', reason: null, trunk: { vlans: '10,20', native: 30, drops: { untagged: 0, 'unlisted-vid': 0, 'double-tag': 0, 'bad-tag': 0 } } });
  const peer = sw.addPort(20, 'peer', 'peer:10.0.0.2:3333', { rxFrames: 1, rxBytes: 64, txFrames: 2, txBytes: 128 });
  sw.addMac(tap0, '02:00:00:00:00:01', 3);
  sw.addMac(guest, '02:00:00:00:00:02', 125);
  sw.addMac(peer, '02:00:00:00:00:03', 7300);
  sw.vlans.set(10, { forwarded: 100, flooded: 20, dropped: 4 });
  sw.vlans.set(30, { forwarded: 0, flooded: 0, dropped: 0 });
  sw.limits.set(10, { storm: [1000, 0, 0], macLimit: 8 });
  const p = sw.addPeer('10.0.0.2:3333', 'discovered', {
    portId: peer.id,
    framesIn: 120,
    bytesIn: 9000,
    framesOut: 80,
    bytesOut: 7040,
    offloadedIn: 7,
    offloadedOut: 5,
    plainVids: [20, 30],
  });
  p.drops['no-vlan'] = 4;
  sw.addPeer('10.0.0.3:3333', 'static', { state: 'down', lastHeardSeconds: 75.2, portId: null, keepalivesOut: 9 });
  sw.peering.strangers = 2;
  sw.peering.counters = { strangers: 2, 'no-port': 0, 'recv-error': 1 };
  sw.peering.lastStranger = '10.0.0.66:40000';
  // VTEP ports numbered apart from the others, so the sample's other ports keep their ids.
  let vtepPort = 21;
  sw.vxlan = sampleVxlan(() => vtepPort++);
  // The trunk's ports numbered apart too.
  let trunkPort = 31;
  sw.monitor = sampleMonitor(new SampleMonitor(() => trunkPort++, () => sw.ports));
  return sw;
}
