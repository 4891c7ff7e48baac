// ConsoleSession: one conversation with the switch's command layer — its mode
// (switch level or `vlan ID`), its prompt, and `execute(line)` which turns one line
// into one Reply and never throws. Used by the stdio console, rc files and the
// control socket over a shared CommandRegistry; runs on the main thread.

import { isDivesError, type DivesErrorCode } from '../core/errors.js';
import type { CommandRegistry } from './command-registry.js';
import type { LineSink, StreamHandle } from './command-stream.js';
import type { ByteSink } from './switch-api.js';
import type { SwitchControl } from './commands/areas.js';
import { completeLine, promptFor } from './commands/session.js';

/** The longest line a session accepts; the control socket relies on this bound. */
export const MAX_LINE = 4096;

export type Reply =
  | { ok: true; lines: string[]; json?: unknown; close?: boolean; stream?: ReplyStream }
  | { ok: false; code: DivesErrorCode; message: string };

/** A streaming command's lines (src/control/command-stream.ts), in the form (text or JSON) the request asked for. */
export interface ReplyStream {
  open(sink: LineSink): StreamHandle;
}

export interface ExecuteOptions {
  /** Reply with the command's JSON form as the one line, instead of text. */
  json?: boolean;
  /** How the command may stream bytes to the client (the control socket's), if the transport can. */
  openStream?: () => ByteSink;
}

export interface ConsoleSessionOptions {
  /** Where to report errors that are not DivesErrors (bugs), with their stack; they reply EINTERNAL. */
  log?: (message: string) => void;
  /**
   * The transport carries a command's stream after its reply (the control socket does).
   * Without it a streaming command (`monitor`) is refused with EBADCMD. Default false.
   */
  streams?: boolean;
}

/**
 * Split a line into words on whitespace. Double quotes group a word with
 * spaces ("/run/my vms/a.sock"); inside them \" and \\ stand for " and \.
 * An unquoted word starting with # begins a comment that runs to the end.
 */
export function tokenize(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"') quoted = false;
      else if (ch === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) word += line[++i];
      else word += ch;
    } else if (ch === '"') {
      quoted = true;
      inWord = true;
    } else if (ch === ' ' || ch === '\t' || (ch === '\r' && i === line.length - 1)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (ch === '#' && !inWord) {
      break;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quoted) throw new SyntaxError('unterminated double quote');
  if (inWord) words.push(word);
  return words;
}

export class ConsoleSession {
  /** VLAN mode, or null at switch level. */
  mode: { vid: number } | null = null;
  readonly #registry: CommandRegistry;
  readonly #sw: SwitchControl;
  readonly #log: (message: string) => void;
  readonly #streams: boolean;

  constructor(registry: CommandRegistry, sw: SwitchControl, opts: ConsoleSessionOptions = {}) {
    this.#registry = registry;
    this.#sw = sw;
    this.#log = opts.log ?? (() => {});
    this.#streams = opts.streams ?? false;
  }

  get prompt(): string {
    return promptFor(this.mode?.vid ?? null);
  }

  /** Run one line. Every failure, including a bug in a handler, comes back as an error Reply. */
  async execute(line: string, opts: ExecuteOptions = {}): Promise<Reply> {
    if (line.length > MAX_LINE) {
      return { ok: false, code: 'EBADARG', message: `line is ${line.length} characters long; the limit is ${MAX_LINE}` };
    }
    let words: string[];
    try {
      words = tokenize(line);
    } catch (err) {
      return { ok: false, code: 'EBADARG', message: (err as Error).message };
    }
    if (words.length === 0) return { ok: true, lines: [] };
    let json = opts.json ?? false;
    if (words[0] === 'json') {
      json = true;
      words = words.slice(1);
      if (words.length === 0) return { ok: false, code: 'EBADCMD', message: '"json" needs a command after it, e.g. "json show macs"' };
    }

    try {
      const result = await this.#registry.run(words, { sw: this.#sw, vid: this.mode?.vid ?? null, openStream: opts.openStream ?? null });
      const stream = result.stream;
      if (stream !== undefined && !this.#streams) {
        return { ok: false, code: 'EBADCMD', message: `${JSON.stringify(words[0])} streams what happens until stopped, which only the control socket carries: run "dives ctl ${words.join(' ')}" (the log has the same events at info)` };
      }
      if (result.mode !== undefined) this.mode = result.mode === null ? null : { vid: result.mode.vid };
      const reply: Reply = { ok: true, lines: json ? [JSON.stringify(result.json ?? null)] : result.lines };
      if (result.json !== undefined) reply.json = result.json;
      if (result.close) reply.close = true;
      if (stream !== undefined) reply.stream = { open: (sink) => stream.open(sink, json) };
      return reply;
    } catch (err) {
      if (isDivesError(err)) return { ok: false, code: err.code, message: err.message };
      // Not a DivesError means a bug: the user gets one line, the log gets the stack.
      const detail = err instanceof Error ? err.message : String(err);
      const stack = err instanceof Error ? (err.stack ?? detail) : detail;
      this.#log(`internal error running ${JSON.stringify(words.join(' '))}: ${stack}`);
      return { ok: false, code: 'EINTERNAL', message: `internal error: ${detail}` };
    }
  }

  /**
   * Tab completion for a partly typed line: the command words that may come
   * next, and the partial word they replace. Follows a leading "json" and a
   * one-shot "vlan ID" prefix, which switch completion to VLAN-level words.
   */
  complete(line: string): [string[], string] {
    return completeLine(this.#registry, this.mode === null ? 'switch' : 'vlan', line);
  }
}
