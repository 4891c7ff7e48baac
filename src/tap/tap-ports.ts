// TapPorts: attaching and detaching TAP devices as switch ports. For each TAP
// it opens the device (src/tap/tap-device.ts), makes the port's ring pair with the
// VLAN's forwarding thread, and runs the port's I/O thread (src/tap/tap-io-loop.ts,
// both directions) as an IoThread (src/core/io-thread.ts). Runs on the main thread.

import { DivesError } from '../core/errors.js';
import { IoThread } from '../core/io-thread.js';
import { ioLoop } from '../core/io-loop.js';
import { ringPair } from '../core/io-messages.js';
import type { PortDrops } from '../core/port-kind.js';
import type { KindThread } from '../core/port-kind-provider.js';
import { GSO_MAX_FRAME, VNET_HDR_LEN, ringMeta } from '../core/ring-record.js';
import type { Ring } from '../core/ring.js';
import type { Doorbell } from '../core/doorbell.js';
import { TapDevice } from './tap-device.js';
import { TapWatch } from './tap-watch.js';
import type { TapIoStart, TapMirrorsMsg } from './tap-io-messages.js';
import type { PortKindParts } from '../forwarding/port-kind-parts.js';

const TAP_LOOP = ioLoop(new URL('./tap-io-loop.js', import.meta.url), 'TapIoLoop');

/**
 * Each direction of a TAP port queues this much. With offloads on, a frame is a TCP
 * segment of up to 64 KiB, so this holds about 64 of them (the kernel's txqueuelen is
 * 1000 frames); 1 MiB held 16, and one-host iperf3 TCP lost 12-21 k segments to
 * ring-full drops in 4 s (docs/performance.md, "Queue depth"). The pages are only
 * made resident as the ring fills.
 */
export const TAP_RING_BYTES = 4 << 20;

/** A TAP attached to a VLAN, as `show taps` prints it. */
export interface TapInfo {
  name: string;
  vid: number;
  portId: number;
  /** True when DiVES created the device (it disappears when detached). */
  created: boolean;
  /**
   * up: its I/O thread carries frames; down: it does not, for `reason`; gone: the device
   * went away, the port with it, and it is attached again when a TAP of that name exists
   * (portId -1 meanwhile).
   */
  state: 'up' | 'down' | 'gone';
  reason: string | null;
}

/** The refusal of `tap NAME` for a TAP attached to VLAN `heldVid` already. */
export function tapAttachedElsewhere(name: string, heldVid: number): DivesError {
  return new DivesError('EATTACHED', `tap ${name}: already attached to VLAN ${heldVid}; detach it there first with "no tap ${name}"`);
}

/** The refusal of `no tap NAME` in `vid` (or of a drill) for a TAP that is not attached, or attached to `heldVid`. */
export function tapNotAttached(name: string, vid: number | undefined, heldVid: number | undefined): DivesError {
  const where = heldVid === undefined ? 'is not attached' : `is attached to VLAN ${heldVid}, not ${vid}`;
  return new DivesError('ENOTATTACHED', `tap ${name}: ${where}; "show taps" lists the attached ones`);
}

/** What a TAP's I/O thread starts with, but what its IoThread adds. */
type TapStart = Omit<TapIoStart, 'name' | 'doorbellSab' | 'cpu'>;

interface TapPort {
  dev: TapDevice;
  vid: number;
  portId: number;
  rx: Ring;
  tx: Ring;
  rxRingId: number;
  txRingId: number;
  /** Kernel offloads are on for this TAP (see applyOffloads). */
  offload: boolean;
  io: IoThread<TapIoStart, TapMirrorsMsg, never, null>;
  /** What its I/O thread is started with (the mirror rings change; src/capture/mirrors.ts). */
  start: TapStart;
}

export class TapPorts {
  private readonly taps = new Map<string, TapPort>();
  /** TAPs whose device went away, waited for. */
  readonly watch: TapWatch;

  constructor(private readonly parts: PortKindParts) {
    this.watch = new TapWatch((g) => this.attach(g.vid, g.name, { create: false }).then(() => undefined), parts.log);
  }

