// QemuIo: every QEMU port of the switch. It runs the TCP and UNIX listeners
// that QEMU connects to (`-netdev socket,connect=` / `-netdev stream`), cuts
// each connection's byte stream into frames with a QemuFramer and queues them
// on the rx ring to the VLAN's forwarding worker; and it drains its tx rings,
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
import { QemuFramer, FRAMER_REASON_TEXT, QEMU_HDR_LEN } from './qemu-framer.js';
import { Ring, type FrameHandler } from '../core/ring.js';
import { ringMeta } from '../forwarding/vlan-engine.js';
import type { QemuConnStats, QemuControl, QemuEvent, QemuIoStart } from './qemu-io-messages.js';
import type { ListenSpec } from '../control/switch-api.js';

const BATCH = 256;

interface Listener {
  id: number;
  vid: number;
  spec: ListenSpec;
  server: net.Server;
  conns: Set<Conn>;
}

class Conn {
  portId = -1;
  meta = 0;
  rx: Ring | null = null;
  stats: QemuConnStats;
  framer: QemuFramer;
  corked = false;
  closed = false;

  constructor(
    readonly id: number,
    readonly socket: net.Socket,
    readonly listener: Listener,
    remote: string,
    maxFrame: number,
    sink: (c: Conn, buf: Buffer, off: number, len: number) => void,
  ) {
    this.stats = { connId: id, portId: -1, remote, queueFull: 0, rxRingFull: 0, framesIn: 0, framesOut: 0 };
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
  private readonly corked: Conn[] = [];
  private readonly txHandler: FrameHandler;

  constructor(
    private readonly start: QemuIoStart,
    private readonly emit: (e: QemuEvent) => void,
  ) {
    this.bell = new Doorbell(start.doorbellSab);
    this.nextConn = start.firstConnId;
    this.txHandler = (buf, off, len, meta) => this.transmit(buf, off, len, meta & 0xffff);
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
        c.stats.portId = msg.portId;
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
        this.emit({ type: 'stats', reqId: msg.reqId, conns: [...this.conns.values()].map((c) => ({ ...c.stats })), noPort: this.noPortDrops });
        break;
      case 'stop':
        this.stop();
        break;
    }
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
      server.on('error', (err) => this.emit({ type: 'log', level: 'error', message: `listener ${describe(spec)}: ${err.message}` }));
      this.emit({ type: 'listening', listenerId: id, address: describe(spec) });
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
    if (rx === null) return;
    if (rx.write(buf, off, len, c.meta) === 1) c.stats.framesIn++;
    else c.stats.rxRingFull++;
  };

  /** One frame from a tx ring to its QEMU connection, padded to the Ethernet minimum. */
  private transmit(buf: Buffer, off: number, len: number, portId: number): void {
    const c = this.byPort[portId];
    if (c === undefined || c.closed) {
      this.noPortDrops++;
      return;
    }
    const s = c.socket;
    if (s.writableLength > this.start.queueLimit) {
      // A QEMU that stops reading loses its own frames; nobody else waits for it.
      c.stats.queueFull++;
      return;
    }
    const wire = len < ETH_ZLEN ? ETH_ZLEN : len;
    const out = Buffer.allocUnsafe(QEMU_HDR_LEN + wire);
    out.writeUInt32BE(wire, 0);
    buf.copy(out, QEMU_HDR_LEN, off, off + len);
    if (wire > len) out.fill(0, QEMU_HDR_LEN + len);
    if (!c.corked) {
      c.corked = true;
      s.cork();
      this.corked.push(c);
    }
    s.write(out);
    c.stats.framesOut++;
  }

  /** The tx pump: drain the tx rings, then sleep on the doorbell without blocking the event loop. */
  pump(): Promise<void> {
    return pumpRings(this.bell, {
      rings: () => this.txRings,
      handler: this.txHandler,
      afterBatch: () => {
        for (const c of this.corked) {
          c.corked = false;
          c.socket.uncork();
        }
        this.corked.length = 0;
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

export function describe(spec: ListenSpec): string {
  return spec.kind === 'tcp' ? `${spec.host.includes(':') ? `[${spec.host}]` : spec.host}:${spec.port}` : `unix:${spec.path}`;
}
