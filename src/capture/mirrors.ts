// Mirrors: `mirror vlan ID|port PORT to PORT` on the main thread. A mirror asks the
// source VLAN's forwarding thread to copy the frames it watches (every frame the VLAN
// takes in, or one port's frames both ways; src/forwarding/frame-observer.ts) into a ring of
// the mirror's own toward the monitoring TAP's I/O thread, which writes them to the TAP
// beside its port's own frames (src/tap/tap-io-loop.ts). The ring keeps the one-producer
// rule when the monitoring TAP's VLAN runs on another forwarding thread. Copies the ring
// has no room for are dropped and counted (mirror-full), never the switch's frames.
// At most MAX_MIRRORS. Main thread.

import { MIRROR_COUNTERS } from '../core/counters.js';
import { DivesError } from '../core/errors.js';
import { EventBus } from '../core/event-bus.js';
import { ringMeta } from '../core/ring-record.js';
import type { Ring } from '../core/ring.js';
import type { PortKindParts } from '../forwarding/port-kind-parts.js';
import type { ForwardingThread } from '../forwarding/forwarding-thread.js';
import type { PortRecord } from '../core/port-kind.js';
import type { TapPorts } from '../tap/tap-ports.js';
import { formatSource, type MirrorInfo, type MirrorSource, type MirrorsInfo } from './capture-info.js';
import { findPort } from './port-ref.js';

/** Mirrors at once, at most. */
export const MAX_MIRRORS = 16;
/** Each mirror's ring: copies carry a virtio_net_hdr and may be 64 KiB segments, as a TAP's own ring. */
export const MIRROR_RING_BYTES = 4 << 20;

interface Mirror {
  id: number;
  source: MirrorSource;
  vid: number;
  /** The watched port, or 0 for the whole VLAN. */
  portId: number;
  dest: PortRecord;
  tap: string;
  fw: ForwardingThread;
  ring: Ring;
  ringId: number;
}

export class Mirrors {
  private readonly mirrors = new Map<number, Mirror>();
  private readonly totals = MIRROR_COUNTERS.create();

  constructor(
    private readonly parts: Pick<PortKindParts, 'pool' | 'ports' | 'rings' | 'log'>,
    private readonly taps: TapPorts,
    private readonly newId: () => number,
  ) {
    // A mirror whose source port or monitoring TAP went away goes with it.
    parts.ports.onChange(() => {
      for (const m of this.mirrors.values()) {
        if (this.parts.ports.get(m.dest.id) !== m.dest || (m.portId !== 0 && this.parts.ports.get(m.portId) === undefined)) void this.drop(m, 'its port went away');
      }
    });
  }

  show(): MirrorsInfo {
    const totals = this.totals.slice();
    const mirrors = [...this.mirrors.values()].map((m): MirrorInfo => {
      const c = this.counts(m);
      MIRROR_COUNTERS.names.forEach((n, i) => (totals[i] += c[n]));
      return { id: m.id, source: formatSource(m.source), to: m.dest.name, counters: c };
    });
    return { mirrors, totals: MIRROR_COUNTERS.toRecord(totals) };
  }

  /** The mirrors as configured, for the running-config. */
  config(): { source: MirrorSource; to: string }[] {
    return [...this.mirrors.values()].map((m) => ({ source: m.source, to: m.dest.name }));
  }

