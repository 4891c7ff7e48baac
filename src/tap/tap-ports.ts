// TapPorts: attaching and detaching TAP devices as switch ports. For each TAP
// it opens the device (src/tap/tap-device.ts), makes the port's ring pair with the
// VLAN's forwarding worker, and starts the port's two I/O threads (rx, tx).
// Runs on the main thread.

import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { Doorbell } from '../core/doorbell.js';
import { eventfdClose, eventfdOpen } from '../linux/eventfd.js';
import { DivesError } from '../core/errors.js';
import { VNET_HDR_LEN, ringMeta } from '../forwarding/vlan-engine.js';
import { Ring } from '../core/ring.js';
import { RestartBudget } from '../core/restart-budget.js';
import { TapDevice } from './tap-device.js';
import type { TapIoExit, TapIoStart } from './tap-io-messages.js';
import type { TapInfo } from '../control/switch-api.js';
import type { Logger } from '../core/log.js';
import type { ForwardingPool } from '../forwarding/forwarding-pool.js';
import type { PortTable } from '../forwarding/port-table.js';

/**
 * Each direction of a TAP port queues this much. With offloads on, a frame is a TCP
 * segment of up to 64 KiB, so this holds about 64 of them (the kernel's txqueuelen is
 * 1000 frames); 1 MiB held 16, and one-host iperf3 TCP lost 12-21 k segments to
 * ring-full drops in 4 s (docs/performance.md, "Queue depth"). The pages are only
 * made resident as the ring fills.
 */
export const TAP_RING_BYTES = 4 << 20;
/** The longest frame an offloading TAP hands over: a 64 KiB IP datagram plus Ethernet and 802.1Q headers. */
const TAP_GSO_MAX_FRAME = 65535 + 18;

interface TapPort {
  dev: TapDevice;
  vid: number;
  portId: number;
  rx: Ring;
  tx: Ring;
  rxRingId: number;
  txRingId: number;
  /** The I/O thread's doorbell, with an eventfd attached (closed once the thread exited). */
  bell: Doorbell;
  /** Kernel offloads are on for this TAP (see applyOffloads). */
  offload: boolean;
  /** The running I/O thread, and a promise that settles once no I/O thread runs any more (restarts included). */
  worker: Worker | null;
  exited: Promise<unknown>;
  /** How often its I/O thread may still be restarted. */
  restarts: RestartBudget;
}

export class TapPorts {
  private readonly taps = new Map<string, TapPort>();

  constructor(
    private readonly pool: ForwardingPool,
    private readonly ports: PortTable,
    private readonly nextRingId: () => number,
    private readonly maxFrame: number,
    private readonly log: Logger,
  ) {}

