// Run-control files: the commands a switch runs at start (`dives start -c FILE`),
// one per line, through the same ConsoleSession a person types into, so mode
// carries across lines (`vlan 10`, then `tap tap0`). Runs on the main thread.

import { readFile } from 'node:fs/promises';
import { DivesError } from '../core/errors.js';
import type { ConsoleSession } from './console-session.js';

/**
 * Run every line of the file at `path` in `session`. Blank lines and `#`
 * comments are skipped by the session. The first failing line stops the run
 * with DivesError('ERCFILE', "FILE:LINE: message"), its own error as the cause,
 * and the caller refuses to start. `exit`, `end` or `quit` at switch level ends
 * the file early. The session is back at switch level afterwards, whatever the
 * file left it in, so it can be reused for the console.
 */
export async function runRcFile(path: string, session: ConsoleSession): Promise<void> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new DivesError('ERCFILE', `${path}: cannot read the rc file: ${reason}`, { cause: err });
  }

  const lines = text.split(/\r?\n/);
  try {
    for (let i = 0; i < lines.length; i++) {
      const reply = await session.execute(lines[i]);
      if (!reply.ok) {
        throw new DivesError('ERCFILE', `${path}:${i + 1}: ${reply.message}`, { cause: new DivesError(reply.code, reply.message) });
      }
      if (reply.close) break;
    }
  } finally {
    session.mode = null;
  }
}
