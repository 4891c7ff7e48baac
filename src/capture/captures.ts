// Captures: `capture vlan ID|port PORT ...` on the main thread. A capture asks the
// VLAN's forwarding thread to copy the frames it watches into a capture ring of its own
// (src/forwarding/frame-observer.ts), drains that ring into pcap records and writes them to
// a ByteSink (a file, or the control socket's stream to `dives ctl`), and ends after its
// count or seconds, or when its reader goes away. Bounded: at most MAX_CAPTURES at once,
// each with one CAPTURE_RING_BYTES ring; a reader that falls behind lets the ring fill and
// loses copies (capture-full), never the switch's frames. Main thread.

import { CAPTURE_COUNTERS } from '../core/counters.js';
import { Doorbell } from '../core/doorbell.js';
import { DivesError } from '../core/errors.js';
import { EventBus } from '../core/event-bus.js';
import { metaPort } from '../core/ring-record.js';
import type { Ring } from '../core/ring.js';
import type { PortKindParts } from '../forwarding/port-kind-parts.js';
import type { ForwardingThread } from '../forwarding/forwarding-thread.js';
import type { ByteSink } from './byte-sink.js';
import { formatSource, type CaptureEnd, type CaptureInfo, type CaptureRequest, type CapturesInfo } from './capture-info.js';
import { CAPTURE_DIR_AT, CAPTURE_OUT, CAPTURE_PREFIX } from '../forwarding/frame-observer.js';
import { pcapFileHeader } from './pcap.js';
import { findPort } from './port-ref.js';

/** Captures running at once, at most. */
export const MAX_CAPTURES = 8;
/** Each capture's ring: about 2,800 full-size frames, or 64 offloaded segments, of slack for its reader. */
export const CAPTURE_RING_BYTES = 4 << 20;
/** How often an idle capture looks at its ring. */
const POLL_MS = 10;
/** Records taken from the ring per write to the sink. */
const BATCH = 256;

interface Running {
  info: CaptureInfo;
  ring: Ring;
  ringId: number;
  fw: ForwardingThread;
  ended: CaptureEnd | null;
}

export class Captures {
  private readonly running = new Map<number, Running>();
  private readonly totals = CAPTURE_COUNTERS.create();
  private closing = false;

  constructor(
    private readonly parts: Pick<PortKindParts, 'pool' | 'ports' | 'rings' | 'log'>,
    /** Captures and mirrors share one id space: both are watches a forwarding thread keeps by id. */
    private readonly newId: () => number,
  ) {}

  show(): CapturesInfo {
    const totals = this.totals.slice();
    const live = [...this.running.values()].map((r) => this.snapshot(r));
    for (const c of live) CAPTURE_COUNTERS.names.forEach((n, i) => (totals[i] += c.counters[n]));
    return { captures: live, totals: CAPTURE_COUNTERS.toRecord(totals) };
  }

  /** Run one capture into `sink` until it ends; `to` says where for `show captures`. */
  async capture(req: CaptureRequest, sink: ByteSink, to: string): Promise<CaptureInfo> {
    if (this.closing) throw new DivesError('EINTERNAL', 'the switch is shutting down');
    if (this.running.size >= MAX_CAPTURES) throw new DivesError('EBADARG', `${MAX_CAPTURES} captures are running already; wait for one to end ("show captures")`);
    let vid: number;
    let portId = 0;
    if ('vid' in req.source) {
      vid = req.source.vid;
    } else {
      const p = findPort(this.parts.ports, req.source.port);
      if (p.kind === 'peer') throw new DivesError('EBADARG', `${p.name} is a peer port, a member of every VLAN; capture a VLAN instead ("capture vlan ID")`);
      vid = p.vid;
      portId = p.id;
    }
    const fw = this.parts.pool.threadOf(vid);
    if (fw === undefined) throw new DivesError('EBADARG', `VLAN ${vid} has no ports, so nothing to capture; attach a port to it first`);
    const id = this.newId();
    const source = formatSource(req.source);
    const { id: ringId, ring } = this.parts.rings.create(CAPTURE_RING_BYTES, null, { name: `capture ${id} (${source})`, producer: fw.name, consumer: 'main thread' });
    const r: Running = { info: { id, source, vid, to, counters: CAPTURE_COUNTERS.zero(), ports: [], ended: null }, ring, ringId, fw, ended: null };
    this.running.set(id, r);
    // Nobody sleeps on this doorbell: main looks at the ring every POLL_MS while it is idle.
    fw.configure(`ring:${ringId}`, { type: 'add-output', ringId, sab: ring.sab, doorbellSab: new Doorbell().sab });
    fw.configure(`observe:${id}`, { type: 'observe', vid, id, portId, ringId, mirror: false, skipPort: 0, meta: 0 });
    EventBus.of(this.parts.log).emit({ kind: 'capture-started', target: source, to });
    try {
      await this.drain(r, req, sink, portId);
    } finally {
      await this.finish(r);
    }
    return this.snapshot(r);
  }

