// A real switch with a trunk TAP: tagged frames put on the trunk's device in a namespace
// (an AF_PACKET socket: this kernel may have no 8021q for `ip link ... type vlan`) reach
// access TAPs on VLANs 10 and 20 untagged, their kernels' answers come back tagged
// (tcpdump on the trunk's device says so), VLANs stay apart, frames the trunk does not
// carry are dropped and counted by reason, and `show ports` and the running-config list it.

import test from 'ava';
import { Switch } from '../../src/switch/switch.js';
import { createLogger } from '../../src/core/log.js';
import { renderRunningConfig } from '../../src/control/running-config.js';
import { AREAS } from '../../src/control/commands/areas.js';
import { NetnsFixture, ip, sweepStale } from '../helpers/netns.js';
import { privileged, privTest } from '../helpers/privileged.js';
import { sleep, until, within } from '../helpers/until.js';
import { icmpEcho, tagged } from '../helpers/frames.js';
import { sendRawFrames } from '../helpers/raw-frames.js';
import { tapHost } from '../helpers/tap-host.js';

test.before(async () => {
  if (privileged.ok) await sweepStale();
});

type Ctx = import('ava').ExecutionContext;

async function setup(t: Ctx): Promise<{ sw: Switch; fx: NetnsFixture }> {
  const fx = new NetnsFixture();
  const sw = new Switch({ log: createLogger('warn'), forwardingThreads: 2 });
  t.teardown(() => fx.cleanup());
  t.teardown(() => sw.close());
  return { sw, fx };
}

async function macOf(ns: string, dev: string): Promise<Buffer> {
  const [link] = JSON.parse(await ip('-n', ns, '-j', 'link', 'show', 'dev', dev)) as { address: string }[];
  return Buffer.from(link.address.split(':').map((h) => parseInt(h, 16)));
}

