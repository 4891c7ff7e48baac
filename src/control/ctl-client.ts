// `dives ctl`'s side of the control socket: CtlClient sends request lines and
// matches the replies (control-protocol.ts) to them in order, and hands on the lines
// of a streaming command (`monitor`) as they come; runCtlCommand runs one command for
// the CLI; the interactive console (ctl-console.ts) builds on it.
// Runs on the main thread of the `dives ctl` process.

import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { DivesError } from '../core/errors.js';
import { CTL_SOCKET, ReplyDecoder, type ClientReply } from './control-protocol.js';
import { quoteWord } from './format.js';

/** How `dives ctl` exits, for scripts. */
export const CtlExit = {
  /** The switch ran the command. */
  OK: 0,
  /** The switch answered with an error line (its code is printed). */
  FAILED: 1,
  /** Bad flags or arguments to `dives ctl` itself (oclif's usage errors). */
  USAGE: 2,
  /** No switch could be reached on the socket, or it went away mid-command. */
  UNREACHABLE: 3,
} as const;

/** The control socket of the switch started with `-u dir`. */
export function ctlSocketPath(dir: string): string {
  return join(dir, CTL_SOCKET);
}

/** The message a person gets when the socket cannot be reached: what is wrong, and the path and `-u` to fix it. */
function unreachable(path: string, err: NodeJS.ErrnoException): DivesError {
  const fix = 'start one with `dives start -u DIR`, or give `dives ctl -u DIR` the directory the switch was started with';
  let why: string;
  switch (err.code) {
    case 'ENOENT':
      why = `no DiVES control socket at ${path}; is the switch running? ${fix}`;
      break;
    case 'ECONNREFUSED':
      why = `nothing answers on ${path} (a switch that stopped without removing it?); ${fix}`;
      break;
    case 'EACCES':
    case 'EPERM':
      why = `permission denied on ${path}: the socket is only for its owner (0600) or the group of \`dives start --ctl-group GROUP\`; run as one of them`;
      break;
    case 'ENOTSOCK':
      why = `${path} is not a socket; give \`dives ctl -u DIR\` the directory the switch was started with`;
      break;
    default:
      why = `cannot reach the switch on ${path}: ${err.message}; ${fix}`;
  }
  return new DivesError('ECTLSOCK', why, { cause: err });
}

interface Waiter {
  resolve: (r: ClientReply) => void;
  reject: (e: Error) => void;
}

/** One connection to a switch. Requests may be sent back to back; replies come back in the same order. */
export class CtlClient {
  readonly path: string;
  readonly #socket: Socket;
  /** Where the lines of a running stream go; null when none runs. */
  #onStreamLine: ((line: string) => void) | null = null;
  /** Where the bytes of a byte stream go (`capture`; null: none expected, they are dropped). */
  #byteOut: NodeJS.WritableStream | null = null;
  readonly #decoder = new ReplyDecoder((line) => this.#onStreamLine?.(line), (chunk) => this.#onChunk(chunk));
  readonly #waiters: Waiter[] = [];
  #closedError: DivesError | null = null;
  #bye = false;
  /** Resolves when the switch closes the connection (after `quit`, or when it stops). */
  readonly closed: Promise<void>;

  private constructor(path: string, socket: Socket) {
    this.path = path;
    this.#socket = socket;
    // Bytes, not text: a byte stream (`capture`) may come before a reply.
    socket.on('data', (data: Buffer) => this.#onData(data));
    socket.on('error', () => {
      // 'close' follows and fails whatever is still waiting.
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.#fail(new DivesError('ECTLSOCK', `the switch on ${path} closed the connection before answering`));
        resolve();
      }),
    );
  }