  list(vid?: number): TapInfo[] {
    return [...this.taps.values()]
      .filter((t) => vid === undefined || t.vid === vid)
      .map((t) => ({ name: t.dev.name, vid: t.vid, portId: t.portId, created: t.dev.created }))
      .sort((a, b) => a.name.localeCompare(b.name));
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
      else this.log.warn(`tap ${t.dev.name}: the kernel refused to turn offloads ${want ? 'on' : 'off'}`);
    }
  }

  /** Ring-level drops for `show ports`: frames the TAP delivered that the rx ring had no room for, and writes the TAP refused. */
  ioDrops(portId: number): { 'rx-ring-full': number; 'tap-write': number } | undefined {
    for (const t of this.taps.values()) {
      if (t.portId === portId) return { 'rx-ring-full': t.rx.drops, 'tap-write': t.tx.consumerDrops };
    }
    return undefined;
  }

  async attach(vid: number, name: string): Promise<TapInfo> {
    const held = this.taps.get(name);
    if (held !== undefined) {
      throw new DivesError('EATTACHED', `tap ${name}: already attached to VLAN ${held.vid}; detach it there first with "no tap ${name}"`);
    }
    const dev = TapDevice.open(name, { vnetHdr: true });
    const port = this.ports.add('tap', vid, `tap:${name}`);
    const fw = this.pool.place(vid);
    const rx = Ring.create(TAP_RING_BYTES, fw.bell);
    // The I/O thread sleeps in poll() on the TAP and on this eventfd, which the
    // forwarding worker's doorbell rings bump (src/core/doorbell.ts).
    const bell = new Doorbell();
    try {
      bell.attachEventfd(eventfdOpen());
    } catch (err) {
      this.ports.remove(port.id);
      dev.close();
      throw err;
    }
    const tx = Ring.create(TAP_RING_BYTES, bell);
    // Records from this TAP carry its virtio_net_hdr, and with offloads on a
    // frame can be a whole 64 KiB TCP segment.
    const start: TapIoStart = {
      fd: dev.fd,
      name,
      maxFrame: VNET_HDR_LEN + Math.max(this.maxFrame, TAP_GSO_MAX_FRAME),
      meta: ringMeta(vid, port.id, true),
      rxSab: rx.sab,
      fwDoorbellSab: fw.bell.sab,
      txSab: tx.sab,
      doorbellSab: bell.sab,
      cpu: fw.cpu,
    };
    const t: TapPort = {
      dev, vid, portId: port.id, rx, tx, rxRingId: this.nextRingId(), txRingId: this.nextRingId(), bell, offload: false,
      worker: null, exited: Promise.resolve(), restarts: new RestartBudget(),
    };
    this.taps.set(name, t);
    fw.configure(`ring:${t.rxRingId}`, { type: 'add-input', ringId: t.rxRingId, sab: rx.sab });
    fw.configure(`ring:${t.txRingId}`, { type: 'add-output', ringId: t.txRingId, sab: tx.sab, doorbellSab: bell.sab });
    fw.configure(`port:${port.id}`, { type: 'add-port', vid, portId: port.id, isPeer: false, txRingId: t.txRingId, vnet: true });
    // The thread starts after the worker was told about its rings and port.
    t.exited = this.runIo(t, start);
    await fw.request({ type: 'sync' });
    this.log.info(`tap ${name}: attached to VLAN ${vid} as port ${port.id}${dev.created ? ' (created)' : ''}`);
    return { name, vid, portId: port.id, created: dev.created };
  }

  /**
   * Run the TAP's I/O thread; the promise settles once it is gone for good. A thread
   * that dies without being asked to (an uncaught error: a bug, never bad input) is
   * started again on the same TAP and rings, which it picks up where the shared
   * ring positions say, as often as its RestartBudget allows; then the port
   * stays down, logged. A TAP that failed (its own read error) is not restarted.
   */
  private runIo(t: TapPort, start: TapIoStart): Promise<unknown> {
    const name = start.name;
    const w = new Worker(new URL('../../workers/tap-io.js', import.meta.url), { workerData: start, name: `tap-io:${name}` });
    t.worker = w;
    let tapFailed = false;
    w.on('message', (m: TapIoExit) => {
      tapFailed = true;
      this.log.error(`tap ${m.name}: ${m.message}; the port stops carrying frames, detach it with "no tap ${m.name}"`);
    });
    w.on('error', (err) => this.log.error(`tap ${name} I/O thread failed: ${err.message}`));
    return once(w, 'exit').then(
      ([code]: unknown[]) => {
        if (t.worker === w) t.worker = null;
        // Asked to stop (detach, shutdown), or the TAP itself failed: nothing to restart.
        if (tapFailed || this.taps.get(name) !== t || t.bell.controlSeq !== 0) return undefined;
        if (!t.restarts.take()) {
          this.log.error(`tap ${name}: its I/O thread ${t.restarts.exhausted}; the port stops carrying frames, detach it with "no tap ${name}"`);
          return undefined;
        }
        this.log.error(`tap ${name}: its I/O thread exited unexpectedly (code ${String(code)}); restarting it`);
        return this.runIo(t, start);
      },
      () => undefined,
    );
  }

  /** Stop a TAP's I/O thread as a crash would (the `debug crash-tap` command, for drills and tests). */
  async crashIo(name: string): Promise<void> {
    const t = this.taps.get(name);
    if (t?.worker == null) throw new DivesError('ENOTATTACHED', `tap ${name}: no I/O thread runs for it; "show taps" lists the attached ones`);
    this.log.warn(`debug: stopping the I/O thread of tap ${name} as a crash would`);
    await t.worker.terminate();
  }

  async detach(vid: number, name: string): Promise<void> {
    const t = this.taps.get(name);
    if (t === undefined || t.vid !== vid) {
      const where = t === undefined ? 'is not attached' : `is attached to VLAN ${t.vid}, not ${vid}`;
      throw new DivesError('ENOTATTACHED', `tap ${name}: ${where}; "show taps" lists the attached ones`);
    }
    await this.teardown(t);
    this.log.info(`tap ${name}: detached from VLAN ${vid}`);
  }

  private async teardown(t: TapPort): Promise<void> {
    this.taps.delete(t.dev.name);
    const fw = this.pool.threadOf(t.vid);
    if (fw !== undefined) {
      fw.unconfigure([`port:${t.portId}`], { type: 'remove-port', vid: t.vid, portId: t.portId });
      fw.unconfigure([`ring:${t.rxRingId}`], { type: 'remove-ring', ringId: t.rxRingId });
      fw.unconfigure([`ring:${t.txRingId}`], { type: 'remove-ring', ringId: t.txRingId });
      await fw.request({ type: 'sync' }).catch(() => undefined);
    }
    // Stop the I/O thread before closing the fds it uses. The forwarding worker
    // dropped the tx ring above, so nothing rings the eventfd any more.
    t.bell.control();
    await t.exited;
    const efd = t.bell.eventfd;
    t.bell.attachEventfd(-1);
    eventfdClose(efd);
    t.dev.close();
    this.ports.remove(t.portId);
  }

  /** Detach every TAP of one VLAN (or all). */
  async detachAll(vid?: number): Promise<void> {
    await Promise.all([...this.taps.values()].filter((t) => vid === undefined || t.vid === vid).map((t) => this.teardown(t)));
  }
}