/** tcpdump on `dev` in `ns`, one line per frame with its Ethernet header (-e); `lines()` is what it printed so far. */
async function listen(fx: NetnsFixture, ns: string, dev: string, filter: string): Promise<{ lines: () => string }> {
  const p = fx.spawnIn(ns, ['tcpdump', '-i', dev, '-nn', '-e', '-l', filter], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  await until(() => /listening on/.test(err), 5000, `tcpdump on ${dev} to start`, { everyMs: 50, detail: () => err });
  return { lines: () => out };
}

const M10 = Buffer.from([0x02, 0x7c, 0, 0, 0x0a, 0x01]);
const M20 = Buffer.from([0x02, 0x7c, 0, 0, 0x14, 0x01]);
const PAYLOAD = Buffer.from('dives trunk test, 32 bytes long!');

privTest('a trunk TAP carries VLAN 10 and VLAN 20 tagged to access TAPs untagged, and their answers back tagged, each only in its VLAN', async (t) => {
  t.timeout(60_000);
  const { sw, fx } = await setup(t);
  const trunk = fx.ifname('k');
  await fx.createTap(trunk);
  const info = await sw.attachTrunk(trunk, [10, 20], null);
  t.is(info.vlans, '10,20');
  const k = await fx.addNs('k');
  await fx.moveToNs(trunk, k);
  const a = (await tapHost(sw, fx, 'a', 10, '10.78.10.2/24')).ns;
  const b = (await tapHost(sw, fx, 'b', 20, '10.78.20.2/24')).ns;
  // An address of VLAN 10's subnet on VLAN 20: it answers only if VLANs leaked.
  const c = (await tapHost(sw, fx, 'c', 20, '10.78.10.3/24')).ns;
  // The trunk's far end is this test, not a kernel: the access hosts know its MACs.
  await ip('-n', a, 'neigh', 'add', '10.78.10.1', 'lladdr', '02:7c:00:00:0a:01', 'dev', fx.ifname('a'));
  await ip('-n', b, 'neigh', 'add', '10.78.20.1', 'lladdr', '02:7c:00:00:14:01', 'dev', fx.ifname('b'));
  await ip('-n', c, 'neigh', 'add', '10.78.10.1', 'lladdr', '02:7c:00:00:0a:01', 'dev', fx.ifname('c'));
  const dump = await listen(fx, k, trunk, 'vlan and icmp');
  await sendRawFrames(fx, k, trunk, [
    tagged(icmpEcho(8, await macOf(a, fx.ifname('a')), '10.78.10.1', '10.78.10.2', 7, 1, PAYLOAD, M10), 10),
    tagged(icmpEcho(8, await macOf(b, fx.ifname('b')), '10.78.20.1', '10.78.20.2', 8, 1, PAYLOAD, M20), 20),
    tagged(icmpEcho(8, await macOf(c, fx.ifname('c')), '10.78.10.1', '10.78.10.3', 9, 1, PAYLOAD, M10), 10),
  ]);
  const replies = (): string[] => dump.lines().split('\n').filter((l) => /ICMP echo reply/.test(l));
  t.true(await within(() => replies().length >= 2, 5000, { everyMs: 50 }), dump.lines());
  await sleep(300);
  t.true(replies().some((l) => /vlan 10,.*10\.78\.10\.2 > 10\.78\.10\.1: ICMP echo reply, id 7/.test(l)), 'VLAN 10 answered, tagged 10');
  t.true(replies().some((l) => /vlan 20,.*10\.78\.20\.2 > 10\.78\.20\.1: ICMP echo reply, id 8/.test(l)), 'VLAN 20 answered, tagged 20');
  t.false(replies().some((l) => /10\.78\.10\.3 >/.test(l)), 'VLAN 10 of the trunk does not reach VLAN 20');

  const ports = await sw.showPorts();
  const trunkPorts = ports.filter((p) => p.name.startsWith(`tap:${trunk}.`));
  t.deepEqual(trunkPorts.map((p) => [p.name, p.vid]), [[`tap:${trunk}.10`, 10], [`tap:${trunk}.20`, 20]]);
  t.true(trunkPorts.every((p) => p.rxFrames > 0 && p.txFrames > 0), 'frames both ways on both VLANs');
  t.true((await sw.showMacs(10)).some((m) => m.port === `tap:${trunk}.10` && m.mac === '02:7c:00:00:0a:01'));
  const config = await renderRunningConfig(sw, AREAS);
  t.true(config.lines.includes(`tap ${trunk} trunk 10,20`), config.lines.join('\n'));
  t.false(config.vlans.flatMap((v) => v.taps).includes(trunk), 'a trunk is not written as an access TAP');
});

privTest('a trunk drops and counts frames of an unlisted vid, double tags, service tags, vid 4095 and untagged frames without a native VLAN', async (t) => {
  t.timeout(60_000);
  const { sw, fx } = await setup(t);
  const trunk = fx.ifname('u');
  await fx.createTap(trunk);
  await sw.attachTrunk(trunk, [10], null);
  const k = await fx.addNs('u');
  await fx.moveToNs(trunk, k);
  const f = icmpEcho(8, Buffer.alloc(6, 0xff), '10.79.0.1', '10.79.0.2', 1, 1, PAYLOAD, M10);
  await sendRawFrames(fx, k, trunk, [tagged(f, 30), tagged(tagged(f, 5), 10), tagged(f, 10, 0x88a8), tagged(f, 4095), f, tagged(f, 10)]);
  // The namespace's kernel sends untagged frames of its own too (IPv6 solicitations): at least ours.
  const drops = (): string => JSON.stringify(sw.showTrunks()[0].drops);
  t.true(await within(() => /^\{"untagged":[1-9][0-9]*,"unlisted-vid":1,"double-tag":1,"bad-tag":2\}$/.test(drops()), 5000, { everyMs: 50 }), drops());
  const [port] = (await sw.showPorts(10)).filter((p) => p.name === `tap:${trunk}.10`);
  t.is(port.rxFrames, 1, 'only the good frame reached VLAN 10');
  await sw.detachTrunk(trunk);
  t.deepEqual(sw.showTrunks(), []);
  t.false((await sw.showPorts()).some((p) => p.name.startsWith(`tap:${trunk}`)));
});

privTest('a trunk with a native VLAN carries untagged and priority-tagged frames in it, and answers go out untagged', async (t) => {
  t.timeout(60_000);
  const { sw, fx } = await setup(t);
  const trunk = fx.ifname('n');
  await fx.createTap(trunk);
  await sw.attachTrunk(trunk, [10], 30);
  const k = await fx.addNs('n');
  await fx.moveToNs(trunk, k);
  const x = (await tapHost(sw, fx, 'x', 30, '10.80.30.2/24')).ns;
  await ip('-n', x, 'neigh', 'add', '10.80.30.1', 'lladdr', '02:7c:00:00:0a:01', 'dev', fx.ifname('x'));
  const dump = await listen(fx, k, trunk, 'icmp');
  const mac = await macOf(x, fx.ifname('x'));
  await sendRawFrames(fx, k, trunk, [icmpEcho(8, mac, '10.80.30.1', '10.80.30.2', 11, 1, PAYLOAD, M10), tagged(icmpEcho(8, mac, '10.80.30.1', '10.80.30.2', 12, 1, PAYLOAD, M10), 0)]);
  const replies = (): string[] => dump.lines().split('\n').filter((l) => /ICMP echo reply/.test(l));
  t.true(await within(() => replies().length >= 2, 5000, { everyMs: 50 }), dump.lines());
  t.true(replies().every((l) => /ethertype IPv4/.test(l) && !/802\.1Q/.test(l)), 'untagged in the native VLAN');
  const config = await renderRunningConfig(sw, AREAS);
  t.true(config.lines.includes(`tap ${trunk} trunk 10 native 30`), config.lines.join('\n'));
});