  /** Connect to the socket at `path`; throws DivesError('ECTLSOCK') naming the path and `-u` when no switch answers. */
  static connect(path: string): Promise<CtlClient> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(path);
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        resolve(new CtlClient(path, socket));
      });
      socket.once('error', (err: NodeJS.ErrnoException) => reject(unreachable(path, err)));
    });
  }

  /** Send one request line and wait for its reply. */
  request(line: string): Promise<ClientReply> {
    if (this.#closedError !== null) return Promise.reject(this.#closedError);
    if (/[\r\n]/.test(line)) return Promise.reject(new DivesError('EBADARG', 'a request is one line; it must not contain a newline'));
    const { promise, resolve, reject } = Promise.withResolvers<ClientReply>();
    this.#waiters.push({ resolve, reject });
    this.#socket.write(`${line}\n`);
    return promise;
  }

  /**
   * Send a command that may stream (`monitor`): resolves with its reply; when that is a
   * stream ("ok stream"), `onLine` gets each of its lines until stopStream() or the end
   * of the connection.
   */
  async stream(line: string, onLine: (line: string) => void): Promise<ClientReply> {
    // Set before sending: the stream's first lines may come in the same chunk as the reply.
    this.#onStreamLine = onLine;
    const reply = await this.request(line).catch((err: unknown) => {
      this.#onStreamLine = null;
      throw err;
    });
    if (!reply.ok || reply.stream !== true) this.#onStreamLine = null;
    return reply;
  }

  /**
   * Send a command that may stream bytes before its reply (`capture` without a FILE):
   * they go to `out` as they come, the connection held back while `out` is behind.
   */
  async requestBytes(line: string, out: NodeJS.WritableStream): Promise<ClientReply> {
    this.#byteOut = out;
    this.streamedBytes = false;
    try {
      return await this.request(line);
    } finally {
      this.#byteOut = null;
    }
  }

  /** The last requestBytes() did stream bytes (a `capture` to a FILE does not). */
  streamedBytes = false;

  #onChunk(chunk: Buffer): void {
    const out = this.#byteOut;
    if (out === null) return;
    this.streamedBytes = true;
    // The copy outlives the decoder's buffer; pausing the socket lets the switch see the reader is behind.
    if (!out.write(Buffer.from(chunk))) {
      this.#socket.pause();
      out.once('drain', () => this.#socket.resume());
    }
  }

  /** Stop the running stream: any line does; the switch answers "ok" once it has stopped. */
  async stopStream(): Promise<ClientReply> {
    const reply = await this.request('');
    this.#onStreamLine = null;
    return reply;
  }

  /** Say goodbye politely: no more requests; the switch answers what was sent and closes. */
  end(): void {
    this.#socket.end();
  }

  destroy(): void {
    this.#socket.destroy();
  }

  /** True once the switch answered "ok bye": the session ended on request, not because the switch went away. */
  get ended(): boolean {
    return this.#bye;
  }

  #onData(data: Buffer): void {
    let replies: ClientReply[];
    try {
      replies = this.#decoder.push(data);
    } catch (err) {
      this.#fail(new DivesError('ECTLSOCK', `${this.path} does not speak the DiVES control protocol: ${(err as Error).message}`));
      this.#socket.destroy();
      return;
    }
    for (const r of replies) {
      if (r.ok && r.close) this.#bye = true;
      this.#waiters.shift()?.resolve(r);
    }
  }

  #fail(err: DivesError): void {
    this.#closedError ??= err;
    for (const w of this.#waiters.splice(0)) w.reject(err);
  }
}

/**
 * The request line for `dives ctl` arguments. One argument is a whole command
 * line, as typed at the console (`dives ctl "vlan 10 show macs"`); several are
 * one word each, quoted where needed (`dives ctl vlan 20 listen unix "/run/my vms/a.sock"`).
 */
export function requestLine(words: readonly string[], json: boolean): string {
  const line = words.length === 1 ? words[0] : words.map(quoteWord).join(' ');
  return json ? `json ${line}` : line;
}

export interface CtlResult {
  reply: ClientReply;
  /** The parsed JSON document, when the command ran with `json`. */
  json?: unknown;
  /** A streaming command's stream ended: `signal` stopped it, or the switch closed the connection. */
  streamEnded?: 'stopped' | 'switch-closed';
  /** The command streamed bytes (to `bytesOut`) before its reply. */
  bytes?: boolean;
}

