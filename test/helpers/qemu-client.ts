// A test client that speaks QEMU's socket netdev protocol (4-byte big-endian
// length, then the frame) to a DiVES listener, standing in for a VM, and the sentinels
// that prove a frame did not arrive at one. Test code, main thread of the ava worker.

import net from 'node:net';
import { once } from 'node:events';
import { QemuFramer } from '../../src/qemu/qemu-framer.js';
import { drainedOrClosed } from '../../src/control/byte-stream.js';
import { BCAST, SENTINEL, frame, withMarker, type Mac } from './frames.js';
import { until } from './until.js';

export class QemuClient {
  readonly frames: Buffer[] = [];
  private readonly framer: QemuFramer;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: net.Socket) {
    this.framer = new QemuFramer((buf, off, len) => {
      this.frames.push(Buffer.from(buf.subarray(off, off + len)));
      for (const w of this.waiters) w();
    });
    socket.on('data', (chunk: Buffer) => this.framer.push(chunk));
    socket.on('error', () => {});
  }

  static async connect(opts: { port: number; host?: string } | { path: string }): Promise<QemuClient> {
    const s = 'path' in opts ? net.connect(opts.path) : net.connect(opts.port, opts.host ?? '127.0.0.1');
    await once(s, 'connect');
    s.setNoDelay(true);
    return new QemuClient(s);
  }

  send(frame: Buffer): void {
    const hdr = Buffer.alloc(4);
    hdr.writeUInt32BE(frame.length, 0);
    this.socket.write(Buffer.concat([hdr, frame]));
  }

  /** Resolves once `count` frames in total have arrived, or rejects after timeoutMs. */
  async waitFrames(count: number, timeoutMs = 3000): Promise<Buffer[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`got ${this.frames.length} frames, wanted ${count}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.waiters = [];
    }
    return this.frames;
  }

  close(): void {
    this.socket.destroy();
  }
}

let sentinels = 0;

/**
 * Send a sentinel (SENTINEL in test/helpers/frames.ts) from `from`, with source MAC `src`,
 * to `dst` (a broadcast unless told; tagged `vid` if told, for a trunk), and wait until
 * each of `to` has it; the caller says
 * why it travels the path of the frame it stands for. It is sent again at each poll until
 * it arrives, since a full ring may drop a copy: every copy leaves after the frame it
 * stands for, so any one of them is proof. Returns how many copies were sent.
 */
export async function sendSentinel(from: QemuClient, src: Mac, to: QemuClient[], opts: { dst?: Mac; vid?: number; timeoutMs?: number } = {}): Promise<number> {
  const marker = `${SENTINEL}-${++sentinels}`;
  const f = frame({ dst: opts.dst ?? BCAST, src, payload: marker, vid: opts.vid });
  const timeoutMs = opts.timeoutMs ?? 5000;
  let sent = 0;
  await until(() => {
    if (sent > 0 && to.every((c) => withMarker(c, marker).length > 0)) return true;
    from.send(f);
    sent++;
    return false;
  }, timeoutMs, `sentinel ${marker}`, { everyMs: 50 });
  return sent;
}

/**
 * Send one frame over and over, in 1 MiB writes as fast as the switch takes them
 * (waiting on 'drain' when it pushes back). Resolves to a function that stops it.
 */
export function startFlood(c: QemuClient, frame: Buffer): () => Promise<void> {
  const one = Buffer.alloc(4 + frame.length);
  one.writeUInt32BE(frame.length, 0);
  frame.copy(one, 4);
  const chunk = Buffer.concat(Array.from({ length: Math.max(1, Math.floor((1 << 20) / one.length)) }, () => one));
  let flooding = true;
  const done = (async () => {
    while (flooding && !c.socket.destroyed) {
      if (c.socket.write(chunk)) {
        await new Promise((r) => setImmediate(r));
        continue;
      }
      await drainedOrClosed(c.socket);
    }
  })();
  return async () => {
    flooding = false;
    await done;
  };
}