  async add(source: MirrorSource, to: string): Promise<MirrorInfo> {
    const dest = findPort(this.parts.ports, to);
    const tap = this.taps.accessTapOf(dest.id);
    if (tap === undefined) throw new DivesError('EBADARG', `${dest.name} cannot be a monitoring port: mirror to a TAP attached to a VLAN ("tap DEVNAME"), best one in a VLAN of its own`);
    let vid: number;
    let portId = 0;
    if ('vid' in source) {
      vid = source.vid;
    } else {
      const p = findPort(this.parts.ports, source.port);
      if (p.kind === 'peer') throw new DivesError('EBADARG', `${p.name} is a peer port, a member of every VLAN; mirror a VLAN instead`);
      if (p.id === dest.id) throw new DivesError('EBADARG', `${p.name} cannot be mirrored to itself`);
      vid = p.vid;
      portId = p.id;
      source = { port: p.name };
    }
    const key = `${formatSource(source)} to ${dest.name}`;
    if ([...this.mirrors.values()].some((m) => `${formatSource(m.source)} to ${m.dest.name}` === key)) throw new DivesError('EATTACHED', `mirror ${key} exists already; "show mirrors" lists them`);
    if (this.mirrors.size >= MAX_MIRRORS) throw new DivesError('EBADARG', `${MAX_MIRRORS} mirrors exist already; remove one with "no mirror ..."`);
    const fw = this.parts.pool.threadOf(vid);
    if (fw === undefined) throw new DivesError('EBADARG', `VLAN ${vid} has no ports, so nothing to mirror; attach a port to it first`);
    const id = this.newId();
    const bell = this.taps.bellOf(tap);
    const { id: ringId, ring } = this.parts.rings.create(MIRROR_RING_BYTES, bell, { name: `mirror ${id} (${key})`, producer: fw.name, consumer: `tap-io:${tap}` });
    const m: Mirror = { id, source, vid, portId, dest, tap, fw, ring, ringId };
    this.mirrors.set(id, m);
    // The TAP's thread takes the ring before any copy is queued on it.
    await this.taps.setMirrorRings(tap, this.ringsOf(tap));
    fw.configure(`ring:${ringId}`, { type: 'add-output', ringId, sab: ring.sab, doorbellSab: bell.sab });
    fw.configure(`observe:${id}`, { type: 'observe', vid, id, portId, ringId, mirror: true, skipPort: dest.id, meta: ringMeta(dest.vid, dest.id, true) });
    await fw.request({ type: 'sync' });
    EventBus.of(this.parts.log).emit({ kind: 'capture-started', target: formatSource(source), to: `mirror ${id} to ${dest.name}` });
    return { id, source: formatSource(source), to: dest.name, counters: this.counts(m) };
  }

  /** Remove the mirrors of `source` (to `to` only, when given); DivesError ENOTATTACHED when there is none. */
  async remove(source: MirrorSource, to: string | null): Promise<number> {
    const want = 'vid' in source ? formatSource(source) : formatSource({ port: findPort(this.parts.ports, source.port).name });
    const destName = to === null ? null : findPort(this.parts.ports, to).name;
    const gone = [...this.mirrors.values()].filter((m) => formatSource(m.source) === want && (destName === null || m.dest.name === destName));
    if (gone.length === 0) throw new DivesError('ENOTATTACHED', `no mirror of ${want}${destName === null ? '' : ` to ${destName}`}; "show mirrors" lists them`);
    for (const m of gone) await this.drop(m, 'removed');
    return gone.length;
  }

  private ringsOf(tap: string): SharedArrayBuffer[] {
    return [...this.mirrors.values()].filter((m) => m.tap === tap).map((m) => m.ring.sab);
  }

  private async drop(m: Mirror, why: string): Promise<void> {
    if (!this.mirrors.delete(m.id)) return;
    m.fw.unconfigure([`observe:${m.id}`], { type: 'unobserve', vid: m.vid, id: m.id });
    m.fw.unconfigure([`ring:${m.ringId}`], { type: 'remove-ring', ringId: m.ringId });
    await m.fw.request({ type: 'sync' }).catch(() => undefined);
    await this.taps.setMirrorRings(m.tap, this.ringsOf(m.tap)).catch(() => undefined);
    const c = this.counts(m);
    MIRROR_COUNTERS.names.forEach((n, i) => (this.totals[i] += c[n]));
    this.parts.rings.remove(m.ringId);
    EventBus.of(this.parts.log).emit({ kind: 'capture-stopped', target: formatSource(m.source), to: `mirror ${m.id} to ${m.dest.name}`, frames: c.mirrored, reason: `${why}${c['mirror-full'] > 0 ? `, ${c['mirror-full']} copies dropped` : ''}` });
  }

  private counts(m: Mirror): MirrorInfo['counters'] {
    return { mirrored: m.ring.pushed, 'mirror-full': m.ring.drops + m.ring.oversize, 'mirror-write': m.ring.consumerDrops };
  }

  async close(): Promise<void> {
    for (const m of [...this.mirrors.values()]) await this.drop(m, 'removed: the switch is stopping');
  }
}
