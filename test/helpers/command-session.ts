// The command tests' fixture: a console session over the sample switch
// (src/docs/sample-switch.ts), and a way to run one line at a given level.
// Pure; no threads or sockets.

import { createCommandRegistry } from '../../src/control/commands/create-command-registry.js';
import { ConsoleSession, type Reply } from '../../src/control/console-session.js';
import type { SampleSwitch } from '../../src/docs/sample-switch.js';
import { sampleSwitch } from '../../src/docs/sample-data.js';

/** VLAN 10: a TAP and a QEMU guest; VLAN 20: a peer; VLAN 30: empty. */
export function fixture(): { sw: SampleSwitch; session: ConsoleSession } {
  const sw = sampleSwitch();
  // As the control socket runs commands, so a streaming one (`monitor`) gives its reply.
  return { sw, session: new ConsoleSession(createCommandRegistry(), sw, { streams: true }) };
}

/** Run `line` at switch level (vid null) or in VLAN `vid`. */
export async function at(session: ConsoleSession, vid: number | null, line: string, json = false): Promise<Reply> {
  session.mode = vid === null ? null : { vid };
  return session.execute(line, { json });
}
