// QemuPorts: the main thread's side of QEMU ports. A listener is a socket main opens
// (src/linux/stream-socket.ts), so an error is reported where `listen` was typed; it is
// served by the QEMU I/O thread beside its VLAN's forwarding thread (src/qemu/qemu-thread.ts),
// which accepts. Each accepted connection becomes a port of the listener's VLAN with a
// ring pair of its own to the forwarding thread — so a VM that floods or stops reading
// fills only its own rings — and leaves with its MACs when the connection ends. A trunk
// listener (vid 0, `listen ... trunk VLANS`) has a QEMU I/O thread of its own, and each of
// its connections a port per member VLAN and a ring pair per forwarding thread of them
// (src/qemu/qemu-trunk-conns.ts). Main thread.
//
// Limits: a connection past its listener's max-connections, past the switch's
// --max-connections, or whose queues the memory budget (src/forwarding/ring-table.ts) has
// no room for is closed at once, counted under LISTENER_REFUSALS and logged (rate-limited,
// src/core/log-limiter.ts: any local user can connect). Each connection reserves its worst case: both rings and
// the unsent batch its QEMU I/O thread may keep for a VM that stops reading.

import { rmSync } from 'node:fs';
import { DivesError } from '../core/errors.js';
import { LISTENER_REFUSAL, LISTENER_REFUSALS } from '../core/counters.js';
import { ringPair } from '../core/io-messages.js';
import type { PortDrops } from '../core/port-kind.js';
import type { KindThread, PortKindProvider } from '../core/port-kind-provider.js';
import { ringMeta } from '../core/ring-record.js';
import { closeFd } from '../linux/stream-socket.js';
import { openListener } from './listener-socket.js';
import { formatListenSpec, type ListenSpec } from './listen-spec.js';
import type { QemuConnStats, QemuEvent } from './qemu-io-messages.js';
import { QemuThread, type QemuThreadOwner } from './qemu-thread.js';
import { QEMU_STAGE_BYTES } from './qemu-io.js';
import { QemuTrunk, QemuTrunkConns, type TrunkConn } from './qemu-trunk-conns.js';
import type { Logger } from '../core/log.js';
import { LogLimiter } from '../core/log-limiter.js';
import { EventBus } from '../core/event-bus.js';
import type { PortKindParts } from '../forwarding/port-kind-parts.js';

/**
 * Each direction of a QEMU port queues this much: a VM's frames are plain (at most 64 KiB),
 * so this holds 16 of the largest and about 680 of 1514 bytes. Pages become resident only
 * as the ring fills.
 */
export const QEMU_RING_BYTES = 1 << 20;
/** What one connection reserves of the memory budget: its two rings and the unsent batch. */
export const QEMU_CONN_BYTES = 2 * QEMU_RING_BYTES + QEMU_STAGE_BYTES;
/** QEMU connections of the whole switch at most, by default (--max-connections). */
export const DEFAULT_MAX_CONNECTIONS = 256;

export type ListenerRefusal = (typeof LISTENER_REFUSALS.names)[number];

/** A QEMU listener, as `show listeners` prints it. */
export interface ListenerInfo {
  /** Its VLAN; 0 for a trunk listener, whose VLANs `trunk` gives. */
  vid: number;
  spec: ListenSpec;
  address: string; // "127.0.0.1:4000" or "unix:/run/dives/vm.sock"
  connections: number;
  /** Connections it takes at most (`listen ... max-connections N`); null: only the switch's limit. */
  maxConnections: number | null;
  /** Connections it closed at once, by why. */
  refused: Record<ListenerRefusal, number>;
  /** up: accepting; down: not, for `reason` (its QEMU I/O thread is down). */
  state: 'up' | 'down';
  reason: string | null;
  /** A trunk listener's VLANs, native VLAN, and the frames its connections sent that no VLAN took (TRUNK_DROPS). */
  trunk?: ReturnType<QemuTrunk['info']>;
}

/** The refusal of `listen` on an address a listener of VLAN `vid` holds already. */
export function listenerClash(address: string, vid: number): DivesError {
  return new DivesError('EATTACHED', `listen ${address}: already listening for VLAN ${vid}`);
}