  list(vid?: number): TapInfo[] {
    const attached = [...this.taps.values()].map((t): TapInfo => {
      const st = t.io.supervisor.status();
      const down = st.state !== 'up';
      return { name: t.dev.name, vid: t.vid, portId: t.portId, created: t.dev.created, state: down ? 'down' : 'up', reason: down ? st.reason : null };
    });
    const gone = this.watch.list().map((g): TapInfo => ({
      name: g.name,
      vid: g.vid,
      portId: -1,
      created: false,
      state: 'gone',
      reason: `the device went away at ${new Date(g.since).toISOString()} (${g.reason}); attached again when a TAP named ${g.name} exists`,
    }));
    return [...attached, ...gone].filter((t) => vid === undefined || t.vid === vid).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The TAP I/O threads, for `show threads`. */
  threads(): KindThread[] {
    return [...this.taps.values()].map((t) => ({ io: t.io.supervisor, cpu: t.io.cpu, wakeups: t.io.wakeups }));
  }

  /**
   * Turn kernel offloads on for the TAPs of VLANs where `wanted(vid)` (every port
   * there hands frames to a kernel: a TAP, or a peer that takes offloaded frames),
   * and off everywhere else: an offloaded frame (a 64 KiB TCP segment, a checksum
   * left to do) can only go to such a port.
   */
  applyOffloads(wanted: (vid: number) => boolean): void {
    for (const t of this.taps.values()) {
      const want = wanted(t.vid);
      if (t.offload === want) continue;
      if (t.dev.setOffload(want)) t.offload = want;
      else this.parts.log.warn(`tap ${t.dev.name}: the kernel refused to turn offloads ${want ? 'on' : 'off'}`);
    }
  }

  /** Ring-level drops for `show ports`, by port: frames the TAP delivered that the rx ring had no room for, and writes the TAP refused. */
  ioDrops(): Map<number, PortDrops> {
    return new Map([...this.taps.values()].map((t) => [t.portId, { 'rx-ring-full': t.rx.drops, 'tap-write': t.tx.consumerDrops }]));
  }

  /** Attach `name` to `vid`, creating the device unless `create` is false (a gone TAP that came back). */
  async attach(vid: number, name: string, opts: { create?: boolean } = {}): Promise<TapInfo> {
    const held = this.taps.get(name);
    if (held !== undefined) {
      throw tapAttachedElsewhere(name, held.vid);
    }
    const waited = this.watch.get(name);
    if (waited !== undefined && waited.vid !== vid && opts.create !== false) throw tapAttachedElsewhere(name, waited.vid);
    const { pool, ports, rings, log } = this.parts;
    rings.ensureRoom(2 * TAP_RING_BYTES, `tap ${name}`);
    const dev = TapDevice.open(name, { vnetHdr: true, create: opts.create });
    this.watch.forget(name);
    const port = ports.add('tap', vid, `tap:${name}`);
    const fw = pool.place(vid);
    // The I/O thread sleeps in poll() on the TAP and on its doorbell's eventfd, which the
    // forwarding thread's rings toward it bump (src/core/doorbell.ts).
    const io = this.ioThread(name, fw.cpu, () => t.start);
    const rx = rings.create(TAP_RING_BYTES, fw.bell, { name: `tap:${name} rx`, producer: io.name, consumer: fw.name });
    const tx = rings.create(TAP_RING_BYTES, io.bell, { name: `tap:${name} tx`, producer: fw.name, consumer: io.name });
    const t: TapPort = {
      dev, vid, portId: port.id, rx: rx.ring, tx: tx.ring, rxRingId: rx.id, txRingId: tx.id, offload: false, io,
      // Records from this TAP carry its virtio_net_hdr, and with offloads on a
      // frame can be a whole 64 KiB TCP segment.
      start: {
        fd: dev.fd,
        maxFrame: VNET_HDR_LEN + Math.max(this.parts.maxFrame, GSO_MAX_FRAME),
        meta: ringMeta(vid, port.id, true),
        pair: ringPair(rx.ring, fw.bell, tx.ring),
        traceSab: pool.trace.sab,
        mirrorSabs: [],
      },
    };
    this.taps.set(name, t);
    fw.configure(`ring:${t.rxRingId}`, { type: 'add-input', ringId: t.rxRingId, sab: t.rx.sab });
    fw.configure(`ring:${t.txRingId}`, { type: 'add-output', ringId: t.txRingId, sab: t.tx.sab, doorbellSab: t.io.bell.sab });
    fw.configure(`port:${port.id}`, { type: 'add-port', vid, portId: port.id, isPeer: false, txRingId: t.txRingId, vnet: true });
    // The thread starts after the forwarding thread was told about its rings and port.
    try {
      t.io.start();
    } catch (err) {
      await this.teardown(t);
      throw err;
    }
    await fw.request({ type: 'sync' });
    log.info(`tap ${name}: attached to VLAN ${vid} as port ${port.id}${dev.created ? ' (created)' : ''}`);
    return this.list(vid).find((i) => i.name === name) as TapInfo;
  }

  /**
   * The TAP's I/O thread. One that dies without being asked to (an uncaught error: a
   * bug, never bad input) is started again on the same TAP and rings, which it picks
   * up where the shared ring positions say; a TAP that failed (its own read error) is
   * not restarted. Either way a port whose thread is down says so in `show taps`.
   */
  private ioThread(name: string, cpu: number, start: () => TapStart): IoThread<TapIoStart, TapMirrorsMsg, never, null> {
    return new IoThread<TapIoStart, TapMirrorsMsg, never, null>({
      name: `tap-io:${name}`,
      kind: 'tap-io',
      log: this.parts.log,
      loop: TAP_LOOP,
      cpu,
      start,
      // A TAP that failed (its device deleted underneath, most often) is detached and waited for.
      onDown: (reason, failure) => {
        if (failure !== null) void this.vanished(name, reason);
      },
      // A crash (not a failed device) leaves the port attached and down: say how to clear it.
      downNote: (failure) => `; the port stops carrying frames${failure === null ? `, detach it with "no tap ${name}"` : ''}`,
    });
  }

  /** The TAP's device failed: detach its port and wait for a device of that name (TapWatch). */
  private async vanished(name: string, reason: string): Promise<void> {
    const t = this.taps.get(name);
    if (t === undefined) return;
    await this.teardown(t);
    this.watch.add({ name, vid: t.vid, since: Date.now(), reason });
    this.parts.log.warn(`tap ${name}: detached from VLAN ${t.vid}, its port and MACs with it; it is attached again when a TAP named ${name} exists ("no tap ${name}" stops waiting)`);
  }

  /** The name of the TAP whose port is `portId`, or undefined (no TAP's, or a TAP that is down). */
  accessTapOf(portId: number): string | undefined {
    for (const t of this.taps.values()) if (t.portId === portId && t.io.supervisor.state === 'up') return t.dev.name;
    return undefined;
  }

  /** The doorbell a TAP's I/O thread sleeps on, for rings toward it. */
  bellOf(name: string): Doorbell {
    const t = this.taps.get(name);
    if (t === undefined) throw tapNotAttached(name, undefined, undefined);
    return t.io.bell;
  }

  /**
   * Give a TAP's I/O thread the rings of the mirrors it is the monitoring port of
   * (src/capture/mirrors.ts); resolves once it writes their frames too (and a thread
   * started later is started with them).
   */
  async setMirrorRings(name: string, sabs: SharedArrayBuffer[]): Promise<void> {
    const t = this.taps.get(name);
    if (t === undefined) return;
    t.start = { ...t.start, mirrorSabs: sabs };
    await t.io.request({ type: 'mirrors', sabs });
  }

  /** Stop a TAP's I/O thread as a crash would (the `debug crash-tap` command, for drills and tests). */
  async crashIo(name: string): Promise<void> {
    const t = this.taps.get(name);
    if (t === undefined) throw tapNotAttached(name, undefined, undefined);
    await t.io.crash();
  }

  async detach(vid: number, name: string): Promise<void> {
    const waited = this.watch.get(name);
    if (waited !== undefined && waited.vid === vid) {
      this.watch.forget(name);
      this.parts.log.info(`tap ${name}: no longer waited for in VLAN ${vid}`);
      return;
    }
    const t = this.taps.get(name);
    if (t === undefined || t.vid !== vid) throw tapNotAttached(name, vid, t?.vid);
    await this.teardown(t);
    this.parts.log.info(`tap ${name}: detached from VLAN ${vid}`);
  }

  private async teardown(t: TapPort): Promise<void> {
    const { pool, ports, rings, left } = this.parts;
    this.taps.delete(t.dev.name);
    const fw = pool.threadOf(t.vid);
    if (fw !== undefined) {
      // The rx ring first: the forwarding thread forwards what is left in it while the port exists.
      fw.unconfigure([`ring:${t.rxRingId}`], { type: 'remove-ring', ringId: t.rxRingId });
      fw.unconfigure([`port:${t.portId}`], { type: 'remove-port', vid: t.vid, portId: t.portId });
      fw.unconfigure([`ring:${t.txRingId}`], { type: 'remove-ring', ringId: t.txRingId });
      await fw.request({ type: 'sync' }).catch(() => undefined);
    }
    // Stop the I/O thread before closing the fd it uses. The forwarding thread
    // dropped the tx ring above, so nothing rings the eventfd any more.
    await t.io.close();
    left.ioThread(t.vid, `tap ${t.dev.name}`, { 'rx-ring-full': t.rx.drops, 'tap-write': t.tx.consumerDrops });
    rings.remove(t.rxRingId);
    rings.remove(t.txRingId);
    t.dev.close();
    ports.remove(t.portId);
  }

  /** Detach every TAP of one VLAN (or all), and stop waiting for gone ones there. */
  async detachAll(vid?: number): Promise<void> {
    for (const g of this.watch.list()) if (vid === undefined || g.vid === vid) this.watch.forget(g.name);
    await Promise.all([...this.taps.values()].filter((t) => vid === undefined || t.vid === vid).map((t) => this.teardown(t)));
  }
}
