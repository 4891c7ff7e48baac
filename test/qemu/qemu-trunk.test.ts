// QEMU trunk listeners (`listen HOST PORT trunk VLANS [native ID]`, issue 16 item 1), on a
// real switch (threads, rings, sockets) with QEMU-protocol test clients as VMs: a trunk VM
// sends tagged frames to access VMs of VLANs 10 and 20 and gets their answers tagged, the
// VLANs stay apart, what no VLAN takes is dropped and counted, the native VLAN goes
// untagged both ways, and `show ports`, `show listeners` and the running-config show it.
// Needs no privileges.

import test from 'ava';
import { Switch } from '../../src/switch/switch.js';
import { createLogger } from '../../src/core/log.js';
import { createCommandRegistry } from '../../src/control/commands/create-command-registry.js';
import { ConsoleSession } from '../../src/control/console-session.js';
import { renderRunningConfig } from '../../src/control/running-config.js';
import { AREAS } from '../../src/control/commands/areas.js';
import { QemuClient, sendSentinel } from '../helpers/qemu-client.js';
import { until, within } from '../helpers/until.js';
import { freeTcpPort } from '../helpers/guest.js';
import { BCAST, markerFrame, mac, tagged, withMarker, withoutSentinels } from '../helpers/frames.js';

type Ctx = import('ava').ExecutionContext;

/** The vid of a tagged frame, or null for an untagged one. */
function vidOf(f: Buffer): number | null {
  return f.readUInt16BE(12) === 0x8100 ? f.readUInt16BE(14) & 0xfff : null;
}

/** A switch with access listeners on VLANs 10 and 20 and a trunk listener typed as a command, one VM on each. */
async function trunkSwitch(t: Ctx, trunkWords: string) {
  const sw = new Switch({ log: createLogger('error'), forwardingThreads: 2 });
  t.teardown(() => sw.close());
  const session = new ConsoleSession(createCommandRegistry(), sw, {});
  const [p10, p20, pt] = [await freeTcpPort(), await freeTcpPort(), await freeTcpPort()];
  await sw.listen(10, { kind: 'tcp', host: '127.0.0.1', port: p10 });
  await sw.listen(20, { kind: 'tcp', host: '127.0.0.1', port: p20 });
  const reply = await session.execute(`listen 127.0.0.1 ${pt} ${trunkWords}`);
  t.true(reply.ok, JSON.stringify(reply));
  const connect = async (port: number): Promise<QemuClient> => {
    const c = await QemuClient.connect({ port });
    t.teardown(() => c.close());
    return c;
  };
  const [a10, a20, trunk] = [await connect(p10), await connect(p20), await connect(pt)];
  await until(() => sw.qemu.livePorts() >= 3, 5000, 'the access and trunk VMs\' ports');
  return { sw, session, a10, a20, trunk, pt };
}

test('a trunk VM reaches VLANs 10 and 20 by tag, and their answers come back tagged; the VLANs stay apart', async (t) => {
  t.timeout(30_000);
  const { a10, a20, trunk } = await trunkSwitch(t, 'trunk 10,20');
  trunk.send(tagged(markerFrame(BCAST, mac(0x1), 'hello-10'), 10));
  trunk.send(tagged(markerFrame(BCAST, mac(0x1), 'hello-20'), 20));
  await Promise.all([a10.waitFrames(1), a20.waitFrames(1)]);
  // A sentinel tagged 10 and one tagged 20 follow both frames on the trunk's connection, each
  // through its VLAN's rx ring, forwarding thread and access VM's tx ring, where a frame that
  // leaked into that VLAN would have gone before it.
  await sendSentinel(trunk, mac(0x1), [a10], { vid: 10 });
  await sendSentinel(trunk, mac(0x1), [a20], { vid: 20 });
  // Each access VM got its VLAN's frame, untagged, and not the other's.
  t.deepEqual(withoutSentinels(a10).map((f) => [vidOf(f), f.subarray(14, 22).toString('latin1')]), [[null, 'hello-10']]);
  t.deepEqual(withoutSentinels(a20).map((f) => [vidOf(f), f.subarray(14, 22).toString('latin1')]), [[null, 'hello-20']]);
  a10.send(markerFrame(mac(0x1), mac(0xa), 'answer-10'));
  a20.send(markerFrame(mac(0x1), mac(0xb), 'answer-20'));
  await trunk.waitFrames(2);
  t.deepEqual(withMarker(trunk, 'answer').length, 0, 'answers carry a tag: the marker is 4 bytes further');
  const got = trunk.frames.map((f) => [vidOf(f), f.subarray(18, 27).toString('latin1'), f.length]).sort();
  t.deepEqual(got, [
    [10, 'answer-10', 64],
    [20, 'answer-20', 64],
  ]);
});