/** The refusal of `no listen` for an address VLAN `vid` does not listen on. */
export function notListening(spec: ListenSpec, vid: number): DivesError {
  const where = vid === 0 ? 'for trunks' : `in VLAN ${vid}`;
  return new DivesError('ENOTATTACHED', `no listen ${formatListenSpec(spec)}: not listening on it ${where}; "show listeners" lists them`);
}

interface ListenerRec {
  id: number;
  vid: number;
  spec: ListenSpec;
  address: string;
  fd: number;
  thread: QemuThread;
  conns: Set<number>;
  max: number | null;
  /** Indexed by LISTENER_REFUSAL. */
  refused: Float64Array;
  trunk: QemuTrunk | null;
}

interface ConnRec {
  connId: number;
  portId: number;
  vid: number;
  listenerId: number;
  rxRingId: number;
  txRingId: number;
  live: boolean;
  /** A trunk connection's ports and pairs (its vid, rings and port above are unused). */
  trunk: TrunkConn | null;
}

export class QemuPorts implements QemuThreadOwner, PortKindProvider {
  readonly kind = 'qemu';
  readonly remote = false;
  /** A VM takes plain Ethernet frames only. */
  readonly offloads = { fromTaps: false, fromPeers: false };
  private readonly beside = new Map<number, QemuThread>();
  /** Trunk listener id → its own QEMU I/O thread. */
  private readonly trunkThreads = new Map<number, QemuThread>();
  private readonly trunkConns: QemuTrunkConns;
  private readonly listeners = new Map<number, ListenerRec>();
  /** connId → its port, once placed. */
  private readonly connPort = new Map<number, ConnRec>();
  private nextListener = 1;
  private closed = false;
  readonly log: Logger;
  readonly maxFrame: number;

  get traceSab(): SharedArrayBuffer {
    return this.parts.pool.trace.sab;
  }

  constructor(
    private readonly parts: PortKindParts,
    /** QEMU connections of the whole switch at most (--max-connections). */
    readonly maxConnections = DEFAULT_MAX_CONNECTIONS,
  ) {
    this.log = parts.log;
    this.maxFrame = parts.maxFrame;
    this.trunkConns = new QemuTrunkConns(parts, QEMU_RING_BYTES);
  }

  private allThreads(): QemuThread[] {
    return [...this.beside.values(), ...this.trunkThreads.values()];
  }

  /** Ask every QEMU I/O thread to collect garbage (src/switch/memory-reclaim.ts). */
  gc(): void {
    for (const t of this.allThreads()) t.io.post({ type: 'gc' });
  }

  /** The QEMU I/O threads, for `show threads`. */
  threads(): KindThread[] {
    return this.allThreads().map((t) => ({ io: t.io.supervisor, cpu: t.io.cpu, wakeups: t.io.wakeups }));
  }

  /** The QEMU I/O thread beside forwarding thread `index`, started on first use. */
  private thread(index: number, cpu: number): QemuThread {
    let t = this.beside.get(index);
    if (t === undefined) {
      t = new QemuThread(index, cpu, this);
      this.beside.set(index, t);
    }
    return t;
  }

  onEvent(t: QemuThread, e: QemuEvent): void {
    switch (e.type) {
      case 'connected':
        void this.place(t, e.connId, e.listenerId, e.remote);
        break;
      case 'attached': {
        const c = this.connPort.get(e.connId);
        if (c !== undefined) c.live = true;
        break;
      }
      case 'disconnected':
        void this.unplace(e.connId, e.reason, e.drops, e.members);
        break;
    }
  }

  onDeath(_t: QemuThread, connIds: number[]): void {
    for (const connId of connIds) void this.unplace(connId, 'its QEMU I/O thread died');
  }

  onDown(t: QemuThread, reason: string): void {
    this.log.error(`listeners ${[...this.listeners.values()].filter((l) => l.thread === t).map((l) => l.address).join(', ') || 'none'} are down: ${reason}`);
  }

