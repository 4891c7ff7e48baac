// TrunkPorts: trunk TAPs — one TAP device whose frames carry 802.1Q tags for several
// VLANs (`tap DEVNAME trunk VLANS [native ID]`). For each trunk it opens the device
// (without a virtio_net_hdr: src/tap/trunk-io-loop.ts says why), makes one ring pair with
// each forwarding thread that runs a member VLAN and one port per member VLAN (named
// "tap:DEVNAME.VID", so `show ports` lists the trunk once per VLAN; src/forwarding/trunk-wiring.ts,
// shared with QEMU trunk connections), and runs the trunk's
// I/O thread (src/tap/trunk-io-loop.ts) under a ThreadSupervisor. Main thread.

import { Worker } from 'node:worker_threads';
import { Doorbell } from '../core/doorbell.js';
import { eventfdClose, eventfdOpen } from '../linux/eventfd.js';
import { DivesError } from '../core/errors.js';
import type { TRUNK_DROPS } from '../core/counters.js';
import { formatVlanList } from '../core/vlan-tag.js';
import { ThreadSupervisor, workerRun } from '../core/thread-supervisor.js';
import type { Logger } from '../core/log.js';
import type { ForwardingPool } from '../forwarding/forwarding-pool.js';
import type { LeftPorts } from '../forwarding/left-ports.js';
import type { PortTable } from '../forwarding/port-table.js';
import type { RingTable } from '../forwarding/ring-table.js';
import { releaseTrunk, trunkThreads, trunkVids, unwireTrunk, wireTrunk, type TrunkWiring } from '../forwarding/trunk-wiring.js';
import { TapDevice } from './tap-device.js';
import type { TapIoExit, TrunkIoStart } from './tap-io-messages.js';
import { TrunkCounters } from '../core/trunk-counters.js';

/** Each direction between a trunk and one forwarding thread queues this much: plain frames only, about 700 of 1,500 bytes. */
export const TRUNK_RING_BYTES = 1 << 20;

/** A trunk TAP, as `show trunks` prints it. */
export interface TrunkInfo {
  name: string;
  /** The tagged VLANs, as a list ("10,20,100-199"). */
  vlans: string;
  /** The VLAN of untagged frames, or null. */
  native: number | null;
  /** The trunk's port in each member VLAN. */
  ports: { vid: number; portId: number }[];
  created: boolean;
  state: 'up' | 'down';
  reason: string | null;
  drops: Record<(typeof TRUNK_DROPS.names)[number], number>;
}

interface Trunk extends TrunkWiring {
  dev: TapDevice;
  tagged: number[];
  native: number;
  bell: Doorbell;
  counters: TrunkCounters;
  io: ThreadSupervisor;
}

export class TrunkPorts {
  private readonly trunks = new Map<string, Trunk>();
  /** Member VLANs of every trunk, known before their ports exist (offloads follow them). */
  private readonly memberVids = new Map<string, number[]>();

  constructor(
    private readonly pool: ForwardingPool,
    private readonly ports: PortTable,
    private readonly rings: RingTable,
    private readonly maxFrame: number,
    private readonly log: Logger,
    private readonly left: LeftPorts,
  ) {}

  has(name: string): boolean {
    return this.trunks.has(name) || this.memberVids.has(name);
  }

  /** Every VLAN some trunk is a member of: their TAPs hand over plain frames. */
  vids(): Set<number> {
    return new Set([...this.memberVids.values()].flat());
  }

