// The control socket: a UNIX stream server at DIR/dives.ctl that gives every
// connection its own ConsoleSession over the switch's one CommandRegistry and
// speaks the line protocol of control-protocol.ts. It claims the socket path
// (refusing a live owner, replacing a stale file), sets its permissions and
// removes it at close. Runs on the main thread, one event-loop task per request.
// Whoever may use the socket can connect at will, so every line a connection causes is
// rate-limited (src/core/log-limiter.ts). A command that streams (`monitor`) holds its
// connection until the client sends a line or closes its side; what it sends goes
// straight to the socket while the socket takes it, and is dropped (and counted by the
// stream) while it does not, so a client that stops reading costs one socket buffer.

import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { DivesError } from '../core/errors.js';
import { claimSocketPath } from '../linux/socket-path.js';
import type { Logger } from '../core/log.js';
import { LogLimiter } from '../core/log-limiter.js';
import type { CommandRegistry } from './command-registry.js';
import { ConsoleSession, type Reply, type ReplyStream } from './console-session.js';
import { CTL_SOCKET, LineReader, MAX_REQUEST_BYTES, encodeLine, encodeReply, type RequestLine } from './control-protocol.js';
import type { SwitchControl } from './commands/areas.js';
import { byteStream, drainedOrClosed, type ByteStream } from './byte-stream.js';

/** sun_path holds 108 bytes with the terminating NUL. */
const MAX_SOCKET_PATH = 107;
/** Connections at once; past it new ones are closed at once so the switch keeps its file descriptors. */
export const MAX_CONNECTIONS = 256;
/** Requests read ahead of the one running; past it the connection stops reading until they are answered. */
const MAX_QUEUED = 32;
/** How long the probe of an existing socket waits for a live switch to accept. */

export interface ControlServerOptions {
  /** The `-u DIR` directory; the socket is DIR/dives.ctl. Created if missing. */
  dir: string;
  /** A group name or number: the socket becomes 0660 and owned by that group. Default: 0600. */
  group?: string;
  registry: CommandRegistry;
  sw: SwitchControl;
  log: Logger;
}

export interface ControlServer {
  /** The socket's path. */
  readonly path: string;
  /** Connections open now. */
  readonly connections: number;
  /**
   * Start answering requests. Until then connections are accepted and their
   * requests wait, so a client that connects while the rc file runs is answered after it.
   */
  ready(): void;
  /** Stop accepting, drop every connection and remove the socket file. */
  close(): Promise<void>;
}