  /** Stop every QEMU I/O thread as a crash would (the `debug crash-qemu` command, for drills and tests). */
  async crash(): Promise<void> {
    const running = this.allThreads().filter((t) => t.io.supervisor.state === 'up');
    if (running.length === 0) throw new DivesError('EBADARG', 'no QEMU I/O thread runs (nothing listens)');
    await Promise.all(running.map((t) => t.io.crash()));
  }

  /** QEMU ports of a VLAN that are fully attached (reading and writing). */
  livePorts(vid?: number): number {
    return [...this.connPort.values()].filter((c) => c.live && (vid === undefined || c.vid === vid || c.trunk?.members.some((m) => m.vid === vid) === true)).length;
  }

  list(vid?: number): ListenerInfo[] {
    return [...this.listeners.values()]
      .filter((l) => vid === undefined || l.vid === vid || l.trunk?.vids.includes(vid) === true)
      .map((l) => {
        const st = l.thread.io.supervisor.status();
        const down = st.state === 'down';
        return { ...this.info(l), state: down ? 'down' : 'up', reason: down ? `${l.thread.name} is down: ${st.reason}` : null };
      });
  }

  private find(vid: number, spec: ListenSpec): ListenerRec | undefined {
    const want = formatListenSpec(spec);
    return [...this.listeners.values()].find((l) => l.vid === vid && l.address === want);
  }

  private info(l: ListenerRec): ListenerInfo {
    const info: ListenerInfo = { vid: l.vid, spec: l.spec, address: l.address, connections: l.conns.size, maxConnections: l.max, refused: LISTENER_REFUSALS.toRecord(l.refused), state: 'up', reason: null };
    return l.trunk === null ? info : { ...info, trunk: l.trunk.info() };
  }

  /** Listen in VLAN `vid`, or, with `trunk` (vid 0), for trunk connections of its VLANs. */
  async listen(vid: number, spec: ListenSpec, maxConnections: number | null = null, trunk: QemuTrunk | null = null): Promise<ListenerInfo> {
    const address = formatListenSpec(spec);
    const clash = [...this.listeners.values()].find((l) => l.address === address);
    if (clash !== undefined) throw listenerClash(address, clash.vid);
    if (trunk !== null) this.parts.rings.ensureRoom(this.trunkConns.ringBytesOf(trunk) + QEMU_STAGE_BYTES, `listen ${address} trunk`);
    const fd = await openListener(spec, this.log);
    const id = this.nextListener++;
    const t = trunk === null ? this.besideVlan(vid) : new QemuThread(-1, -1, this, `qemu-io:trunk:${address}`);
    if (trunk !== null) this.trunkThreads.set(id, t);
    const l: ListenerRec = { id, vid: trunk === null ? vid : 0, spec, address, fd, thread: t, conns: new Set(), max: maxConnections, refused: LISTENER_REFUSALS.create(), trunk };
    this.listeners.set(id, l);
    t.listen({ type: 'listen', listenerId: id, fd, tcp: spec.kind === 'tcp', path: spec.kind === 'unix' ? spec.path : null });
    const where = trunk === null ? `VLAN ${vid}` : `a trunk of VLANs ${trunk.info().vlans}${trunk.native === 0 ? '' : `, native VLAN ${trunk.native}`}`;
    this.log.info(`listening for QEMU on ${address} (${where})${maxConnections === null ? '' : `, ${maxConnections} connections at most`}`);
    return this.info(l);
  }

  /** The QEMU I/O thread beside VLAN `vid`'s forwarding thread: a listener's connections are served there. */
  private besideVlan(vid: number): QemuThread {
    const fw = this.parts.pool.place(vid);
    return this.thread(fw.index, fw.cpu);
  }

  async unlisten(vid: number, spec: ListenSpec): Promise<void> {
    const l = this.find(vid, spec);
    if (l === undefined) throw notListening(spec, vid);
    await this.drop(l);
    this.log.info(`stopped listening on ${l.address}`);
  }

