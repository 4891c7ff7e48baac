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
// closes the connection after it.
// Every reply line starts with "|", and a status line never does, so no text a
// command prints (a path, a device name, a JSON string) can pass for a status line.

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

const STATUS_RE = /^(?:ok( bye)?|error ([A-Z][A-Z0-9]*): (.*))$/;

/** The bytes of one reply: each line prefixed "| " ("|" alone when empty), then the status line. */
export function encodeReply(reply: Reply): string {
  if (!reply.ok) return `error ${reply.code}: ${oneLine(reply.message)}\n`;
  // A line with a newline inside would otherwise become two lines, the second unprefixed.
  const lines = reply.lines.flatMap((l) => l.split('\n'));
  return lines.map((l) => (l === '' ? '|\n' : `| ${l}\n`)).join('') + (reply.close ? 'ok bye\n' : 'ok\n');
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

/** A reply as a client reads it: its text lines, and the status. */
export type ClientReply =
  | { ok: true; lines: string[]; /** The switch ends the session after this reply. */ close: boolean }
  | { ok: false; code: DivesErrorCode; message: string; lines: string[] };

/**
 * Reads replies from the text a client receives, in order. Text may arrive in
 * any pieces; push() returns every reply completed so far. A line that is
 * neither a reply line nor a status line is a protocol error (not a switch).
 */
export class ReplyDecoder {
  #pending = '';
  #lines: string[] = [];

  push(text: string): ClientReply[] {
    this.#pending += text;
    const out: ClientReply[] = [];
    let nl: number;
    while ((nl = this.#pending.indexOf('\n')) !== -1) {
      const line = this.#pending.slice(0, nl);
      this.#pending = this.#pending.slice(nl + 1);
      if (line.startsWith('|')) {
        this.#lines.push(line.slice(2));
        continue;
      }
      const m = STATUS_RE.exec(line);
      if (m === null) throw new Error(`not a DiVES control reply: ${JSON.stringify(line.slice(0, 80))}`);
      const lines = this.#lines;
      this.#lines = [];
      out.push(m[2] === undefined ? { ok: true, lines, close: m[1] !== undefined } : { ok: false, code: m[2] as DivesErrorCode, message: m[3], lines });
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
