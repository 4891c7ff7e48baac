// QemuIo: the QEMU ports of the VLANs of one forwarding thread. It accepts connections
// on their listeners (`-netdev socket,connect=` / `-netdev stream` clients), and serves
// each connection that main gave a port: what the VM sends is read in batches, cut into
// frames (src/qemu/qemu-framer.ts) and queued on the connection's rx ring to the
// forwarding thread; what the forwarding thread queued on the connection's tx ring is
// staged, each frame behind its length and padded to 60 bytes, and written in one call
// per batch. A trunk listener's connections (served by a thread of their own) are untagged
// into the rx ring of their frame's VLAN (src/core/trunk-demux.ts) and their frames out
// tagged with their VLAN, untagged in the native one. Runs on a QEMU I/O thread, an
// IoLoop (src/core/io-loop.ts): a blocking loop over raw fds through libc, no event loop,
// sleeping in poll() on every fd and its doorbell's eventfd.
//
// Thread safety: this thread is the single producer of its connections' rx rings and the
// single consumer of their tx rings. Main's messages arrive on the Worker port and are
// read between batches once the doorbell's CONTROL count moves; the listening fds belong
// to main, the connections' fds to this thread, which closes them.
//
// Per frame nothing here allocates: reads go into one buffer per thread, frames to send
// into one stage per thread, and a connection keeps only what its socket did not take.

import type { MessagePort } from 'node:worker_threads';
import { ETH_ZLEN } from '../core/frame.js';
import { PORT_DROPS } from '../core/counters.js';
import type { FrameHandler } from '../core/ring.js';
import { metaVid } from '../core/ring-record.js';
import { tagInto } from '../core/trunk-demux.js';
import { VLAN_TAG_LEN } from '../core/vlan-tag.js';
import { STAGE_PICKED, TRACE_MASK } from '../core/frame-trace.js';
import { IoLoop } from '../core/io-loop.js';
import { attachPair, type IoCommonEvent } from '../core/io-messages.js';
import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, describeErrno } from '../linux/libc.js';
import { PollSet } from '../linux/poll-set.js';
import { acceptStream, closeFd, formatPeer } from '../linux/stream-socket.js';
import { SOCKADDR_MAX } from '../linux/udp-socket.js';
import { QemuConn } from './qemu-conn.js';
import { QEMU_HDR_LEN, writeQemuHeader } from './qemu-framer.js';
import type { QemuConnStats, QemuControl, QemuEvent, QemuIoStart } from './qemu-io-messages.js';

/** One read per connection per turn: at most this much of what a VM sent, so no VM starves the others. */
const READ_BYTES = 256 * 1024;
/** The stage a batch to one VM is written from. */
export const QEMU_STAGE_BYTES = 1024 * 1024;
/**
 * Frames per batch to one VM, and the bytes of them that always fit in the stage with
 * their lengths and padding (at most 4 + 46 bytes a frame). As many as a read brings in:
 * a batch as small as a read is large would let the other direction outrun it.
 */
const BATCH = 4096;
const BATCH_BYTES = QEMU_STAGE_BYTES - BATCH * (QEMU_HDR_LEN + VLAN_TAG_LEN + ETH_ZLEN - 14);
/** The shortest tagged frame: one that is ETH_ZLEN untagged. */
const TAGGED_ZLEN = ETH_ZLEN + VLAN_TAG_LEN;
/** How long to sleep while a VM waits for room in its rx ring: the forwarding thread frees it without a wake-up. */
const BLOCKED_SLEEP_MS = 1;

interface Listener {
  id: number;
  fd: number;
  tcp: boolean;
  path: string | null;
}

export class QemuIo extends IoLoop<QemuIoStart, QemuControl, QemuEvent, QemuConnStats[]> {
  protected readonly polled = 'QEMU sockets';
  private readonly listeners = new Map<number, Listener>();
  private readonly conns = new Map<number, QemuConn>();
  /** The attached connections, for the per-turn loops; rebuilt when one comes or goes. */
  private live: QemuConn[] = [];
  private readonly set = new PollSet(16);
  /** What each poll slot (from 1) is: a listener or a connection. */
  private slots: (Listener | QemuConn)[] = [];
  private setDirty = true;
  private nextConn: number;
  /** Some VM waits for room in its rx ring (the next sleep is short). */
  private blocked = false;
  private readonly readBuf = Buffer.allocUnsafe(READ_BYTES);
  private readonly stage = Buffer.allocUnsafe(QEMU_STAGE_BYTES);
  private stageLen = 0;
  /** The native VLAN of the trunk connection being staged for (0: none), or -1 for an access connection: nothing is tagged. */
  private stageNative = -1;
  private readonly stageFrame: FrameHandler;
  /** Metas of the traced frames of the batch being staged, finished once it is written. */
  private readonly traced = new Int32Array(8);
  private tracedCount = 0;
  private readonly peer = Buffer.alloc(SOCKADDR_MAX);
  private readonly peerLen = new Uint32Array(1);