  /** Stop accepting on a listener (its thread closes its connections), then close its socket. */
  private async drop(l: ListenerRec): Promise<void> {
    this.listeners.delete(l.id);
    l.thread.listens.delete(l.id);
    if (l.thread.io.supervisor.state === 'up') await l.thread.request({ type: 'unlisten', listenerId: l.id }).catch(() => undefined);
    closeFd(l.fd);
    if (l.spec.kind === 'unix') rmSync(l.spec.path, { force: true });
    // A trunk listener's thread served it alone. It may stop before it reported each
    // connection it closed: what it did not report goes here.
    if (this.trunkThreads.delete(l.id)) {
      await l.thread.close();
      for (const connId of [...l.conns]) await this.unplace(connId, 'its listener was closed');
    }
  }

  /** Per-connection counters from every QEMU I/O thread, by port id. */
  async stats(): Promise<Map<number, QemuConnStats>> {
    const all = await Promise.all(this.allThreads().map((t) => t.stats().catch(() => [])));
    return new Map(all.flat().filter((c) => c.portId >= 0).map((c) => [c.portId, c]));
  }

  /** What the QEMU I/O threads dropped on a port, for `show ports`. */
  async ioDrops(): Promise<Map<number, PortDrops>> {
    return new Map([...(await this.stats())].map(([portId, c]) => [portId, c.drops]));
  }

  /** A VM connected: give it a port in its listener's VLAN and a ring pair, then let it send. */
  private async place(t: QemuThread, connId: number, listenerId: number, remote: string): Promise<void> {
    const l = this.listeners.get(listenerId);
    if (l === undefined || this.closed) {
      t.post({ type: 'close', connId });
      return;
    }
    const why = this.refusal(l);
    if (why !== null) {
      t.post({ type: 'close', connId });
      this.refused(l, why, remote);
      return;
    }
    this.parts.rings.reserve(QEMU_STAGE_BYTES, `qemu:${l.address}#${connId} unsent batch`);
    if (l.trunk !== null) return this.placeTrunk(t, connId, l, remote);
    const port = this.parts.ports.add('qemu', l.vid, `qemu:${l.address}#${connId}`);
    const fw = this.parts.pool.place(l.vid);
    const io = t.name;
    const rx = this.parts.rings.create(QEMU_RING_BYTES, fw.bell, { name: `${port.name} rx`, producer: io, consumer: fw.name });
    const tx = this.parts.rings.create(QEMU_RING_BYTES, t.io.bell, { name: `${port.name} tx`, producer: fw.name, consumer: io });
    fw.configure(`ring:${rx.id}`, { type: 'add-input', ringId: rx.id, sab: rx.ring.sab });
    fw.configure(`ring:${tx.id}`, { type: 'add-output', ringId: tx.id, sab: tx.ring.sab, doorbellSab: t.io.bell.sab });
    fw.configure(`port:${port.id}`, { type: 'add-port', vid: l.vid, portId: port.id, isPeer: false, txRingId: tx.id });
    this.connPort.set(connId, { connId, portId: port.id, vid: l.vid, listenerId, rxRingId: rx.id, txRingId: tx.id, live: false, trunk: null });
    l.conns.add(connId);
    // The forwarding thread must know the port before its first frame arrives.
    await fw.request({ type: 'sync' }).catch(() => undefined);
    t.post({ type: 'port', connId, portId: port.id, meta: ringMeta(l.vid, port.id), pair: ringPair(rx.ring, fw.bell, tx.ring) });
    // Anyone who can reach a listener connects at will: the event's log lines are rate-limited.
    EventBus.of(this.log).emit({ kind: 'vm-connected', vid: l.vid, portId: port.id, port: port.name, remote, listener: l.address });
  }