  private async drain(r: Running, req: CaptureRequest, sink: ByteSink, portId: number): Promise<void> {
    const deadline = req.seconds === null ? Infinity : Date.now() + req.seconds * 1000;
    const limit = req.count ?? Infinity;
    const byPort = new Map<number, { in: number; out: number }>();
    let frames = 0;
    const parts: Buffer[] = [];
    const take = (buf: Buffer, off: number, len: number, meta: number): void => {
      // The pcap record header and frame, without the direction word between them.
      const rec = Buffer.allocUnsafe(len - 4);
      buf.copy(rec, 0, off, off + 16);
      buf.copy(rec, 16, off + CAPTURE_PREFIX, off + len);
      parts.push(rec);
      const port = metaPort(meta);
      const c = byPort.get(port) ?? { in: 0, out: 0 };
      if (buf.readUInt32LE(off + CAPTURE_DIR_AT) === CAPTURE_OUT) c.out++;
      else c.in++;
      byPort.set(port, c);
      frames++;
    };
    const publish = (): void => {
      r.info.counters.captured = frames;
      r.info.ports = [...byPort.entries()].sort(([a], [b]) => a - b).map(([id, c]) => ({ portId: id, port: this.parts.ports.get(id)?.name ?? `port ${id}`, ...c }));
    };
    let behind: Promise<void> | null = sink.write(pcapFileHeader()) ? null : sink.drained();
    for (;;) {
      if (frames >= limit) r.ended = 'count';
      else if (Date.now() >= deadline) r.ended = 'seconds';
      else if (sink.closed) r.ended = 'reader-gone';
      else if (this.closing) r.ended = 'switch-stopping';
      else if (portId !== 0 && this.parts.ports.get(portId) === undefined) r.ended = 'source-gone';
      if (r.ended !== null) break;
      if (behind !== null) {
        // The reader is behind: the ring fills meanwhile (and drops copies, counted). The wait
        // is cut to POLL_MS so a reader that never catches up cannot keep the capture from ending.
        const caughtUp = await Promise.race([behind.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), POLL_MS))]);
        if (!caughtUp) continue;
        behind = null;
      }
      const n = r.ring.consume(Math.min(BATCH, limit - frames), take);
      if (parts.length > 0) {
        if (!sink.write(Buffer.concat(parts.splice(0)))) behind = sink.drained();
        publish();
      }
      if (n === 0) await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(POLL_MS, deadline - Date.now()))));
    }
    publish();
  }

  /** Stop the thread's copies, give the ring back, and keep the capture's counts in the totals. */
  private async finish(r: Running): Promise<void> {
    r.fw.unconfigure([`observe:${r.info.id}`], { type: 'unobserve', vid: r.info.vid, id: r.info.id });
    r.fw.unconfigure([`ring:${r.ringId}`], { type: 'remove-ring', ringId: r.ringId });
    await r.fw.request({ type: 'sync' }).catch(() => undefined);
    r.info.counters['capture-full'] = r.ring.drops + r.ring.oversize;
    r.info.ended = r.ended ?? 'switch-stopping';
    this.parts.rings.remove(r.ringId);
    this.running.delete(r.info.id);
    CAPTURE_COUNTERS.names.forEach((n, i) => (this.totals[i] += r.info.counters[n]));
    const lost = r.info.counters['capture-full'];
    EventBus.of(this.parts.log).emit({ kind: 'capture-stopped', target: r.info.source, to: r.info.to, frames: r.info.counters.captured, reason: `${r.info.ended}${lost > 0 ? `, ${lost} lost to a full ring` : ''}` });
  }

  private snapshot(r: Running): CaptureInfo {
    const counters = { ...r.info.counters };
    if (r.info.ended === null) counters['capture-full'] = r.ring.drops + r.ring.oversize;
    return { ...r.info, counters, ports: r.info.ports.map((p) => ({ ...p })) };
  }

  /** End every capture (their commands answer with what they wrote). */
  async close(): Promise<void> {
    this.closing = true;
    while (this.running.size > 0) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
