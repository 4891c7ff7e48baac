// ForwardingLoop: the body of a forwarding thread thread. It consumes the rx
// rings of its VLANs' ports, runs each frame through that VLAN's VlanEngine and
// commits the copies to the ports' tx rings; it applies control messages from
// the main thread between batches and ages the fdbs once a second.
// Runs on a forwarding thread (workers/forwarding.ts hosts it under piscina).
//
// Thread safety: everything here belongs to this thread. The only shared state
// is the rings (this thread is the consumer of its inputs and the single
// producer of its outputs) and its doorbell.

import { threadId, type MessagePort } from 'node:worker_threads';
import { Doorbell } from '../core/doorbell.js';
import { pinThisThread } from '../linux/cpu-affinity.js';
import { VlanEngine, type EngineClock } from './vlan-engine.js';
import { VLAN_COUNTERS } from '../core/counters.js';
import { srcMac } from '../core/frame.js';
import { metaHdrLen, metaPort, metaVid } from '../core/ring-record.js';
import { FrameTrace, STAGE_FORWARDING, STAGE_TX_COMMIT, TRACE_MASK } from '../core/frame-trace.js';
import { Ring, type FrameHandler } from '../core/ring.js';
import { collectGarbage } from '../core/collect-garbage.js';
import { FrameObserver } from './frame-observer.js';
import { MOVE_REPORT_MS } from '../core/mac-move-limits.js';
import { MacMoveLog } from './mac-moves.js';
import type { ForwardingControl, ForwardingReply, ForwardingTask, PortReport, VlanReport } from './forwarding-messages.js';

const BATCH = 256; // frames taken from one ring per turn, so no ring starves the others
// How long an idle thread keeps polling its rings before it sleeps. A wake-up
// costs tens of microseconds per hand-off; spinning this long catches the next
// frame of a conversation (an answer, the next TCP segment) without one.
// Measured on the 2-core machines here, any spin costs more than it saves (the
// spinning thread takes the core the next hop needs), so the default is 0;
// DIVES_SPIN_US sets it for experiments on bigger hosts (docs/performance.md).
const SPIN_MS = Number(process.env.DIVES_SPIN_US ?? 0) / 1000;
const AGEING_INTERVAL_MS = 1000;
/** What sleepOnce returns, told apart from doze()'s 0 when it found work instead. */
const SLEPT = 1;

export class ForwardingLoop {
  private readonly bell: Doorbell;
  private readonly control: MessagePort;
  private readonly clock: EngineClock = { nowMs: Date.now() };
  private readonly engines: (VlanEngine | undefined)[] = new Array<VlanEngine | undefined>(4096);
  private readonly vids = new Set<number>();
  private readonly rings = new Map<number, Ring>();
  private inputs: Ring[] = [];
  private outputs: Ring[] = [];
  private controlSeen = -1;
  private stopped = false;
  private ageingTimeMs: number;
  private readonly fdbCapacity: number;
  private readonly maxFrame: number;
  private readonly cpu: number;
  /** Frames whose ring meta named a VLAN this worker does not run (THREAD_COUNTERS no-vlan). */
  noVlanDrops = 0;
  /** The meta of the frame being forwarded, 0 between batches (ForwardingTask.inflightSab). */
  private readonly inflight: Int32Array;
  /** What the per-frame path calls: `forward`, or `drill` while a crash-on-frame drill is armed. */
  private handler: FrameHandler;
  private readonly forward: FrameHandler;
  private drillVid = -1;
  private drillMac = -1;
  private readonly trace: FrameTrace;
  /** Metas of the traced frames of this batch, stamped once its tx rings are committed. */
  private readonly traced = new Int32Array(8);
  private tracedCount = 0;
  /** The MAC moves of every VLAN here, reported to main at most every MOVE_REPORT_MS. */
  private readonly moves = new MacMoveLog();
  private lastMoveReport = 0;
  /** Doorbell.doze's second look, made once: a frame in an input ring, control to read, or a stop. */
  private readonly pendingWork = (): boolean => this.anyInput() || this.bell.controlSeq !== this.controlSeen || this.stopped;
  /** Moves not yet reported are reported when due, not after a whole second asleep. */
  private readonly sleepOnce = (): number => {
    this.bell.sleep(this.moves.owed ? MOVE_REPORT_MS : AGEING_INTERVAL_MS);
    return SLEPT;
  };

  constructor(task: ForwardingTask) {
    this.bell = new Doorbell(task.doorbellSab);
    this.control = task.control;
    this.ageingTimeMs = task.ageingTimeMs;
    this.fdbCapacity = task.fdbCapacity;
    this.maxFrame = task.maxFrame;
    this.cpu = task.cpu;
    this.inflight = new Int32Array(task.inflightSab);
    this.trace = new FrameTrace(task.traceSab);
    const engines = this.engines;
    const inflight = this.inflight;
    // One closure for the life of the thread: the ring calls it per frame.
    this.forward = (buf, off, len, meta) => {
      const engine = engines[metaVid(meta)];
      if (engine === undefined) {
        this.noVlanDrops++;
        return;
      }
      inflight[0] = meta;
      const trace = meta & TRACE_MASK;
      if (trace !== 0) this.traceIn(meta);
      engine.forward(buf, off, len, metaPort(meta), metaHdrLen(meta), trace);
    };
    this.handler = this.forward;
  }