  /** placeTrunk: place() for a connection to a trunk listener, its stage reserved already. */
  private async placeTrunk(t: QemuThread, connId: number, l: ListenerRec, remote: string): Promise<void> {
    const trunk = l.trunk as QemuTrunk;
    const { conn, msg } = this.trunkConns.make(t.io, connId, l.address, trunk);
    const rec: ConnRec = { connId, portId: conn.members[0].portId, vid: 0, listenerId: l.id, rxRingId: -1, txRingId: -1, live: false, trunk: conn };
    this.connPort.set(connId, rec);
    l.conns.add(connId);
    // The forwarding threads must know the ports before the first frame arrives.
    await Promise.all(conn.pairs.map((p) => p.fw.request({ type: 'sync' }).catch(() => undefined)));
    t.post(msg);
    EventBus.of(this.log).emit({ kind: 'vm-connected', vid: conn.members[0].vid, portId: rec.portId, port: `qemu:${l.address}#${connId}`, remote, listener: l.address });
  }

  private async unplace(connId: number, reason: string, drops: PortDrops = {}, members: QemuConnStats[] = []): Promise<void> {
    const c = this.connPort.get(connId);
    if (c === undefined) return;
    this.connPort.delete(connId);
    this.listeners.get(c.listenerId)?.conns.delete(connId);
    if (c.trunk !== null) {
      await this.trunkConns.remove(c.trunk, members);
      EventBus.of(this.log).emit({ kind: 'vm-disconnected', vid: c.trunk.members[0].vid, portId: c.portId, port: `qemu trunk connection ${connId}`, reason });
      this.parts.rings.release(QEMU_STAGE_BYTES);
      return;
    }
    const fw = this.parts.pool.threadOf(c.vid);
    if (fw !== undefined) {
      // The rx ring first: the forwarding thread forwards what is left in it while the port exists.
      fw.unconfigure([`ring:${c.rxRingId}`], { type: 'remove-ring', ringId: c.rxRingId });
      fw.unconfigure([`port:${c.portId}`], { type: 'remove-port', vid: c.vid, portId: c.portId });
      fw.unconfigure([`ring:${c.txRingId}`], { type: 'remove-ring', ringId: c.txRingId });
      await fw.request({ type: 'sync' }).catch(() => undefined);
    }
    EventBus.of(this.log).emit({ kind: 'vm-disconnected', vid: c.vid, portId: c.portId, port: this.parts.ports.get(c.portId)?.name ?? `qemu port ${c.portId}`, reason });
    this.parts.left.ioThread(c.vid, this.parts.ports.get(c.portId)?.name ?? `qemu port ${c.portId}`, drops);
    this.parts.rings.release(QEMU_STAGE_BYTES);
    this.parts.rings.remove(c.rxRingId);
    this.parts.rings.remove(c.txRingId);
    this.parts.ports.remove(c.portId);
  }

  /** Why a new connection to `l` is refused, or null when it is taken. */
  private refusal(l: ListenerRec): ListenerRefusal | null {
    if (l.max !== null && l.conns.size >= l.max) return 'listener-full';
    if (this.connPort.size >= this.maxConnections) return 'switch-full';
    if (!this.parts.rings.fits(l.trunk === null ? QEMU_CONN_BYTES : this.trunkConns.ringBytesOf(l.trunk) + QEMU_STAGE_BYTES)) return 'memory-budget';
    return null;
  }

  private refused(l: ListenerRec, why: ListenerRefusal, remote: string): void {
    l.refused[LISTENER_REFUSAL[why]]++;
    const limit = why === 'listener-full' ? `its max-connections (${l.max})` : why === 'switch-full' ? `the switch's --max-connections (${this.maxConnections})` : `the memory budget (${this.budgetText()})`;
    // Anyone local may connect again and again: rate-limited like every line an outsider causes.
    LogLimiter.of(this.log).warn('qemu-refused', `qemu ${remote} refused on ${l.address} (VLAN ${l.vid}): ${limit} reached; counted in "show listeners"`);
  }

  private budgetText(): string {
    const b = this.parts.rings.budget();
    return `${(b.reservedBytes / 2 ** 20).toFixed(0)} of ${(b.budgetBytes / 2 ** 20).toFixed(0)} MiB reserved`;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.allThreads().map((t) => t.close()));
    for (const l of this.listeners.values()) {
      closeFd(l.fd);
      if (l.spec.kind === 'unix') rmSync(l.spec.path, { force: true });
    }
    this.listeners.clear();
  }
}