  constructor(start: QemuIoStart, control: MessagePort, emit: (e: QemuEvent | IoCommonEvent<QemuConnStats[]>) => void) {
    super(start, control, emit);
    this.nextConn = start.firstConnId;
    // One closure for the life of the thread: the tx rings call it per frame.
    this.stageFrame = (buf, off, len, meta) => {
      if ((meta & TRACE_MASK) !== 0) this.tracePicked(meta);
      const stage = this.stage;
      const at = this.stageLen + QEMU_HDR_LEN;
      const vid = this.stageNative < 0 ? -1 : metaVid(meta);
      const tagged = vid >= 0 && vid !== this.stageNative;
      const flen = tagged ? len + VLAN_TAG_LEN : len;
      const min = tagged ? TAGGED_ZLEN : ETH_ZLEN;
      const wire = flen < min ? min : flen;
      writeQemuHeader(wire, stage, this.stageLen);
      if (tagged) tagInto(stage, at, buf, off, len, vid);
      else buf.copy(stage, at, off, off + len);
      if (wire > flen) stage.fill(0, at + flen, at + wire);
      this.stageLen = at + wire;
    };
  }

  /** One turn of every attached connection; while some keep the thread busy, the others' input is asked for too. */
  protected turn(): boolean {
    let work = 0;
    let blocked = false;
    const live = this.live;
    for (let i = 0; i < live.length; i++) {
      work += this.serve(live[i]);
      blocked ||= live[i].blocked;
    }
    this.blocked = blocked;
    if (this.setDirty) this.rebuild();
    if (work === 0) return false;
    // Busy: ask poll() without waiting which other connections have input, or one
    // that went quiet for a moment would not be read again while the others keep the
    // thread busy (they stay readable while each read fills its buffer).
    if (this.set.poll(0) > 0) this.ready();
    return true;
  }

  protected pending(): boolean {
    return this.anyTx();
  }

  /** While a VM waits for room in its rx ring, a short sleep: the forwarding thread frees it without a wake-up. */
  protected sleep(ms: number): number {
    const r = this.bell.sleepPollSet(this.set, this.blocked ? BLOCKED_SLEEP_MS : ms);
    if (r < 0) return r;
    if (r > 0) this.ready();
    return 0;
  }

  /** Its connections are closed on the way out. */
  protected override finish(): void {
    for (const c of [...this.conns.values()]) this.close(c, 'the switch is stopping');
  }

  protected report(): QemuConnStats[] {
    return [...this.conns.values()].flatMap((c) => c.snapshots());
  }

  /** One turn of one connection: a read if it may have input, pending bytes out, then a batch from its tx ring. */
  private serve(c: QemuConn): number {
    let work = 0;
    if (c.readable) {
      const max = c.readBudget(READ_BYTES);
      if (max === 0) {
        if (!c.blocked) this.block(c, true);
      } else {
        if (c.blocked) this.block(c, false);
        const r = c.receive(this.readBuf, max);
        c.readable = r === max;
        if (r > 0) work++;
      }
    }
    // One batch per tx ring (a trunk connection has one per forwarding thread), while the socket takes them.
    this.stageNative = c.demux === null ? -1 : c.demux.native;
    for (let i = 0; i < c.txs.length && c.closed === null && c.flushPending(); i++) {
      this.stageLen = 0;
      const n = c.txs[i].consume(BATCH, this.stageFrame, BATCH_BYTES);
      if (n > 0) {
        c.send(this.stage, this.stageLen, n);
        if (this.tracedCount > 0) this.traceWritten();
        // Bytes left over wait for POLLOUT; the set must ask for it.
        if (c.pendingLen > 0) this.events(c);
        work++;
      }
    }
    if (c.closed !== null) this.close(c, c.closed);
    return work;
  }

  private tracePicked(meta: number): void {
    this.trace.stamp(meta, STAGE_PICKED);
    if (this.tracedCount < this.traced.length) this.traced[this.tracedCount++] = meta;
  }

  private traceWritten(): void {
    for (let i = 0; i < this.tracedCount; i++) this.trace.finish(this.traced[i]);
    this.tracedCount = 0;
  }

  private anyTx(): boolean {
    const live = this.live;
    for (let i = 0; i < live.length; i++) {
      if (live[i].pendingLen > 0) continue;
      const txs = live[i].txs;
      for (let j = 0; j < txs.length; j++) if (!txs[j].isEmpty()) return true;
    }
    return false;
  }

