// A legacy peer (the original DiVES) against a real switch over loopback: a UDP socket in
// this process announces itself in the original's sockaddr format on the switch's group and
// records every datagram the switch sends it. What a legacy peer is sent (plain frames,
// none over 16 KiB, no keepalives or advertisements, even as a static peer), that its frames
// reach the VLAN, and how a peer heard in both formats is judged. No privileges needed; the
// real original is played in namespaces by test/peer/legacy-dives.test.ts.

import test, { type ExecutionContext } from 'ava';
import dgram from 'node:dgram';
import { discoverySwitch, type DiscoverySwitch } from '../helpers/announcer.js';
import { vm } from '../helpers/peer-switches.js';
import { BCAST, markerFrame, mac, withMarker } from '../helpers/frames.js';
import { sleep, until } from '../helpers/until.js';
import { encodeSockaddrAnnouncement } from '../../src/peer/wire/sockaddr-announcement.js';
import { KEEPALIVE } from '../../src/peer/wire/keepalive.js';
import type { PeerInfo } from '../../src/peer/peer-info.js';

/** A peer socket on 127.0.0.1 that keeps every datagram it is sent, and announces itself on the switch's group. */
class LoopbackPeer {
  readonly got: Buffer[] = [];
  private timer: NodeJS.Timeout | null = null;

  private constructor(
    readonly sock: dgram.Socket,
    readonly port: number,
    private readonly ds: DiscoverySwitch,
  ) {
    sock.on('message', (m) => this.got.push(m));
  }

  static async open(t: ExecutionContext, ds: DiscoverySwitch): Promise<LoopbackPeer> {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
    sock.setMulticastInterface('127.0.0.1');
    sock.setMulticastLoopback(true);
    const p = new LoopbackPeer(sock, sock.address().port, ds);
    t.teardown(() => {
      p.stopAnnouncing();
      sock.close();
    });
    return p;
  }

  get key(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Announce every 100 ms in these formats, from the peer socket as the original does. */
  announce(formats: ('text' | 'sockaddr')[]): void {
    this.stopAnnouncing();
    const msgs = formats.map((f) => (f === 'text' ? Buffer.from(this.key) : encodeSockaddrAnnouncement('127.0.0.1', this.port)));
    const send = (): void => msgs.forEach((m) => this.sock.send(m, this.ds.discoveryPort, this.ds.group));
    send();
    this.timer = setInterval(send, 100);
  }

  stopAnnouncing(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  send(vid: number, f: Buffer): void {
    const hdr = Buffer.alloc(4);
    hdr.writeUInt32BE(vid);
    this.sock.send(Buffer.concat([hdr, f]), this.ds.port, '127.0.0.1');
  }

  /** Datagrams it got whose vid word is 0: keepalives and advertisements, which the original would read as frames. */
  control(): Buffer[] {
    return this.got.filter((m) => m.readUInt32BE(0) === 0);
  }
}

async function peerOf(ds: DiscoverySwitch, key: string): Promise<PeerInfo | undefined> {
  return (await ds.sw.showPeers()).peers.find((p) => p.address === key);
}

test('a peer heard only by sockaddr announcements is legacy: plain frames both ways, none over 16 KiB, and no keepalive or advertisement even as a static peer', async (t) => {
  t.timeout(30_000);
  const ds = await discoverySwitch(t, { expiry: 3 });
  const legacy = await LoopbackPeer.open(t, ds);
  legacy.announce(['sockaddr']);
  const c = await vm(t, ds.sw, 10);
  await until(async () => (await peerOf(ds, legacy.key))?.portId != null, 5000, 'the legacy peer up');
  t.like(await peerOf(ds, legacy.key), { learned: 'discovered', state: 'up', legacy: true });
  t.like((await ds.sw.showPeers()).discovery?.counters, { malformed: 0 });
  t.true(((await ds.sw.showPeers()).discovery?.counters.sockaddr ?? 0) > 0);

  // Its frames reach the VLAN, and ours reach it as `vid + frame`.
  legacy.send(10, markerFrame(BCAST, mac(0x44), 'from-legacy'));
  await until(() => withMarker(c, 'from-legacy').length === 1, 3000, 'the legacy frame at the VM');
  c.send(markerFrame(BCAST, mac(0x11), 'to-legacy'));
  // The largest frame it can read whole (16384 bytes with the vid), and one byte more.
  const fits = markerFrame(BCAST, mac(0x11), 'fits', 16380);
  const over = markerFrame(BCAST, mac(0x11), 'over', 16381);
  c.send(fits);
  c.send(over);
  await until(() => legacy.got.some((m) => m.length === 16384), 3000, 'the 16380-byte frame at the legacy peer');
  await until(async () => (await peerOf(ds, legacy.key))?.drops['legacy-too-big'] === 1, 3000, 'the oversized frame counted');
  t.true(legacy.got.some((m) => m.readUInt32BE(0) === 10 && m.subarray(4 + 14, 4 + 14 + 9).toString('latin1') === 'to-legacy'));
  t.false(legacy.got.some((m) => m.length > 16384), 'nothing over 16 KiB was sent');

  // Made a static peer too: still no keepalives.
  await ds.sw.addStaticPeer('127.0.0.1', legacy.port);
  await sleep(1000);
  t.deepEqual(legacy.control(), [], 'no keepalive, no advertisement: five intervals went by');
  t.like(await peerOf(ds, legacy.key), { learned: 'static', legacy: true, keepalivesOut: 0, offloadedOut: 0 });
  t.regex(ds.lines.join('\n'), /peer 127\.0\.0\.1:\d+ up \(discovered, legacy, heard by sockaddr announcement\)/);
});

test('a peer heard in both formats is a DiVES peer while its text announcements come, legacy once only sockaddrs came for the expiry time, and a DiVES peer again at its keepalive', async (t) => {
  t.timeout(30_000);
  const ds = await discoverySwitch(t, { expiry: 3 });
  const peer = await LoopbackPeer.open(t, ds);
  peer.announce(['text', 'sockaddr']);
  await vm(t, ds.sw, 10);
  await until(async () => (await peerOf(ds, peer.key))?.portId != null, 5000, 'the peer up');
  t.like(await peerOf(ds, peer.key), { legacy: false });
  await until(() => peer.control().some((m) => m.subarray(4, 11).toString('latin1') === 'offload'), 3000, 'an offload advertisement, as a DiVES peer gets');

  peer.announce(['sockaddr']);
  await until(async () => (await peerOf(ds, peer.key))?.legacy === true, 3000, 'the peer legacy');
  const seen = peer.control().length;
  await sleep(800);
  t.is(peer.control().length, seen, 'nothing more with vid 0 once it is legacy');
  t.like(await peerOf(ds, peer.key), { state: 'up' });

  peer.sock.send(KEEPALIVE, ds.port, '127.0.0.1');
  await until(async () => (await peerOf(ds, peer.key))?.legacy === false, 3000, 'the peer a DiVES peer again');
  await until(() => peer.control().some((m) => m.length === KEEPALIVE.length), 3000, 'the keepalive answered');
  t.regex(ds.lines.join('\n'), /peer 127\.0\.0\.1:\d+ is a legacy peer/);
  t.regex(ds.lines.join('\n'), /peer 127\.0\.0\.1:\d+ is a DiVES peer/);
});