/** The gid of a group given by name or number. */
export function resolveGroup(group: string): number {
  if (/^[0-9]+$/.test(group)) return Number(group);
  // getent sees every group the system knows (files, LDAP, ...); /etc/group is the fallback without it.
  let entry: string;
  try {
    entry = execFileSync('getent', ['group', group], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    try {
      entry = readFileSync('/etc/group', 'utf8')
        .split('\n')
        .find((l) => l.split(':')[0] === group) ?? '';
    } catch {
      entry = '';
    }
  }
  const gid = Number(entry.trim().split(':')[2]);
  if (entry === '' || !Number.isInteger(gid)) {
    throw new DivesError('EBADARG', `--ctl-group ${group}: no such group; create it (groupadd ${group}) or give a group number`);
  }
  return gid;
}

/** Make `path` free for a new socket: refuse a live switch's socket or a file that is not a socket; unlink a stale socket. */
async function claim(path: string, log: Logger): Promise<void> {
  const c = await claimSocketPath(path);
  switch (c.kind) {
    case 'free':
      return;
    case 'replaced':
      log.info(`control: replaced the stale control socket ${path} (no switch answered on it)`);
      return;
    case 'busy':
      throw new DivesError('ECTLBUSY', `another DiVES switch is running on ${path}; stop it first, or give this one another -u DIR`);
    case 'not-socket':
      throw new DivesError('ECTLSOCK', `${path} exists and is not a socket; move it away or give another -u DIR`);
    case 'error':
      throw new DivesError('ECTLSOCK', `cannot use the control socket ${path}: ${c.message}; remove the file if no switch owns it`);
  }
}

export async function startControlServer(opts: ControlServerOptions): Promise<ControlServer> {
  const { registry, sw, log } = opts;
  const path = join(opts.dir, CTL_SOCKET);
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    throw new DivesError('ECTLSOCK', `control socket path ${path} is ${Buffer.byteLength(path)} bytes; UNIX sockets allow ${MAX_SOCKET_PATH}, so give a shorter -u DIR`);
  }
  const gid = opts.group === undefined ? undefined : resolveGroup(opts.group);
  try {
    mkdirSync(opts.dir, { recursive: true });
  } catch (err) {
    throw new DivesError('ECTLSOCK', `cannot create the socket directory ${opts.dir}: ${(err as Error).message}`);
  }
  await claim(path, log);

  const { promise: readyGate, resolve: ready } = Promise.withResolvers<void>();
  const sockets = new Set<Socket>();
  let nextId = 1;
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serveConnection(socket, nextId++, { registry, sw, log, readyGate });
  });
  server.maxConnections = MAX_CONNECTIONS;

  // bind() runs inside listen() synchronously, so this umask covers exactly the
  // creation of the socket file: it is never, even for an instant, open to others.
  const umask = process.umask(0o177);
  try {
    server.listen(path);
  } finally {
    process.umask(umask);
  }
  try {
    await once(server, 'listening');
  } catch (err) {
    throw new DivesError('ECTLSOCK', `cannot listen on the control socket ${path}: ${(err as Error).message}`);
  }
  try {
    if (gid !== undefined) {
      chownSync(path, -1, gid);
      chmodSync(path, 0o660);
    } else {
      chmodSync(path, 0o600);
    }
  } catch (err) {
    server.close();
    throw new DivesError('ECTLSOCK', `cannot set the owner or mode of ${path}: ${(err as Error).message}`);
  }
  const ino = lstatSync(path).ino;
  log.info(`control: listening on ${path} (mode ${gid === undefined ? '0600' : `0660, group ${opts.group}`})`);

  let closing: Promise<void> | null = null;
  return {
    path,
    get connections() {
      return sockets.size;
    },
    ready: () => ready(),
    close(): Promise<void> {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await closed;
        // Node removes the file when the server closes; this is for the case it did
        // not, and only if the file is still ours rather than a newer switch's.
        try {
          if (lstatSync(path).ino === ino) unlinkSync(path);
        } catch {
          // Already gone.
        }
      })();
      return closing;
    },
  };
}

/** What ends a running stream of a connection: a request came, its input ended, or it closed. */
class StreamStop {
  #stop: (() => void) | null = null;

  /** Settles at the next fire(), or at once when `now`. */
  wait(now: boolean): Promise<void> {
    return new Promise((resolve) => {
      this.#stop = resolve;
      if (now) this.fire();
    });
  }

  fire(): void {
    const stop = this.#stop;
    this.#stop = null;
    stop?.();
  }
}

/**
 * Send a stream's lines (`monitor`) until `stopped` settles. A line goes straight to the
 * socket while it takes writes; while it does not, the stream drops and counts, and is told
 * when it drains. The socket keeps being read meanwhile, so the line that stops it is seen.
 */
async function serveStream(socket: Socket, stream: ReplyStream, stopped: Promise<void>): Promise<void> {
  const handle = stream.open({
    get ready() {
      return !socket.destroyed && !socket.writableNeedDrain;
    },
    write: (line) => void socket.write(encodeLine(line)),
  });
  const resume = (): void => handle.resume();
  socket.on('drain', resume);
  if (socket.isPaused()) socket.resume();
  await stopped;
  socket.off('drain', resume);
  handle.close();
}

interface ConnectionContext {
  registry: CommandRegistry;
  sw: SwitchControl;
  log: Logger;
  readyGate: Promise<void>;
}

const TOO_LONG: Reply = {
  ok: false,
  code: 'EBADARG',
  message: `line is longer than ${MAX_REQUEST_BYTES - 1} bytes; it was cut off and ignored up to its newline`,
};

/**
 * One client: requests are answered strictly in order, one at a time, each by
 * its own session, so a slow command holds up only the connection it came on.
 * Reading pauses while MAX_QUEUED requests wait or the client is not reading
 * its replies, so a client that floods the socket is held back by TCP-style
 * backpressure instead of by the switch's memory.
 */