  /** After poll(): mark readable connections, write to writable ones, accept on listeners. */
  private ready(): void {
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) {
      const rev = this.set.revents(i + 1);
      if (rev === 0) continue;
      const s = slots[i];
      if (s instanceof QemuConn) {
        if (!s.attached) {
          // Not read until it has a port; a hang-up meanwhile ends it at once.
          if ((rev & (POLLHUP | POLLERR | POLLNVAL)) !== 0) this.close(s, 'closed before it was attached');
          continue;
        }
        if ((rev & (POLLIN | POLLHUP | POLLERR)) !== 0) s.readable = true;
        if ((rev & POLLOUT) !== 0 && s.pendingLen > 0 && s.flushPending()) this.events(s);
        if (s.closed !== null) this.close(s, s.closed);
      } else if ((rev & POLLIN) !== 0) {
        this.accept(s);
      }
    }
  }

  private accept(l: Listener): void {
    for (;;) {
      const fd = acceptStream(l.fd, l.tcp, this.peer, this.peerLen);
      if (fd === 0) return;
      if (fd < 0) {
        this.log('warn', 'qemu-accept', `listener ${l.id}: accept: ${describeErrno(-fd)}`);
        return;
      }
      const remote = l.tcp ? formatPeer(this.peer) : `unix:${l.path}`;
      const c = new QemuConn(this.nextConn++, fd, l.id, remote, this.start.maxFrame, this.trace);
      this.conns.set(c.id, c);
      this.setDirty = true;
      this.emit({ type: 'connected', connId: c.id, listenerId: l.id, fd, remote });
    }
  }

  private close(c: QemuConn, reason: string): void {
    if (!this.conns.has(c.id)) return;
    this.conns.delete(c.id);
    closeFd(c.fd);
    this.live = this.live.filter((x) => x !== c);
    this.setDirty = true;
    if (reason.startsWith('bad frame')) this.log('warn', 'qemu-bad-frame', `qemu port ${c.portId} (${c.remote}): closing: ${reason}`);
    const members = c.demux === null ? undefined : c.snapshots();
    this.emit({ type: 'disconnected', connId: c.id, portId: c.portId, reason, drops: PORT_DROPS.toRecord(c.drops), members });
  }

  /** A VM's rx ring is full (or has room again): stop (or start) polling it for input. */
  private block(c: QemuConn, on: boolean): void {
    c.blocked = on;
    this.events(c);
  }

  /** What the poll set asks of a connection (QemuConn.pollFd, pollEvents). */
  private events(c: QemuConn): void {
    if (c.slot > 0) this.set.set(c.slot, c.pollFd(), c.pollEvents());
  }

  /** The poll set again, after a listener or connection came or went: listeners for input, connections as events() says. */
  private rebuild(): void {
    this.setDirty = false;
    this.slots = [...this.listeners.values(), ...this.conns.values()];
    this.set.count = 1;
    this.slots.forEach((s, i) => {
      if (s instanceof QemuConn) {
        s.slot = i + 1;
        this.events(s);
      } else {
        this.set.set(i + 1, s.fd, POLLIN);
      }
    });
  }

  private attached(c: QemuConn): void {
    this.live = [...this.live, c];
    this.setDirty = true;
    this.emit({ type: 'attached', connId: c.id, portId: c.portId });
  }

  /** Apply one control message from main. */
  protected handle(msg: QemuControl): void {
    switch (msg.type) {
      case 'listen':
        this.listeners.set(msg.listenerId, { id: msg.listenerId, fd: msg.fd, tcp: msg.tcp, path: msg.path });
        this.setDirty = true;
        break;
      case 'unlisten':
        this.listeners.delete(msg.listenerId);
        for (const c of [...this.conns.values()]) if (c.listenerId === msg.listenerId) this.close(c, 'its listener was closed');
        this.setDirty = true;
        this.emit({ type: 'done', reqId: msg.reqId });
        break;
      case 'port': {
        const c = this.conns.get(msg.connId);
        if (c === undefined) {
          // It hung up while main was placing it: tell main to take the port back.
          this.emit({ type: 'disconnected', connId: msg.connId, portId: msg.portId, reason: 'closed before it was attached' });
          break;
        }
        const { rx, tx } = attachPair(msg.pair);
        c.attach(msg.portId, msg.meta, rx, tx);
        this.attached(c);
        break;
      }
      case 'trunk-port': {
        const c = this.conns.get(msg.connId);
        if (c === undefined) {
          this.emit({ type: 'disconnected', connId: msg.connId, portId: msg.members[0].portId, reason: 'closed before it was attached' });
          break;
        }
        const pairs = msg.pairs.map(attachPair);
        c.attachTrunk(msg.native, msg.members, pairs.map((p) => p.rx), pairs.map((p) => p.tx), msg.countersSab, this.trace);
        this.attached(c);
        break;
      }
      case 'close': {
        const c = this.conns.get(msg.connId);
        if (c !== undefined) this.close(c, 'closed by the switch');
        break;
      }
    }
  }
}