  list(vid?: number): TrunkInfo[] {
    return [...this.trunks.values()]
      .filter((t) => vid === undefined || t.members.some((m) => m.vid === vid))
      .map((t): TrunkInfo => {
        const st = t.io.status();
        const down = st.state !== 'up';
        return {
          name: t.dev.name, vlans: formatVlanList(t.tagged), native: t.native === 0 ? null : t.native,
          ports: t.members.map((m) => ({ vid: m.vid, portId: m.portId })), created: t.dev.created,
          state: down ? 'down' : 'up', reason: down ? st.reason : null, drops: t.counters.drops(),
        };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  threads(): { io: ThreadSupervisor; cpu: number; wakeups: number }[] {
    return [...this.trunks.values()].map((t) => ({ io: t.io, cpu: -1, wakeups: t.bell.wakeups }));
  }

  /** The I/O drops of a trunk's port, for `show ports`; undefined for a port that is no trunk's. */
  ioDrops(portId: number): { 'rx-ring-full': number; 'tap-write': number } | undefined {
    for (const t of this.trunks.values()) {
      const i = t.members.findIndex((m) => m.portId === portId);
      if (i >= 0) return t.counters.member(i);
    }
    return undefined;
  }

  /** Attach `name` as a trunk of the tagged VLANs `tagged` and the untagged VLAN `native` (0: none), creating the device if needed. */
  async attach(name: string, tagged: number[], native: number): Promise<TrunkInfo> {
    if (this.has(name)) throw new DivesError('EATTACHED', `tap ${name}: already a trunk; detach it first with "no tap ${name} trunk"`);
    const vids = trunkVids(tagged, native);
    const fws = trunkThreads(this.pool, vids);
    this.rings.ensureRoom(2 * TRUNK_RING_BYTES * fws.length, `tap ${name} trunk`);
    const dev = TapDevice.open(name, { vnetHdr: false });
    const bell = new Doorbell();
    try {
      bell.attachEventfd(eventfdOpen());
    } catch (err) {
      dev.close();
      throw err;
    }
    this.memberVids.set(name, vids);
    const io = `tap-io:${name}`;
    const { pairs, members } = wireTrunk({ pool: this.pool, ports: this.ports, rings: this.rings, ringBytes: TRUNK_RING_BYTES }, 'tap', `tap:${name}`, vids, { name: io, bell });
    const counters = new TrunkCounters(members.length);
    const start: TrunkIoStart = {
      kind: 'trunk', fd: dev.fd, name, native, members, countersSab: counters.sab, doorbellSab: bell.sab,
      pairs: pairs.map((p) => ({ rxSab: p.rx.sab, fwDoorbellSab: p.fw.bell.sab, txSab: p.tx.sab })),
      maxFrame: this.maxFrame, cpu: fws.length === 1 ? fws[0].cpu : -1, traceSab: this.pool.trace.sab, stopSeq: 0,
    };
    const t: Trunk = { dev, tagged, native, members, pairs, bell, counters, io: this.supervise(io, start, bell) };
    this.trunks.set(name, t);
    t.io.start();
    await Promise.all(fws.map((fw) => fw.request({ type: 'sync' })));
    this.log.info(`tap ${name}: attached as a trunk of VLANs ${formatVlanList(tagged)}${native === 0 ? '' : `, native VLAN ${native}`}${dev.created ? ' (created)' : ''}`);
    return this.list().find((i) => i.name === name) as TrunkInfo;
  }

  private supervise(io: string, start: TrunkIoStart, bell: Doorbell): ThreadSupervisor {
    let failure: string | null = null;
    return new ThreadSupervisor({
      name: io,
      kind: 'tap-io',
      log: this.log,
      launch: () => {
        failure = null;
        const w = new Worker(new URL('../../workers/tap-io.js', import.meta.url), { workerData: { ...start, stopSeq: bell.controlSeq }, name: io });
        w.on('message', (m: TapIoExit) => (failure = m.message));
        return workerRun(w, () => failure);
      },
      askStop: () => bell.control(),
      downNote: () => `; the trunk stops carrying frames, detach it with "no tap ${start.name} trunk"`,
    });
  }

  async crashIo(name: string): Promise<void> {
    const t = this.trunks.get(name);
    if (t === undefined) throw new DivesError('ENOTATTACHED', `tap ${name}: is not a trunk`);
    await t.io.crash();
  }

  async detach(name: string): Promise<void> {
    const t = this.trunks.get(name);
    if (t === undefined) throw new DivesError('ENOTATTACHED', `tap ${name}: is not attached as a trunk; "show trunks" lists the trunks`);
    await this.teardown(t);
    this.log.info(`tap ${name}: trunk detached`);
  }

  private async teardown(t: Trunk): Promise<void> {
    const name = t.dev.name;
    this.trunks.delete(name);
    await unwireTrunk(t);
    await t.io.stop();
    t.members.forEach((m, i) => this.left.ioThread(m.vid, `tap ${name} trunk`, t.counters.member(i)));
    const efd = t.bell.eventfd;
    t.bell.attachEventfd(-1);
    eventfdClose(efd);
    t.dev.close();
    // Its VLANs leave the trunk before its ports go, so the offloads follow (Switch.updateOffloads).
    this.memberVids.delete(name);
    releaseTrunk(t, { ports: this.ports, rings: this.rings });
  }

  async detachAll(): Promise<void> {
    await Promise.all([...this.trunks.values()].map((t) => this.teardown(t)));
  }
}
