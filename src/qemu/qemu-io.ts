// QemuIo: every QEMU port of the switch. It runs the TCP and UNIX listeners
// that QEMU connects to (`-netdev socket,connect=` / `-netdev stream`), cuts
// each connection's byte stream into frames with a QemuFramer and queues them
// on the rx ring to the VLAN's forwarding thread; and it drains its tx rings,
// writing each frame (padded to 60 bytes, length-prefixed) to its connection.
// Runs on the QEMU I/O thread (workers/qemu-io.ts), which keeps an event loop.
//
// Thread safety: this thread is the single producer of every rx ring and the
// single consumer of every tx ring named in `rings` messages; it sleeps on its
// own doorbell with Atomics.waitAsync so its sockets keep being served.

import net from 'node:net';
import { rmSync } from 'node:fs';
import { Doorbell } from '../core/doorbell.js';
import { pumpRings } from './ring-pump.js';
import { ETH_ZLEN } from '../core/frame.js';
import { QemuFramer, FRAMER_REASON_TEXT, QEMU_HDR_LEN, writeQemuHeader } from './qemu-framer.js';
import { Ring, type FrameHandler } from '../core/ring.js';
import { metaPort, ringMeta } from '../core/ring-record.js';
import { PORT_DROP, PORT_DROPS } from '../core/counters.js';
import type { QemuConnStats, QemuControl, QemuEvent, QemuIoStart } from './qemu-io-messages.js';
import { formatListenSpec, type ListenSpec } from './listen-spec.js';

const BATCH = 256;
const D_NO_RING = PORT_DROP['no-ring'];
const D_RX_RING_FULL = PORT_DROP['rx-ring-full'];
const D_QUEUE_FULL = PORT_DROP['qemu-queue-full'];

interface Listener {
  id: number;
  vid: number;
  spec: ListenSpec;
  server: net.Server;
  conns: Set<Conn>;
}

/**
 * Bytes of one staging buffer: the frames a batch sends to one VM are written into
 * it, each behind its length, and the buffer goes to the socket in one write. A frame
 * (at most 65535 bytes plus its length) always fits.
 */
const STAGE_BYTES = 256 * 1024;
/** Staging buffers a connection keeps for reuse once the socket is done with them. */
const SPARE_STAGES = 2;

class Conn {
  portId = -1;
  meta = 0;
  rx: Ring | null = null;
  framesIn = 0;
  framesOut = 0;
  /** Indexed by PORT_DROP; this thread counts rx-ring-full, qemu-queue-full and no-ring. */
  readonly drops = PORT_DROPS.create();
  framer: QemuFramer;
  closed = false;
  /** The staging buffer of this batch, and the bytes in it. */
  out: Buffer | null = null;
  outLen = 0;
  /** Staging buffers the socket has finished writing, for the next batches. */
  readonly spare: Buffer[] = [];

  constructor(
    readonly id: number,
    readonly socket: net.Socket,
    readonly listener: Listener,
    readonly remote: string,
    maxFrame: number,
    sink: (c: Conn, buf: Buffer, off: number, len: number) => void,
  ) {
    this.framer = new QemuFramer((buf, off, len) => sink(this, buf, off, len), maxFrame);
  }
}

export class QemuIo {
  private readonly bell: Doorbell;
  private readonly listeners = new Map<number, Listener>();
  private readonly conns = new Map<number, Conn>();
  /** Connections by port id, for the tx path. */
  private readonly byPort: (Conn | undefined)[] = [];
  private readonly rxRings = new Map<number, Ring>();
  private txRings: Ring[] = [];
  private nextConn: number;
  /** Frames for a port id with no attached connection: dropped, counted. */
  private noPortDrops = 0;
  private stopped = false;
  /** Connections with a staging buffer in this batch. */
  private readonly staged: Conn[] = [];
  private readonly txHandler: FrameHandler;

