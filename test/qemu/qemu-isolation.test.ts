// Isolation between QEMU ports (issue 13, finding 2), on a real switch (threads, rings,
// sockets) with QEMU-protocol test clients as VMs: a VM flooding broadcasts under
// storm-control and a VM that never reads lose only their own frames while two other
// VMs talk undisturbed; mac-limit caps the MACs one port may bring. Needs no privileges.

import test from 'ava';
import { Switch } from '../../src/switch/switch.js';
import { createLogger } from '../../src/core/log.js';
import { renderRunningConfig } from '../../src/control/running-config.js';
import { AREAS } from '../../src/control/commands/areas.js';
import { QemuClient, sendSentinel, startFlood } from '../helpers/qemu-client.js';
import type { PortInfo } from '../../src/control/switch-api.js';
import { sleep, until, within } from '../helpers/until.js';
import { freeTcpPort } from '../helpers/guest.js';
import { BCAST, markerFrame, mac, withMarker, withoutSentinels } from '../helpers/frames.js';

type Ctx = import('ava').ExecutionContext;

/** The storm-control rate of the flood test: well under what even a loaded machine floods. */
const RATE = 200;

/** A MAC from a 16-bit number, for more stations than mac() can name. */
function mac16(n: number): Buffer {
  return Buffer.from([0x02, 0xd1, 0x7e, 0x00, (n >> 8) & 0xff, n & 0xff]);
}

async function vms(t: Ctx, n: number) {
  const sw = new Switch({ log: createLogger('error'), forwardingThreads: 1 });
  t.teardown(() => sw.close());
  const port = await freeTcpPort();
  await sw.listen(10, { kind: 'tcp', host: '127.0.0.1', port });
  const clients: QemuClient[] = [];
  for (let i = 0; i < n; i++) {
    const c = await QemuClient.connect({ port });
    t.teardown(() => c.close());
    clients.push(c);
  }
  await until(() => sw.qemu.livePorts(10) >= n, 5000, `${n} QEMU ports`);
  const ports = await sw.showPorts(10);
  return { sw, clients, portIds: ports.map((p) => p.id) };
}

/** Send `count` unicast frames marked `marker`, in bursts of 100, as a VM talking would. */
async function talk(from: QemuClient, dst: Buffer, src: Buffer, marker: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 100) {
    for (let j = i; j < Math.min(count, i + 100); j++) from.send(markerFrame(dst, src, marker));
    await sleep(5);
  }
}

