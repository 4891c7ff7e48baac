// The control socket's wire format, shared by the server (control-server.ts) and
// `dives ctl` (ctl-client.ts): request lines in, reply lines prefixed "| " and one
// status line ("ok", "ok bye" or "error CODE: message") out. Pure; main thread.
//
//   request:  show vlans\n
//   reply:    | VID  PORTS  MACS ...\n
//             | 10   2      2    ...\n
//             ok\n
//
// "ok bye" is the status of a command that ends the session (`quit`): the switch
// closes the connection after it. "ok stream" is the status of a command that goes on
// (`monitor`): more "| " lines follow as things happen, until the client sends a line
// (any line; it is not run) or closes its side; a line ends the stream with "ok".
//
//   request:  json monitor\n
//   reply:    | {"kinds":[...]}\n
//             ok stream\n
//             | {"time":"...","kind":"vm-connected",...}\n   (as it happens)
//   request:  \n
//   reply:    ok\n
// Every reply line starts with "|", and a status line never does, so no text a
// command prints (a path, a device name, a JSON string) can pass for a status line.
//
// A command that streams bytes (`capture` without a FILE) sends, before its reply, the
// line "stream", then chunks — each its length in hex on a line of its own, then that
// many bytes — ended by a chunk of length 0; its reply lines and status follow as usual.
// The client closing the connection ends it (src/control/byte-stream.ts):
//
//   request:  capture vlan 10 count 2\n
//   reply:    stream\n
//             18\n<24 bytes>5e\n<94 bytes>5e\n<94 bytes>0\n
//             | captured 2 frames of vlan 10 to stream (count reached)\n
//             ok\n

import type { DivesErrorCode } from '../core/errors.js';
import type { Reply } from './console-session.js';
import { MAX_LINE } from './console-session.js';

/** The file name of the control socket inside the `-u DIR` directory. */
export const CTL_SOCKET = 'dives.ctl';

/**
 * The longest request line the socket reads, in bytes without its newline:
 * MAX_LINE characters plus a CR. Past it the line is cut off and answered with
 * an error, so a client cannot make the switch buffer more than this.
 */
export const MAX_REQUEST_BYTES = MAX_LINE + 1;

const STATUS_RE = /^(?:ok(?: (bye|stream))?|error ([A-Z][A-Z0-9]*): (.*))$/;

/** The line that opens a byte stream before a reply. */
export const STREAM_START = 'stream\n';
/** The chunk that ends a byte stream. */
export const STREAM_END = '0\n';
/** The longest chunk a decoder takes (the switch sends far smaller ones); more is a protocol error. */
const MAX_CHUNK = 1 << 24;

/** The header of one chunk of `n` bytes (n > 0). */
export function chunkHeader(n: number): string {
  return `${n.toString(16)}\n`;
}

/** The bytes of one reply: each line prefixed "| " ("|" alone when empty), then the status line. */
export function encodeReply(reply: Reply): string {
  if (!reply.ok) return `error ${reply.code}: ${oneLine(reply.message)}\n`;
  const status = reply.close ? 'ok bye\n' : reply.stream !== undefined ? 'ok stream\n' : 'ok\n';
  return reply.lines.map(encodeLine).join('') + status;
}

