// A real QEMU guest (TCG) on a QEMU trunk listener (`listen HOST PORT trunk 10,20`, issue 16
// item 1): its kernel tags frames itself, on VLAN subinterfaces eth0.10 and eth0.20 (8021q),
// and reaches access TAPs of VLANs 10 and 20 in two namespaces, each only through its own
// VLAN. Runs a real switch (threads, rings, sockets) in the test process; needs root.

import test, { type ImplementationFn } from 'ava';
import { Switch } from '../../src/switch/switch.js';
import { createLogger } from '../../src/core/log.js';
import { ConsoleSession } from '../../src/control/console-session.js';
import { createCommandRegistry } from '../../src/control/commands/create-command-registry.js';
import { freeTcpPort, Guest, guestUnavailableReason } from '../helpers/guest.js';
import { NetnsFixture, ip, sweepStale } from '../helpers/netns.js';
import { privileged, privTest } from '../helpers/privileged.js';
import { sleep, within } from '../helpers/until.js';
import { tapHost } from '../helpers/tap-host.js';

const unavailable = privileged.ok ? await guestUnavailableReason() : undefined;
const underCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
if (unavailable !== undefined && !underCi) console.warn(`qemu-trunk-guest skipped: ${unavailable}`);
const guestTest: (title: string, fn: ImplementationFn<[]>) => void = unavailable !== undefined && !underCi ? test.skip : privTest;

test.before(async () => {
  if (privileged.ok) await sweepStale();
});

const GUEST_MAC = '52:54:00:d1:7e:16';
const V10 = { vid: 10, guest: '10.0.10.1', host: '10.0.10.2' };
const V20 = { vid: 20, guest: '10.0.20.1', host: '10.0.20.2' };

async function macOf(ns: string, dev: string): Promise<string> {
  const [link] = JSON.parse(await ip('-n', ns, '-j', 'link', 'show', 'dev', dev)) as { address: string }[];
  return link.address;
}

guestTest('a guest with VLAN subinterfaces on a trunk listener reaches VLAN 10 and VLAN 20, and neither VLAN reaches the other', async (t) => {
  t.timeout(240_000);
  if (unavailable !== undefined) throw new Error(`the QEMU guest cannot run here: ${unavailable}`);
  const fx = new NetnsFixture();
  t.teardown(() => fx.cleanup());
  const sw = new Switch({ log: createLogger('error'), forwardingThreads: 1 });
  t.teardown(() => sw.close());

  const a = await tapHost(sw, fx, 'a', 10, `${V10.host}/24`);
  const b = await tapHost(sw, fx, 'b', 20, `${V20.host}/24`);
  // The trunk listener is typed as an operator would, through the command registry.
  const port = await freeTcpPort();
  const reply = await new ConsoleSession(createCommandRegistry(), sw, {}).execute(`listen 127.0.0.1 ${port} trunk 10,20`);
  t.true(reply.ok, JSON.stringify(reply));

  const guest = Guest.start({
    name: 'trunk',
    // eth0 itself carries untagged frames, which a trunk without a native VLAN drops.
    ip: '10.0.99.1/24',
    peer: `${V10.host},${V20.host}`,
    vlans: [{ vid: 10, ip: `${V10.guest}/24` }, { vid: 20, ip: `${V20.guest}/24` }],
    mac: GUEST_MAC,
    staySeconds: 60,
    netdev: ['-netdev', `socket,id=n0,connect=127.0.0.1:${port}`],
  });
  t.teardown(() => guest.kill());

  // The guest pings VLAN 10's namespace over eth0.10, then VLAN 20's over eth0.20.
  t.is(await guest.waitFor(/^DIVES-PING-(OK|FAIL) 10\.0\.10\.2$/, 200_000), `DIVES-PING-OK ${V10.host}`, guest.console);
  t.is(await guest.waitFor(/^DIVES-PING-(OK|FAIL) 10\.0\.20\.2$/, 90_000), `DIVES-PING-OK ${V20.host}`, guest.console);
  // And each namespace reaches the guest's address on its VLAN.
  t.true(await fx.ping(a.ns, V10.guest), 'VLAN 10 reaches eth0.10');
  t.true(await fx.ping(b.ns, V20.guest), 'VLAN 20 reaches eth0.20');

  // Isolation: VLAN 20's namespace is told VLAN 10's subnet is on its own link, so it asks
  // for 10.0.10.1 and 10.0.10.2 by ARP on VLAN 20. The guest answers only on eth0.10
  // (arp_ignore=1) and the VLAN 10 namespace is not on VLAN 20: neither answers unless a
  // VLAN 20 frame crossed into VLAN 10, and then VLAN 10's namespace would see it too.
  await ip('-n', b.ns, 'route', 'add', '10.0.10.0/24', 'dev', b.tap);
  const dump = fx.spawnIn(a.ns, ['tcpdump', '-i', a.tap, '-nn', '-l', 'host', V20.host], { stdio: ['ignore', 'pipe', 'pipe'] });
  let seen = '';
  let err = '';
  dump.stdout?.on('data', (d: Buffer) => (seen += d.toString()));
  dump.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  await within(() => /listening on/.test(err), 5000, { everyMs: 50 });
  t.regex(err, /listening on/, 'tcpdump started in the VLAN 10 namespace');
  t.false(await fx.ping(b.ns, V10.guest, { count: 2 }), 'the guest\'s VLAN 10 address does not answer through VLAN 20');
  t.false(await fx.ping(b.ns, V10.host, { count: 2 }), 'the VLAN 10 namespace does not answer through VLAN 20');
  await sleep(300);
  t.is(seen, '', 'nothing from VLAN 20\'s namespace reached VLAN 10');

  // The guest's one connection is a port in each VLAN, with frames both ways on each; the
  // switch learned the guest's MAC there, and each namespace's MAC only in its own VLAN.
  const trunkPorts = (await sw.showPorts()).filter((p) => p.name.startsWith(`qemu:127.0.0.1:${port}#`));
  t.deepEqual(trunkPorts.map((p) => [p.vid, p.name.replace(/#\d+/, '#N')]).sort(), [
    [10, `qemu:127.0.0.1:${port}#N.10`],
    [20, `qemu:127.0.0.1:${port}#N.20`],
  ]);
  t.true(trunkPorts.every((p) => p.rxFrames > 0 && p.txFrames > 0), JSON.stringify(trunkPorts));
  const [macA, macB] = [await macOf(a.ns, a.tap), await macOf(b.ns, b.tap)];
  const macs10 = (await sw.showMacs(10)).map((m) => [m.mac, m.port.replace(/#\d+/, '#N')]);
  const macs20 = (await sw.showMacs(20)).map((m) => [m.mac, m.port.replace(/#\d+/, '#N')]);
  t.deepEqual(macs10.sort(), [[macA, `tap:${a.tap}`], [GUEST_MAC, `qemu:127.0.0.1:${port}#N.10`]].sort());
  t.deepEqual(macs20.sort(), [[macB, `tap:${b.tap}`], [GUEST_MAC, `qemu:127.0.0.1:${port}#N.20`]].sort());
});