test('a trunk connection drops and counts an unlisted tag, a double tag and a bad tag, and untagged frames without a native VLAN', async (t) => {
  t.timeout(30_000);
  const { sw, session, a10, a20, trunk } = await trunkSwitch(t, 'trunk 10,20');
  trunk.send(tagged(markerFrame(BCAST, mac(0x1), 'unlisted'), 30));
  trunk.send(tagged(tagged(markerFrame(BCAST, mac(0x1), 'double'), 20), 10));
  trunk.send(tagged(markerFrame(BCAST, mac(0x1), 'service'), 10, 0x88a8));
  trunk.send(tagged(markerFrame(BCAST, mac(0x1), 'vid-4095'), 4095));
  trunk.send(markerFrame(BCAST, mac(0x1), 'untagged'));
  trunk.send(tagged(markerFrame(BCAST, mac(0x1), 'last'), 10));
  await until(() => withMarker(a10, 'last').length > 0, 3000, "'last' at a10");
  // 'last' itself is VLAN 10's sentinel; a sentinel tagged 20 follows every frame above on the
  // connection and goes through VLAN 20's rx ring and thread to a20, where a leak would have gone.
  await sendSentinel(trunk, mac(0x1), [a20], { vid: 20 });
  t.deepEqual(a10.frames.map((f) => f.subarray(14, 18).toString('latin1')), ['last']);
  t.is(withoutSentinels(a20).length, 0);
  const [l] = sw.showListeners().filter((x) => x.trunk !== undefined);
  t.deepEqual(l.trunk?.drops, { untagged: 1, 'unlisted-vid': 1, 'double-tag': 1, 'bad-tag': 2 });
  const text = await session.execute('show listeners');
  t.true(text.ok && text.lines.join('\n').includes('trunk drops: untagged=1 unlisted-vid=1 double-tag=1 bad-tag=2'), JSON.stringify(text));
});

test('the native VLAN goes untagged both ways on a trunk connection', async (t) => {
  t.timeout(30_000);
  const { a10, a20, trunk } = await trunkSwitch(t, 'trunk 10 native 20');
  trunk.send(markerFrame(BCAST, mac(0x1), 'plain-20'));
  await a20.waitFrames(1);
  t.deepEqual(a20.frames.map((f) => [vidOf(f), f.subarray(14, 22).toString('latin1')]), [[null, 'plain-20']]);
  a20.send(markerFrame(mac(0x1), mac(0xb), 'answer-20'));
  await trunk.waitFrames(1);
  t.deepEqual(trunk.frames.map((f) => [vidOf(f), f.subarray(14, 23).toString('latin1')]), [[null, 'answer-20']]);
  t.is(a10.frames.length, 0);
});

test('show ports lists a trunk connection once per VLAN; show listeners and the running-config show the trunk; no listen ... trunk removes it', async (t) => {
  t.timeout(30_000);
  const { sw, session, pt } = await trunkSwitch(t, 'trunk 10,20 native 30 max-connections 4');
  const ports = (await sw.showPorts()).filter((p) => p.name.startsWith(`qemu:127.0.0.1:${pt}#`));
  t.deepEqual(ports.map((p) => [p.vid, p.name.replace(/#\d+/, '#N')]).sort(), [
    [10, `qemu:127.0.0.1:${pt}#N.10`],
    [20, `qemu:127.0.0.1:${pt}#N.20`],
    [30, `qemu:127.0.0.1:${pt}#N.30`],
  ]);
  const shown = await session.execute('show listeners');
  t.true(shown.ok && shown.lines.some((line) => line.includes(`127.0.0.1:${pt}`) && line.includes('trunk 10,20 native 30')), JSON.stringify(shown));
  session.mode = { vid: 20 };
  const in20 = await session.execute('show listeners');
  t.true(in20.ok && in20.lines.some((line) => line.includes(`127.0.0.1:${pt}`)), 'a VLAN-mode show lists the trunks it is a member of');
  session.mode = null;
  const rc = await renderRunningConfig(sw, AREAS);
  t.true(rc.lines.includes(`listen 127.0.0.1 ${pt} trunk 10,20 native 30 max-connections 4`), rc.lines.join('\n'));
  const no = await session.execute(`no listen 127.0.0.1 ${pt} trunk`);
  t.true(no.ok, JSON.stringify(no));
  await within(async () => !(await sw.showPorts()).some((p) => p.name.startsWith(`qemu:127.0.0.1:${pt}#`)), 10_000);
  const left = (await sw.showPorts()).filter((p) => p.name.startsWith(`qemu:127.0.0.1:${pt}#`));
  t.deepEqual(left.map((p) => p.name), [], JSON.stringify({ listeners: sw.showListeners(), live: sw.qemu.livePorts() }));
  t.false((await renderRunningConfig(sw, AREAS)).lines.some((line) => line.includes('trunk 10,20')));
});