  constructor(
    private readonly start: QemuIoStart,
    private readonly emit: (e: QemuEvent) => void,
  ) {
    this.bell = new Doorbell(start.doorbellSab);
    this.nextConn = start.firstConnId;
    this.txHandler = (buf, off, len, meta) => this.transmit(buf, off, len, metaPort(meta));
  }

  handle(msg: QemuControl): void {
    switch (msg.type) {
      case 'listen':
        this.listen(msg.listenerId, msg.vid, msg.spec);
        break;
      case 'unlisten':
        this.unlisten(msg.listenerId);
        break;
      case 'rings':
        this.rxRings.set(msg.fw, new Ring(msg.rxSab, new Doorbell(msg.rxDoorbellSab)));
        this.txRings = [...this.txRings, new Ring(msg.txSab)];
        break;
      case 'port': {
        const c = this.conns.get(msg.connId);
        if (c === undefined || c.closed) {
          // It hung up while main was placing it: tell main to take the port back.
          this.emit({ type: 'disconnected', connId: msg.connId, portId: msg.portId, reason: 'closed before it was attached' });
          break;
        }
        c.portId = msg.portId;
        c.meta = ringMeta(msg.vid, msg.portId);
        c.rx = this.rxRings.get(msg.fw) ?? null;
        this.byPort[msg.portId] = c;
        c.socket.resume();
        this.emit({ type: 'attached', connId: c.id, portId: c.portId });
        break;
      }
      case 'close':
        this.conns.get(msg.connId)?.socket.destroy();
        break;
      case 'stats':
        this.emit({ type: 'stats', reqId: msg.reqId, conns: [...this.conns.values()].map((c) => this.snapshot(c)), noPort: this.noPortDrops });
        break;
      case 'stop':
        this.stop();
        break;
    }
  }

  private snapshot(c: Conn): QemuConnStats {
    return { connId: c.id, portId: c.portId, remote: c.remote, framesIn: c.framesIn, framesOut: c.framesOut, drops: PORT_DROPS.toRecord(c.drops) };
  }

  private listen(id: number, vid: number, spec: ListenSpec): void {
    const server = net.createServer({ noDelay: true, pauseOnConnect: true });
    const l: Listener = { id, vid, spec, server, conns: new Set() };
    server.on('connection', (s) => this.accept(l, s));
    server.once('error', (err) => {
      this.emit({ type: 'listen-error', listenerId: id, message: err.message });
      this.listeners.delete(id);
    });
    server.once('listening', () => {
      this.listeners.set(id, l);
      server.on('error', (err) => this.emit({ type: 'log', level: 'error', message: `listener ${formatListenSpec(spec)}: ${err.message}` }));
      this.emit({ type: 'listening', listenerId: id, address: formatListenSpec(spec) });
    });
    if (spec.kind === 'tcp') server.listen({ host: spec.host, port: spec.port, exclusive: true });
    else server.listen({ path: spec.path, exclusive: true });
  }

  private unlisten(id: number): void {
    const l = this.listeners.get(id);
    if (l === undefined) {
      this.emit({ type: 'unlistened', listenerId: id });
      return;
    }
    this.listeners.delete(id);
    for (const c of l.conns) c.socket.destroy();
    l.server.close(() => {
      if (l.spec.kind === 'unix') rmSync(l.spec.path, { force: true });
      this.emit({ type: 'unlistened', listenerId: id });
    });
  }

