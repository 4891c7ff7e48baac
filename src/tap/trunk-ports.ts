// TrunkPorts: trunk TAPs — one TAP device whose frames carry 802.1Q tags for several
// VLANs (`tap DEVNAME trunk VLANS [native ID]`). For each trunk it opens the device
// (without a virtio_net_hdr: src/tap/trunk-io-loop.ts says why), makes one ring pair with
// each forwarding thread that runs a member VLAN and one port per member VLAN (named
// "tap:DEVNAME.VID", so `show ports` lists the trunk once per VLAN; src/forwarding/trunk-wiring.ts,
// shared with QEMU trunk connections), and runs the trunk's
// I/O thread (src/tap/trunk-io-loop.ts) as an IoThread (src/core/io-thread.ts). Main thread.

import { DivesError } from '../core/errors.js';
import type { TRUNK_DROPS } from '../core/counters.js';
import { formatVlanList } from '../core/vlan-tag.js';
import { IoThread } from '../core/io-thread.js';
import { ioLoop } from '../core/io-loop.js';
import { ringPair } from '../core/io-messages.js';
import type { PortDrops } from '../core/port-kind.js';
import type { KindThread } from '../core/port-kind-provider.js';
import type { PortKindParts } from '../forwarding/port-kind-parts.js';
import { releaseTrunk, trunkThreads, trunkVids, unwireTrunk, wireTrunk, type TrunkWiring } from '../forwarding/trunk-wiring.js';
import { TapDevice } from './tap-device.js';
import type { TrunkIoStart } from './tap-io-messages.js';
import { TrunkCounters } from '../core/trunk-counters.js';

const TRUNK_LOOP = ioLoop(new URL('./trunk-io-loop.js', import.meta.url), 'TrunkIoLoop');

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
  counters: TrunkCounters;
  io: IoThread<TrunkIoStart, never, never, null>;
}

export class TrunkPorts {
  private readonly trunks = new Map<string, Trunk>();
  /** Member VLANs of every trunk, known before their ports exist (offloads follow them). */
  private readonly memberVids = new Map<string, number[]>();

  constructor(private readonly parts: PortKindParts) {}

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
        const st = t.io.supervisor.status();
        const down = st.state !== 'up';
        return {
          name: t.dev.name, vlans: formatVlanList(t.tagged), native: t.native === 0 ? null : t.native,
          ports: t.members.map((m) => ({ vid: m.vid, portId: m.portId })), created: t.dev.created,
          state: down ? 'down' : 'up', reason: down ? st.reason : null, drops: t.counters.drops(),
        };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  threads(): KindThread[] {
    return [...this.trunks.values()].map((t) => ({ io: t.io.supervisor, cpu: t.io.cpu, wakeups: t.io.wakeups }));
  }

  /** The I/O drops of each trunk's port in each member VLAN, by port id, for `show ports`. */
  ioDrops(): Map<number, PortDrops> {
    return new Map([...this.trunks.values()].flatMap((t) => t.members.map((m, i): [number, PortDrops] => [m.portId, t.counters.member(i)])));
  }

  /** Attach `name` as a trunk of the tagged VLANs `tagged` and the untagged VLAN `native` (0: none), creating the device if needed. */
  async attach(name: string, tagged: number[], native: number): Promise<TrunkInfo> {
    if (this.has(name)) throw new DivesError('EATTACHED', `tap ${name}: already a trunk; detach it first with "no tap ${name} trunk"`);
    const { pool, ports, rings, log } = this.parts;
    const vids = trunkVids(tagged, native);
    const fws = trunkThreads(pool, vids);
    rings.ensureRoom(2 * TRUNK_RING_BYTES * fws.length, `tap ${name} trunk`);
    const dev = TapDevice.open(name, { vnetHdr: false });
    this.memberVids.set(name, vids);
    const io = new IoThread<TrunkIoStart, never, never, null>({
      name: `tap-io:${name}`,
      kind: 'tap-io',
      log,
      loop: TRUNK_LOOP,
      cpu: fws.length === 1 ? fws[0].cpu : -1,
      start: () => start,
      downNote: () => `; the trunk stops carrying frames, detach it with "no tap ${name} trunk"`,
    });
    const { pairs, members } = wireTrunk({ pool, ports, rings, ringBytes: TRUNK_RING_BYTES }, 'tap', `tap:${name}`, vids, io);
    const counters = new TrunkCounters(members.length);
    const start: Omit<TrunkIoStart, 'name' | 'doorbellSab' | 'cpu'> = {
      fd: dev.fd, native, members, countersSab: counters.sab,
      pairs: pairs.map((p) => ringPair(p.rx, p.fw.bell, p.tx)),
      maxFrame: this.parts.maxFrame, traceSab: pool.trace.sab,
    };
    const t: Trunk = { dev, tagged, native, members, pairs, counters, io };
    this.trunks.set(name, t);
    try {
      t.io.start();
    } catch (err) {
      await this.teardown(t);
      throw err;
    }
    await Promise.all(fws.map((fw) => fw.request({ type: 'sync' })));
    log.info(`tap ${name}: attached as a trunk of VLANs ${formatVlanList(tagged)}${native === 0 ? '' : `, native VLAN ${native}`}${dev.created ? ' (created)' : ''}`);
    return this.list().find((i) => i.name === name) as TrunkInfo;
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
    this.parts.log.info(`tap ${name}: trunk detached`);
  }

  private async teardown(t: Trunk): Promise<void> {
    const name = t.dev.name;
    this.trunks.delete(name);
    await unwireTrunk(t);
    await t.io.close();
    t.members.forEach((m, i) => this.parts.left.ioThread(m.vid, `tap ${name} trunk`, t.counters.member(i)));
    t.dev.close();
    // Its VLANs leave the trunk before its ports go, so the offloads follow (src/switch/offloads.ts).
    this.memberVids.delete(name);
    releaseTrunk(t, this.parts);
  }

  async detachAll(): Promise<void> {
    await Promise.all([...this.trunks.values()].map((t) => this.teardown(t)));
  }
}