/** One reply line, or one line of a stream: prefixed "| " ("|" alone when empty). */
export function encodeLine(line: string): string {
  // A line with a newline inside would otherwise become two lines, the second unprefixed.
  return line
    .split('\n')
    .map((l) => (l === '' ? '|\n' : `| ${l}\n`))
    .join('');
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

/** A reply as a client reads it: its text lines, and the status. */
export type ClientReply =
  | {
      ok: true;
      lines: string[];
      /** The switch ends the session after this reply. */
      close: boolean;
      /** "ok stream": lines of the stream follow until the client sends a line. */
      stream?: boolean;
    }
  | { ok: false; code: DivesErrorCode; message: string; lines: string[] };

/**
 * Reads replies from the text a client receives, in order. Text may arrive in
 * any pieces; push() returns every reply completed so far. A line that is
 * neither a reply line nor a status line is a protocol error (not a switch).
 * After an "ok stream" reply, each "| " line is a line of the stream, handed to
 * `onStreamLine` as it arrives, until the status line that ends the stream.
 */
export class ReplyDecoder {
  #pending: Buffer = Buffer.alloc(0);
  #lines: string[] = [];
  #streaming = false;
  readonly #onStreamLine: (line: string) => void;
  readonly #onChunk: (chunk: Buffer) => void;
  /** In a byte stream: -1 expecting a chunk header, > 0 bytes left of a chunk; 0 outside one. */
  #chunkLeft = 0;

  /** `onChunk` gets the bytes of a byte stream (`capture`) as they come, before its reply. */
  constructor(onStreamLine: (line: string) => void = () => {}, onChunk: (chunk: Buffer) => void = () => {}) {
    this.#onStreamLine = onStreamLine;
    this.#onChunk = onChunk;
  }

  push(data: string | Buffer): ClientReply[] {
    this.#pending = Buffer.concat([this.#pending, typeof data === 'string' ? Buffer.from(data, 'utf8') : data]);
    const out: ClientReply[] = [];
    for (;;) {
      if (this.#chunkLeft > 0) {
        if (this.#pending.length === 0) break;
        const n = Math.min(this.#chunkLeft, this.#pending.length);
        this.#onChunk(this.#pending.subarray(0, n));
        this.#pending = this.#pending.subarray(n);
        this.#chunkLeft = this.#chunkLeft === n ? -1 : this.#chunkLeft - n;
        continue;
      }
      const nl = this.#pending.indexOf(0x0a);
      if (nl === -1) break;
      const line = this.#pending.subarray(0, nl).toString('utf8');
      this.#pending = this.#pending.subarray(nl + 1);
      if (this.#chunkLeft === -1) {
        const n = /^[0-9a-f]{1,8}$/.test(line) ? Number.parseInt(line, 16) : NaN;
        if (!(n >= 0 && n <= MAX_CHUNK)) throw new Error(`not a DiVES stream chunk header: ${JSON.stringify(line.slice(0, 80))}`);
        this.#chunkLeft = n;
        continue;
      }
      if (`${line}\n` === STREAM_START) {
        this.#chunkLeft = -1;
        continue;
      }
      if (line.startsWith('|')) {
        if (this.#streaming) this.#onStreamLine(line.slice(2));
        else this.#lines.push(line.slice(2));
        continue;
      }
      const m = STATUS_RE.exec(line);
      if (m === null) throw new Error(`not a DiVES control reply: ${JSON.stringify(line.slice(0, 80))}`);
      const lines = this.#lines;
      this.#lines = [];
      this.#streaming = m[1] === 'stream';
      if (m[2] !== undefined) out.push({ ok: false, code: m[2] as DivesErrorCode, message: m[3], lines });
      else out.push(this.#streaming ? { ok: true, lines, close: false, stream: true } : { ok: true, lines, close: m[1] === 'bye' });
    }
    return out;
  }
}

/** One request read by LineReader: a line, or the notice that a line was too long and was cut off. */
export type RequestLine = { line: string } | { tooLong: true };

/**
 * Splits the bytes a client sends into request lines, holding at most
 * MAX_REQUEST_BYTES of an unfinished line. An over-long line is reported once,
 * as soon as it passes the limit (the client may be waiting for an answer
 * without ever sending a newline), and its remaining bytes up to the next
 * newline are dropped as they arrive.
 */
export class LineReader {
  readonly #limit: number;
  #parts: Buffer[] = [];
  #size = 0;
  #discarding = false;

  constructor(limit = MAX_REQUEST_BYTES) {
    this.#limit = limit;
  }

  push(chunk: Buffer): RequestLine[] {
    const out: RequestLine[] = [];
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl === -1 ? chunk.length : nl;
      if (!this.#discarding) {
        this.#size += end - start;
        // A copy, not a view: a view would keep the whole chunk it came in alive.
        if (this.#size <= this.#limit) this.#parts.push(Buffer.from(chunk.subarray(start, end)));
        if (this.#size > this.#limit) {
          out.push({ tooLong: true });
          this.#parts = [];
          this.#size = 0;
          this.#discarding = nl === -1;
        } else if (nl !== -1) {
          out.push({ line: this.#take() });
        }
      } else if (nl !== -1) {
        this.#discarding = false;
      }
      start = end + 1;
    }
    return out;
  }

  /** Bytes of the unfinished line held now; never more than the limit. */
  get buffered(): number {
    return this.#size;
  }

  /** The client closed its side: an unfinished last line still counts, as readline would have it. */
  end(): RequestLine[] {
    if (this.#discarding || this.#size === 0) return [];
    return [{ line: this.#take() }];
  }

  #take(): string {
    const line = Buffer.concat(this.#parts).toString('utf8');
    this.#parts = [];
    this.#size = 0;
    return line.endsWith('\r') ? line.slice(0, -1) : line;
  }
}