  private accept(l: Listener, socket: net.Socket): void {
    socket.setNoDelay(true);
    const remote = l.spec.kind === 'tcp' ? `${socket.remoteAddress}:${socket.remotePort}` : `unix:${l.spec.path}`;
    const c = new Conn(this.nextConn++, socket, l, remote, this.start.maxFrame, this.receive);
    this.conns.set(c.id, c);
    l.conns.add(c);
    // pauseOnConnect stops the handle, but adding a 'data' listener would
    // resume it: pause explicitly so nothing is read before the port exists.
    socket.pause();
    socket.on('data', (chunk: Buffer) => {
      const code = c.framer.push(chunk);
      c.rx?.commit();
      if (code !== 0) {
        this.emit({
          type: 'log',
          level: 'warn',
          message: `qemu port ${c.portId} (${remote}): closing: bad frame ${FRAMER_REASON_TEXT[code]} (${c.framer.badLength})`,
        });
        socket.destroy();
      }
    });
    socket.on('error', () => {}); // 'close' follows and reports
    socket.on('close', () => {
      c.closed = true;
      this.conns.delete(c.id);
      l.conns.delete(c);
      if (c.portId >= 0 && this.byPort[c.portId] === c) this.byPort[c.portId] = undefined;
      this.emit({ type: 'disconnected', connId: c.id, portId: c.portId, reason: c.framer.error !== 0 ? FRAMER_REASON_TEXT[c.framer.error] : 'closed' });
    });
    this.emit({ type: 'connected', connId: c.id, listenerId: l.id, remote });
  }

  /** Framer sink: one frame from QEMU into the rx ring (committed after the read). */
  private readonly receive = (c: Conn, buf: Buffer, off: number, len: number): void => {
    const rx = c.rx;
    if (rx === null) c.drops[D_NO_RING]++;
    else if (rx.write(buf, off, len, c.meta) === 1) c.framesIn++;
    else c.drops[D_RX_RING_FULL]++;
  };

  /**
   * One frame from a tx ring to its QEMU connection: its length, then the frame padded
   * to the Ethernet minimum, appended to the connection's staging buffer. The batch's
   * end sends each staging buffer in one write (flush); nothing is allocated per frame.
   */
  private transmit(buf: Buffer, off: number, len: number, portId: number): void {
    const c = this.byPort[portId];
    if (c === undefined || c.closed) {
      this.noPortDrops++;
      return;
    }
    if (c.socket.writableLength + c.outLen > this.start.queueLimit) {
      // A QEMU that stops reading loses its own frames; nobody else waits for it.
      c.drops[D_QUEUE_FULL]++;
      return;
    }
    const wire = len < ETH_ZLEN ? ETH_ZLEN : len;
    if (c.out !== null && c.outLen + QEMU_HDR_LEN + wire > STAGE_BYTES) this.flush(c);
    if (c.out === null) {
      c.out = c.spare.pop() ?? Buffer.allocUnsafe(STAGE_BYTES);
      this.staged.push(c);
    }
    const out = c.out;
    const at = c.outLen + QEMU_HDR_LEN;
    writeQemuHeader(wire, out, c.outLen);
    buf.copy(out, at, off, off + len);
    if (wire > len) out.fill(0, at + len, at + wire);
    c.outLen = at + wire;
    c.framesOut++;
  }

  /** Hand a connection's staging buffer to its socket; it comes back as a spare once written. */
  private flush(c: Conn): void {
    const out = c.out;
    if (out === null) return;
    const len = c.outLen;
    c.out = null;
    c.outLen = 0;
    if (c.closed) return;
    c.socket.write(out.subarray(0, len), () => {
      if (c.spare.length < SPARE_STAGES) c.spare.push(out);
    });
  }

  /** The tx pump: drain the tx rings, then sleep on the doorbell without blocking the event loop. */
  pump(): Promise<void> {
    return pumpRings(this.bell, {
      rings: () => this.txRings,
      handler: this.txHandler,
      afterBatch: () => {
        for (const c of this.staged) this.flush(c);
        this.staged.length = 0;
      },
      ready: () => true,
      stopped: () => this.stopped,
    }, BATCH);
  }

  private stop(): void {
    this.stopped = true;
    this.bell.control();
    let open = this.listeners.size;
    const done = (): void => {
      if (--open <= 0) this.emit({ type: 'stopped' });
    };
    if (open === 0) open = 1;
    for (const c of this.conns.values()) c.socket.destroy();
    if (this.listeners.size === 0) done();
    for (const l of this.listeners.values()) {
      l.server.close(() => {
        if (l.spec.kind === 'unix') rmSync(l.spec.path, { force: true });
        done();
      });
    }
    this.listeners.clear();
  }
}