  private send(msg: ForwardingReply): void {
    this.control.postMessage(msg);
  }

  /** Runs until a stop message. Returns normally so the piscina task resolves. */
  run(): void {
    this.send({ type: 'started', threadId });
    if (this.cpu >= 0) {
      const why = pinThisThread(this.cpu);
      if (why !== null) this.send({ type: 'log', level: 'warn', message: `cannot pin to CPU ${this.cpu}: ${why}; the scheduler places this thread` });
    }
    let lastAgeing = Date.now();
    let idleSince = -1;
    while (!this.stopped) {
      const now = Date.now();
      this.clock.nowMs = now;
      // Control first: a port added before a frame for it was queued must
      // exist when that frame is forwarded.
      if (this.bell.controlSeq !== this.controlSeen) this.controlSeen = this.bell.drainControl<ForwardingControl>(this.control, (m) => this.apply(m));
      let n = 0;
      const inputs = this.inputs;
      for (let i = 0; i < inputs.length; i++) n += inputs[i].consume(BATCH, this.handler);
      this.inflight[0] = 0;
      if (n > 0) {
        // Stamped before the commit: once committed, the output's thread may finish the frame.
        if (this.tracedCount > 0) this.traceOut();
        const outputs = this.outputs;
        for (let i = 0; i < outputs.length; i++) outputs[i].commit();
      }
      if (now - lastAgeing >= AGEING_INTERVAL_MS) {
        lastAgeing = now;
        for (const vid of this.vids) this.engines[vid]?.age();
        this.moves.roll();
      }
      if (this.moves.owed && now - this.lastMoveReport >= MOVE_REPORT_MS) this.reportMoves(now);
      if (n > 0) {
        idleSince = -1;
        continue;
      }
      const t = performance.now();
      if (idleSince < 0) idleSince = t;
      if (t - idleSince < SPIN_MS) continue;
      if (this.bell.doze(this.pendingWork, this.sleepOnce) === SLEPT) idleSince = -1;
    }
  }

  /** Post the MAC moves recorded since the last report; its buffer is handed over, not copied. */
  private reportMoves(now: number): void {
    this.lastMoveReport = now;
    const r = this.moves.take();
    if (r !== null) this.control.postMessage({ type: 'mac-moves', moves: r.moves, unreported: r.unreported } satisfies ForwardingReply, [r.moves.buffer]);
  }

  /** A traced frame reached this thread (`debug trace`). */
  private traceIn(meta: number): void {
    this.trace.stamp(meta, STAGE_FORWARDING);
    if (this.tracedCount < this.traced.length) this.traced[this.tracedCount++] = meta;
  }

  /** The batch's tx rings are about to be committed: the traced frames of the batch reached that stage. */
  private traceOut(): void {
    for (let i = 0; i < this.tracedCount; i++) this.trace.stamp(this.traced[i], STAGE_TX_COMMIT);
    this.tracedCount = 0;
  }

  private anyInput(): boolean {
    const inputs = this.inputs;
    for (let i = 0; i < inputs.length; i++) if (!inputs[i].isEmpty()) return true;
    return false;
  }

  private engine(vid: number): VlanEngine {
    let e = this.engines[vid];
    if (e === undefined) {
      e = new VlanEngine(vid, {
        clock: this.clock,
        maxFrame: this.maxFrame,
        fdb: { capacity: this.fdbCapacity, ageingTimeMs: this.ageingTimeMs },
        moves: this.moves,
      });
      this.engines[vid] = e;
      this.vids.add(vid);
    }
    return e;
  }

  /** Forget a ring; an input's last frames, committed before its producer said it was done (a VM that sent, then hung up), are forwarded first, while their port is still here. */
  private removeRing(ringId: number): void {
    const r = this.rings.get(ringId);
    if (r === undefined) return;
    if (this.inputs.includes(r) && r.consume(Number.MAX_SAFE_INTEGER, this.handler) > 0) {
      this.inflight[0] = 0;
      for (const out of this.outputs) out.commit();
    }
    r.commit();
    this.rings.delete(ringId);
    this.inputs = this.inputs.filter((x) => x !== r);
    this.outputs = this.outputs.filter((x) => x !== r);
  }