function serveConnection(socket: Socket, id: number, ctx: ConnectionContext): void {
  const conn = new Connection(socket, id, ctx);
  const reader = new LineReader();
  socket.on('data', (chunk: Buffer) => {
    if (!conn.finished) conn.enqueue(reader.push(chunk));
  });
  // The client sent all it will; answer what it sent, then close our side.
  socket.on('end', () => conn.inputDone(reader.end()));
  // A client that vanishes mid-reply (EPIPE, ECONNRESET) ends only its own connection.
  socket.on('error', (err) => conn.lines.debug('control-socket-error', `control[${id}]: ${err.message}`));
  socket.on('close', () => {
    conn.streamStop.fire();
    conn.lines.debug('control-closed', `control[${id}]: closed`);
  });
}

/** A client's requests, queued and answered in order (serveConnection). */
class Connection {
  readonly lines: LogLimiter;
  readonly streamStop = new StreamStop();
  private readonly session: ConsoleSession;
  private readonly queue: RequestLine[] = [];
  private running = false;
  private inputEnded = false;
  finished = false;

  constructor(
    private readonly socket: Socket,
    private readonly id: number,
    private readonly ctx: ConnectionContext,
  ) {
    this.lines = LogLimiter.of(ctx.log);
    this.session = new ConsoleSession(ctx.registry, ctx.sw, { log: (m) => this.lines.error('control-internal-error', `control[${id}]: ${m}`), streams: true });
    this.lines.debug('control-connected', `control[${id}]: connected`);
  }

  /**
   * End our side. `hangUp` is for `quit`: the client may still be sending, so once the
   * reply is flushed the connection is destroyed rather than left half open.
   */
  private finish(hangUp = false): void {
    if (this.finished) return;
    this.finished = true;
    this.socket.end(() => {
      if (hangUp) this.socket.destroy();
    });
  }

  enqueue(reqs: RequestLine[]): void {
    if (reqs.length === 0) return;
    this.queue.push(...reqs);
    this.streamStop.fire();
    if (this.queue.length >= MAX_QUEUED) this.socket.pause();
    void this.pump().catch((err: unknown) => {
      this.lines.error('control-internal-error', `control[${this.id}]: ${String(err)}`);
      this.socket.destroy();
    });
  }

  /** The client sent its last request: answer the rest, then close. */
  inputDone(last: RequestLine[]): void {
    this.inputEnded = true;
    this.enqueue(last);
    this.streamStop.fire();
    if (!this.running && this.queue.length === 0) this.finish();
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.ctx.readyGate;
    const { socket, queue } = this;
    while (queue.length > 0 && !this.finished && !socket.destroyed) {
      if (!(await this.answer(queue.shift() as RequestLine))) break;
      if (queue.length < MAX_QUEUED / 2 && socket.isPaused() && !this.inputEnded) socket.resume();
    }
    this.running = false;
    if (this.inputEnded && queue.length === 0) this.finish();
  }

  /** Answer one request (and serve its stream, if it has one); false when the connection is done. */
  private async answer(req: RequestLine): Promise<boolean> {
    const socket = this.socket;
    // A command may stream bytes before its reply (`capture`; src/control/byte-stream.ts).
    let bytes: ByteStream | null = null;
    const reply = 'tooLong' in req ? TOO_LONG : await this.session.execute(req.line, { openStream: () => (bytes ??= byteStream(socket)) });
    (bytes as ByteStream | null)?.finish();
    if ('line' in req) this.lines.debug('control-request', `control[${this.id}]: ${JSON.stringify(req.line)} -> ${reply.ok ? 'ok' : reply.code}`);
    if (socket.destroyed) return false;
    const flushed = socket.write(encodeReply(reply));
    if (reply.ok && reply.close) {
      this.finish(true);
      return false;
    }
    if (reply.ok && reply.stream !== undefined) {
      await serveStream(socket, reply.stream, this.streamStop.wait(this.queue.length > 0 || this.inputEnded || socket.destroyed));
      if (socket.destroyed) return false;
      // The line that stopped the stream is not run; "ok" ends the stream's reply.
      if (this.queue.length > 0) this.queue.shift();
      socket.write('ok\n');
      return true;
    }
    if (!flushed) await drainedOrClosed(socket);
    return true;
  }
}
