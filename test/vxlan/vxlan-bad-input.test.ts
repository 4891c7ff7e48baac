// What DiVES does with VXLAN datagrams it must not take, sent for real with a UDP socket
// from another host: shorter than the header, flags without the I bit, a VNI no VLAN
// carries, an inner frame shorter than an Ethernet header, a sender that is no VTEP of a
// VLAN without a group. Each is dropped and counted in `show vxlan`, and none reaches
// the VM, while a good one does. Needs root (privTest).

import test from 'ava';
import { NetnsFixture, ip, sweepStale } from '../helpers/netns.js';
import { privileged, privTest } from '../helpers/privileged.js';
import { sleep } from '../helpers/until.js';
import { HostsTopology, capture, sendUdp } from '../helpers/two-hosts.js';
import { waitVxlan } from '../helpers/kernel-vtep.js';
import { BCAST, frame, mac } from '../helpers/frames.js';

test.before(async () => {
  if (privileged.ok) await sweepStale();
});

/** A broadcast frame of a local experimental ethertype (0x88b5), 60 bytes, as hex. */
const FRAME = frame({ dst: BCAST, src: mac(0xee), fill: 0x5a }).toString('hex');
const hdr = (vni: number, flags = '08'): string => `${flags}000000${vni.toString(16).padStart(6, '0')}00`;

privTest('bad VXLAN input (a short header, no I flag, an unknown VNI, a runt inner frame, a stranger) is dropped and counted, and only a good frame reaches the VM', async (t) => {
  t.timeout(30_000);
  const fx = new NetnsFixture();
  t.teardown(() => fx.cleanup());
  const [h1, h2] = (await HostsTopology.create(t, fx, 2)).hosts;
  await h1.start([{ name: 'a', vid: 10, cidr: '10.97.30.1/24', mtu: 1450 }], { args: ['--no-discovery'], rc: [`vlan 10 vxlan remote ${h2.addr}`] });
  await ip('-n', h2.ns, 'addr', 'add', '10.99.0.9/24', 'dev', h2.dev);
  const a = h1.vm('a');
  const cap = await capture(fx, a.ns, a.tap, 'ether proto 0x88b5');
  const to = { to: h1.addr, port: 4789 };
  await sendUdp(fx, h2.ns, { ...to, payloadHex: '08000000' });
  await sendUdp(fx, h2.ns, { ...to, payloadHex: hdr(10, '00') + FRAME });
  await sendUdp(fx, h2.ns, { ...to, payloadHex: hdr(10, '0c') + FRAME });
  await sendUdp(fx, h2.ns, { ...to, payloadHex: hdr(42) + FRAME });
  await sendUdp(fx, h2.ns, { ...to, payloadHex: hdr(10) + FRAME.slice(0, 20) });
  await sendUdp(fx, h2.ns, { ...to, payloadHex: hdr(10) });
  // From an address that is no VTEP of VLAN 10, which has no group to learn VTEPs on.
  await sendUdp(fx, h2.ns, { ...to, payloadHex: hdr(10) + FRAME, bind: { address: '10.99.0.9', port: 40009 } });
  // And one good one from the remote, from whatever port: it reaches the VM.
  await sendUdp(fx, h2.ns, { ...to, payloadHex: hdr(10) + FRAME });
  const x = await waitVxlan(h1, (v) => v.counters['datagrams-in'] >= 1 && v.counters.strangers >= 1, 3000, 'the datagrams counted');
  t.like(x.counters, { short: 1, 'bad-header': 2, 'unknown-vni': 1, runt: 2, strangers: 1, 'datagrams-in': 1, giant: 0 });
  t.is(x.lastStranger, '10.99.0.9:40009');
  t.is(x.vlans[0].vteps[0].framesIn, 1);
  const text = await h1.dives?.command('show vxlan', /VTEP drops/);
  // (A datagram that races the VTEP's port into the VXLAN thread at start-up may add no-port=1.)
  t.regex(text ?? '', /dropped: short=1 bad-header=2 unknown-vni=1 runt=2 strangers=1 (no-port=1 )?\(last stranger 10\.99\.0\.9:40009\)/);
  await sleep(200);
  // tcpdump prints a frame of an unknown ethertype as one line, then its bytes in hex.
  const frames = cap.lines().filter((l) => /^\d/.test(l));
  t.is(frames.length, 1, `only the good frame reached the VM: ${cap.lines().join('\n')}`);
});