  /** Apply one control message. Public so tests can drive the loop without a thread. */
  apply(msg: ForwardingControl): void {
    switch (msg.type) {
      case 'add-vlan':
        this.engine(msg.vid);
        break;
      case 'remove-vlan':
        this.engines[msg.vid] = undefined;
        this.vids.delete(msg.vid);
        break;
      case 'add-input': {
        const r = new Ring(msg.sab);
        this.rings.set(msg.ringId, r);
        this.inputs = [...this.inputs, r];
        break;
      }
      case 'add-output': {
        const r = new Ring(msg.sab, new Doorbell(msg.doorbellSab));
        this.rings.set(msg.ringId, r);
        this.outputs = [...this.outputs, r];
        break;
      }
      case 'remove-ring':
        this.removeRing(msg.ringId);
        break;
      case 'add-port': {
        const tx = this.rings.get(msg.txRingId);
        if (tx === undefined) {
          this.send({ type: 'log', level: 'error', message: `add-port ${msg.portId}: no ring ${msg.txRingId}` });
          break;
        }
        this.engine(msg.vid).addPort(msg.portId, msg.isPeer, tx, msg.vnet ?? false, msg.floods !== false);
        break;
      }
      case 'remove-port': {
        const stats = this.engines[msg.vid]?.removePort(msg.portId);
        if (stats !== undefined) this.send({ type: 'port-left', vid: msg.vid, portId: msg.portId, stats: stats.snapshot() });
        break;
      }
      case 'flush-port':
        for (const vid of this.vids) this.engines[vid]?.deleteByPort(msg.portId);
        break;
      case 'set-ageing':
        this.ageingTimeMs = msg.ageingTimeMs;
        for (const vid of this.vids) {
          const e = this.engines[vid];
          if (e !== undefined) e.fdb.ageingTimeMs = msg.ageingTimeMs;
        }
        break;
      case 'query':
        this.answer(msg.reqId, msg.what, msg.vid);
        break;
      case 'sync':
        this.reply(msg.reqId);
        break;
      case 'crash':
        // A drill: the thread dies the way a fatal bug would kill it, and the
        // main thread must notice, report and restart it.
        process.exit(70);
        break;
      case 'crash-on-frame':
        this.armDrill(msg.vid, msg.mac);
        break;
      case 'stop':
        this.stopped = true;
        for (const r of this.outputs) r.commit();
        break;
      case 'gc':
        collectGarbage();
        break;
      case 'set-limits':
        this.engine(msg.vid).setLimits(msg.limits);
        break;
      case 'observe':
      case 'unobserve':
        this.observe(msg);
        break;
    }
  }

  /** Start or stop a capture's or mirror's watch on a VLAN; the engine holds an observer only while one watches. */
  private observe(msg: Extract<ForwardingControl, { type: 'observe' | 'unobserve' }>): void {
    const e = this.engine(msg.vid);
    if (msg.type === 'unobserve') {
      e.observer?.remove(msg.id);
      if (e.observer?.empty === true) e.observer = null;
      return;
    }
    const ring = this.rings.get(msg.ringId);
    if (ring === undefined) {
      this.send({ type: 'log', level: 'error', message: `observe ${msg.id}: no ring ${msg.ringId}` });
      return;
    }
    e.observer ??= new FrameObserver(msg.vid);
    e.observer.add({ id: msg.id, portId: msg.portId, ring, mirror: msg.mirror, skipPort: msg.skipPort, meta: msg.meta });
  }

  /**
   * The drill of a frame that kills the thread: from now on a frame of `vid` from `mac`
   * ends it as a bug on that frame would, before the batch it is in is released, so
   * every restarted thread reads it again (until main takes the VLAN down). The check
   * runs only while armed: the per-frame path swaps handlers instead of testing a flag.
   */
  private armDrill(vid: number, mac: number): void {
    this.drillVid = vid;
    this.drillMac = mac;
    this.handler = (buf, off, len, meta) => {
      if (metaVid(meta) === this.drillVid && len >= metaHdrLen(meta) + 14 && srcMac(buf, off + metaHdrLen(meta)) === this.drillMac) {
        this.inflight[0] = meta;
        process.exit(70);
      }
      this.forward(buf, off, len, meta);
    };
  }

  private reply(reqId: number, body: Pick<Extract<ForwardingReply, { type: 'reply' }>, 'vlans' | 'macs' | 'ports'> = {}): void {
    this.send({ type: 'reply', reqId, threadId, noVlan: this.noVlanDrops, ...body });
  }

  private answer(reqId: number, what: 'vlans' | 'macs' | 'ports', vid?: number): void {
    const now = Date.now();
    if (what === 'macs') {
      const e = vid === undefined ? undefined : this.engines[vid];
      this.reply(reqId, { macs: e === undefined ? [] : e.fdb.entries(now) });
      return;
    }
    const selected = [...this.vids].filter((v) => vid === undefined || v === vid).sort((a, b) => a - b);
    if (what === 'vlans') {
      const vlans = selected.map((v): VlanReport => {
        const e = this.engines[v] as VlanEngine;
        return { vid: v, ports: e.ports.length, macs: e.fdb.liveCount(now), counters: VLAN_COUNTERS.toRecord(e.counts()) };
      });
      this.reply(reqId, { vlans });
      return;
    }
    const ports: PortReport[] = [];
    for (const v of selected) {
      for (const p of (this.engines[v] as VlanEngine).ports) ports.push({ vid: v, portId: p.id, ...p.stats.snapshot() });
    }
    this.reply(reqId, { ports });
  }
}