export interface CtlCommandOptions {
  json?: boolean;
  /** Give up on a reply not there after this long (its stream, if any, runs on); 0 waits forever. */
  timeoutMs?: number;
  /** Each line of a streaming command's stream (`monitor`), as it comes; without it a stream is stopped at once. */
  onStreamLine?: (line: string) => void;
  /** A streaming command's reply came ("ok stream"): its lines follow. */
  onStreamStart?: (reply: ClientReply) => void;
  /** Stops a stream (Ctrl-C, the reader of stdout went away). */
  signal?: AbortSignal;
  /** Where a byte stream before the reply goes (`capture` without a FILE; stdout for `dives ctl`); no timeout applies to such a command. */
  bytesOut?: NodeJS.WritableStream;
}

/** Until the stream of `client` ends: `signal` aborts (stopped), or the switch closes the connection. */
function streamEnd(client: CtlClient, signal: AbortSignal | undefined): Promise<'stopped' | 'switch-closed'> {
  return new Promise((resolve) => {
    const stop = (): void => {
      resolve('stopped');
      client.destroy();
    };
    if (signal?.aborted === true) return stop();
    signal?.addEventListener('abort', stop, { once: true });
    void client.closed.then(() => {
      signal?.removeEventListener('abort', stop);
      resolve('switch-closed');
    });
  });
}

/**
 * A command whose bytes stream before its reply (`capture`): no timeout (it runs until its
 * count, its seconds, or `signal`, which closes the connection and so ends it).
 */
async function byteCommand(client: CtlClient, line: string, out: NodeJS.WritableStream, signal: AbortSignal | undefined): Promise<CtlResult> {
  const stop = (): void => client.destroy();
  signal?.addEventListener('abort', stop, { once: true });
  try {
    const reply = await client.requestBytes(line, out);
    client.end();
    const json = line.startsWith('json ') && reply.ok ? (JSON.parse(reply.lines.join('\n')) as unknown) : undefined;
    return { reply, json, bytes: client.streamedBytes };
  } catch (err) {
    if (signal?.aborted === true) return { reply: { ok: true, lines: [], close: false }, streamEnded: 'stopped', bytes: true };
    throw err;
  } finally {
    signal?.removeEventListener('abort', stop);
  }
}

/** Connect to the switch of `dir`, run one command, and close (for a streaming command, once its stream ends). */
export async function runCtlCommand(dir: string, words: readonly string[], opts: CtlCommandOptions = {}): Promise<CtlResult> {
  const client = await CtlClient.connect(ctlSocketPath(dir));
  const timeoutMs = opts.timeoutMs ?? 0;
  let timer: NodeJS.Timeout | undefined;
  try {
    const line = requestLine(words, opts.json === true);
    if (opts.bytesOut !== undefined && /^(?:json )?(?:vlan [0-9]+ )?capture\b/.test(line)) return await byteCommand(client, line, opts.bytesOut, opts.signal);
    const pending = opts.onStreamLine === undefined ? client.request(line) : client.stream(line, opts.onStreamLine);
    const reply =
      timeoutMs > 0
        ? await Promise.race([
            pending,
            new Promise<never>((_, reject) => {
              timer = setTimeout(
                () => reject(new DivesError('ETIMEOUT', `the switch on ${client.path} did not answer within ${timeoutMs / 1000} s`)),
                timeoutMs,
              );
            }),
          ])
        : await pending;
    clearTimeout(timer);
    if (reply.ok && reply.stream === true && opts.onStreamLine !== undefined) {
      opts.onStreamStart?.(reply);
      return { reply, streamEnded: await streamEnd(client, opts.signal) };
    }
    // Ending our side lets the switch close the connection in its own time (and stops a stream nobody reads).
    client.end();
    if (opts.json !== true || !reply.ok) return { reply };
    return { reply, json: reply.lines.length > 0 ? (JSON.parse(reply.lines.join('\n')) as unknown) : null };
  } catch (err) {
    client.destroy();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
