// VxlanThread: the VXLAN I/O thread as the main thread runs it — the sockets it serves
// (bound here, src/vxlan/vxlan-sockets.ts), its ring pair with each forwarding thread,
// and the thread itself, an IoThread (src/core/io-thread.ts). Its owner
// (src/vxlan/vxlan-ports.ts) says what a new incarnation must be told (`replay`) and
// hears its events. Main thread.

import { DivesError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { IoThread } from '../core/io-thread.js';
import { ioLoop } from '../core/io-loop.js';
import type { IoRequest } from '../core/io-messages.js';
import type { ForwardingPool } from '../forwarding/forwarding-pool.js';
import type { ForwardingThread } from '../forwarding/forwarding-thread.js';
import { IoRingPairs } from '../forwarding/io-ring-pairs.js';
import type { RingTable } from '../forwarding/ring-table.js';
import type { VxlanControl, VxlanEvent, VxlanIoReport, VxlanIoStart } from './vxlan-io-messages.js';
import { VxlanSockets, type VxlanSettings } from './vxlan-sockets.js';

/** One ring pair carries every VTEP of a forwarding thread, and head-end replication writes a copy per VTEP: sized like the peer rings. */
export const VXLAN_RING_BYTES = 4 << 20;
const VXLAN_LOOP = ioLoop(new URL('./vxlan-io.js', import.meta.url), 'VxlanIo');

export type VxlanRequest = IoRequest<VxlanControl>;

export interface VxlanThreadOptions {
  pool: ForwardingPool;
  rings: RingTable;
  maxFrame: number;
  ageingMs: number;
  settings: VxlanSettings;
  log: Logger;
  /** Tell a new incarnation (after the rings) every VLAN and VTEP. */
  replay: () => void;
  /** An event of the VXLAN thread's own: a VTEP heard or silent. */
  onEvent: (e: VxlanEvent) => void;
}

export class VxlanThread {
  readonly io: IoThread<VxlanIoStart, VxlanControl, VxlanEvent, VxlanIoReport>;
  private sockets: VxlanSockets | null = null;
  private readonly ringPairs: IoRingPairs;
  private closed = false;

  constructor(private readonly o: VxlanThreadOptions) {
    this.io = new IoThread({
      name: 'vxlan-io',
      kind: 'vxlan-io',
      log: o.log,
      loop: VXLAN_LOOP,
      cpu: -1,
      start: () => {
        const s = this.sockets as VxlanSockets;
        return {
          maxFrame: o.maxFrame, family: o.settings.family, fds: s.fds, port: o.settings.port, traceSab: o.pool.trace.sab,
          ageingSeconds: Math.max(1, Math.round(o.ageingMs / 1000)), maxVteps: o.settings.maxVteps,
        };
      },
      replay: () => {
        this.ringPairs.replay();
        o.replay();
      },
      onEvent: (e) => o.onEvent(e),
      restartNote: ' on the same sockets (its counters start again from zero)',
      downNote: () => '; VTEPs stop carrying frames until the switch restarts',
    });
    this.ringPairs = new IoRingPairs(VXLAN_RING_BYTES, { name: this.io.name, bell: this.io.bell, post: (m) => this.post(m) }, o.rings);
  }

  /** The sockets are bound and the thread was started (from the first remote or group on). */
  get started(): boolean {
    return this.sockets !== null;
  }

  get running(): boolean {
    return this.sockets !== null && !this.closed;
  }

  /** The ports datagrams leave from; empty before the start. */
  get sourcePorts(): number[] {
    return this.sockets?.sourcePorts ?? [];
  }

  /** The sockets, once started. */
  get socketsOrNull(): VxlanSockets | null {
    return this.sockets;
  }

  /** Bind the sockets and start the thread, once. Throws DivesError ELISTEN when they cannot be bound. */
  ensureStarted(): VxlanSockets {
    if (this.closed) throw new DivesError('EINTERNAL', 'the switch is shutting down');
    if (this.sockets !== null) return this.sockets;
    const s = this.o.settings;
    const sockets = VxlanSockets.open(s, this.o.log);
    this.sockets = sockets;
    this.io.start();
    this.o.log.info(`vxlan: listening on UDP port ${s.port}; sending ${s.local === null ? 'by route' : `from ${s.local}`} from ports ${sockets.sourcePorts.join(',')} by a hash of each frame`);
    return sockets;
  }

  /** The tx ring toward this thread from `fw`, making the pair first. Throws EBUDGET past the memory budget. */
  txRingFor(fw: ForwardingThread): number {
    return this.ringPairs.txRingFor(fw);
  }

  /** Stop the thread as a crash would (`debug crash-vxlan`). */
  async crash(): Promise<void> {
    if (!this.running) throw new DivesError('EBADARG', 'no VXLAN I/O thread runs (it starts with the first "vxlan remote" or "vxlan group")');
    await this.io.crash();
  }

  /** Post a message; the thread reads it once its doorbell's CONTROL count moves. */
  post(msg: VxlanControl): void {
    this.io.post(msg);
  }

  /** Send a request and wait until the thread applied it (at once when it does not run). */
  request(body: VxlanRequest): Promise<void> {
    if (!this.running) return Promise.resolve();
    return this.io.request(body);
  }

  /** The thread's counters, or null when it does not run. */
  async stats(): Promise<VxlanIoReport | null> {
    return this.running ? this.io.stats() : null;
  }

  /** Stop the thread and close the sockets. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sockets === null) return;
    await this.io.close();
    this.sockets.close();
  }
}