test('a VM flooding broadcasts past storm-control and a VM that never reads lose only their own frames; two VMs talking lose none', async (t) => {
  t.timeout(60_000);
  const { sw, clients, portIds } = await vms(t, 4);
  const [flooder, idle, a, b] = clients;
  const [fId, idleId, aId, bId] = portIds;
  idle.socket.pause();
  sw.setStormControl(10, 'broadcast', RATE);
  // A and B make themselves known.
  a.send(markerFrame(BCAST, mac(0xa), 'hello-a'));
  b.send(markerFrame(BCAST, mac(0xb), 'hello-b'));
  await Promise.all([a.waitFrames(1), b.waitFrames(1)]);
  // 60-byte frames, as this flood has always sent (the old frame helper cut longer markers to fit).
  const stopFlood = startFlood(flooder, markerFrame(BCAST, mac(0xf), 'x'.repeat(46)));
  const started = performance.now();
  const portOf = async (id: number): Promise<PortInfo | undefined> => (await sw.showPorts(10)).find((p) => p.id === id);
  await until(async () => ((await portOf(fId))?.drops['storm-broadcast'] ?? 0) > 0, 5000, 'storm-control to drop the flood', { everyMs: 50 });
  await Promise.all([talk(a, mac(0xb), mac(0xa), 'a-to-b', 3000), talk(b, mac(0xa), mac(0xb), 'b-to-a', 3000)]);
  // Still under the flood: A's and B's frames all arrive (the assertions below say if not).
  await within(() => withMarker(b, 'a-to-b').length >= 3000 && withMarker(a, 'b-to-a').length >= 3000, 5000);
  await stopFlood();
  const seconds = (performance.now() - started) / 1000;
  // The flooder's sentinels to A and B (known unicast, which storm-control lets by) go after
  // every frame it flooded, through its rx ring and the one forwarding thread to A's and
  // B's tx rings: once they arrive, every flood frame was counted and any copy delivered.
  const flooderSentinels = (await sendSentinel(flooder, mac(0xf), [a], { dst: mac(0xa) })) + (await sendSentinel(flooder, mac(0xf), [b], { dst: mac(0xb) }));
  t.is(withMarker(b, 'a-to-b').length, 3000, 'B got every frame A sent');
  t.is(withMarker(a, 'b-to-a').length, 3000, 'A got every frame B sent');
  const ports = new Map((await sw.showPorts(10)).map((p) => [p.id, p]));
  for (const id of [aId, bId]) {
    t.like(ports.get(id)?.drops, { 'ring-full': 0, 'rx-ring-full': 0, 'storm-broadcast': 0 }, `port ${id} dropped nothing`);
  }
  const f = ports.get(fId);
  // What got through is the flooder's frames less its storm drops: the rate and a burst at most.
  const passed = (f?.rxFrames ?? 0) - flooderSentinels - (f?.drops['storm-broadcast'] ?? 0);
  t.true((f?.drops['storm-broadcast'] ?? 0) > 0, `the flooder's port counts its own storm drops: ${JSON.stringify(f?.drops)}`);
  t.true(passed <= RATE * (seconds + 1.5), `${passed} of its broadcasts went on in ${seconds.toFixed(1)} s`);
  const floods = withMarker(a, 'x'.repeat(20)).length;
  t.true(floods <= RATE * (seconds + 1.5), `A got ${floods} of its broadcasts in ${seconds.toFixed(1)} s: at most the rate and a burst`);
  // Now the flooder sends to the VM that never reads, as fast as it can: that VM's queue
  // fills and only its frames are dropped, while A and B go on talking.
  idle.send(markerFrame(BCAST, mac(0x1d), 'hello-idle'));
  await until(async () => (await sw.showMacs(10)).some((m) => m.mac === '02:d1:7e:00:00:1d'), 3000, 'the idle VM\'s MAC learned');
  // 60-byte frames, as this flood has always sent (the old frame helper cut longer markers to fit).
  const stopUnicast = startFlood(flooder, markerFrame(mac(0x1d), mac(0xf), 'y'.repeat(46)));
  await until(async () => ((await portOf(idleId))?.drops['ring-full'] ?? 0) > 0, 5000, 'the idle VM\'s queue to fill', { everyMs: 50 });
  await Promise.all([talk(a, mac(0xb), mac(0xa), 'a-to-b-2', 3000), talk(b, mac(0xa), mac(0xb), 'b-to-a-2', 3000)]);
  await within(() => withMarker(b, 'a-to-b-2').length >= 3000 && withMarker(a, 'b-to-a-2').length >= 3000, 5000);
  await stopUnicast();
  // The flooder's sentinel to A goes after every frame of the unicast flood, through the same
  // rx ring, forwarding thread and (had one leaked to A) A's tx ring.
  await sendSentinel(flooder, mac(0xf), [a], { dst: mac(0xa) });
  t.is(withMarker(b, 'a-to-b-2').length, 3000);
  t.is(withMarker(a, 'b-to-a-2').length, 3000);
  const after = new Map((await sw.showPorts(10)).map((p) => [p.id, p]));
  t.true((after.get(idleId)?.drops['ring-full'] ?? 0) > 0, `the VM that never reads lost frames on its own queue: ${JSON.stringify(after.get(idleId)?.drops)}`);
  for (const id of [aId, bId]) t.like(after.get(id)?.drops, { 'ring-full': 0, 'rx-ring-full': 0 }, `port ${id} still dropped nothing`);
  t.is(withMarker(a, 'y'.repeat(20)).length, 0, 'the unicast flood reached only its destination');
});

test('mac-limit caps the MACs one port may have learned; its frames from more MACs are dropped and counted there, others learn freely', async (t) => {
  const { sw, clients, portIds } = await vms(t, 2);
  const [many, other] = clients;
  sw.setMacLimit(10, 4);
  for (let s = 1; s <= 50; s++) many.send(markerFrame(BCAST, mac16(0x100 + s), `from-${s}`));
  // A sentinel from one of the first 4 MACs goes through the same rx ring, forwarding thread
  // and tx ring as the 50 frames, after them: once it is at `other`, so is any of them that went on.
  await sendSentinel(many, mac16(0x101), [other]);
  other.send(markerFrame(BCAST, mac16(0x200), 'other'));
  await many.waitFrames(1);
  t.is(withoutSentinels(other).length, 4, 'only frames of the first 4 MACs went on');
  const macs = await sw.showMacs(10);
  const ports = await sw.showPorts(10);
  const name = ports.find((p) => p.id === portIds[0])?.name;
  t.deepEqual(macs.filter((m) => m.port === name).map((m) => m.mac), ['02:d1:7e:00:01:01', '02:d1:7e:00:01:02', '02:d1:7e:00:01:03', '02:d1:7e:00:01:04']);
  t.true(macs.some((m) => m.mac === '02:d1:7e:00:02:00'), 'the other port learned its MAC');
  t.is(ports.find((p) => p.id === portIds[0])?.drops['mac-limit'], 46);
  t.is(ports.find((p) => p.id === portIds[1])?.drops['mac-limit'], 0);
  t.deepEqual((await sw.showVlans()).find((v) => v.vid === 10)?.limits, { storm: [0, 0, 0], macLimit: 4 });
  sw.setStormControl(10, 'unknown', 500);
  const rc = await renderRunningConfig(sw, AREAS);
  t.true(rc.lines.join('\n').includes('vlan 10\n  listen 127.0.0.1'), rc.lines.join('\n'));
  t.true(rc.lines.includes('  storm-control unknown 500') && rc.lines.includes('  mac-limit 4'), rc.lines.join('\n'));
  sw.setMacLimit(10, null);
  many.send(markerFrame(BCAST, mac16(0x150), 'after'));
  await until(() => withMarker(other, 'after').length > 0, 3000, 'the frame after the limit was lifted');
  t.pass();
});
