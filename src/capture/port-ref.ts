// findPort: a port as a command names it — its id ("3") or its name as `show ports`
// prints it ("tap:tap0", "tap:trunk0.10") — for `capture port` and `mirror`. Main thread.

import { DivesError } from '../core/errors.js';
import type { PortRecord } from '../core/port-kind.js';
import type { PortTable } from '../forwarding/port-table.js';

/** The port `word` names; DivesError ENOTATTACHED when there is none, EBADARG when a name is ambiguous. */
export function findPort(ports: PortTable, word: string): PortRecord {
  const all = ports.all();
  const found = /^[0-9]{1,5}$/.test(word) ? all.filter((p) => p.id === Number(word)) : all.filter((p) => p.name === word);
  if (found.length === 0) throw new DivesError('ENOTATTACHED', `no port ${JSON.stringify(word)}; "show ports" lists the ports by ID and NAME`);
  if (found.length > 1) throw new DivesError('EBADARG', `${JSON.stringify(word)} names ${found.length} ports; give the port's ID from "show ports"`);
  return found[0];
}
