// PortTable: the switch's ports by id. Ids are small integers (1..65535) and a
// freed id is reused lowest-first, like bridge port numbers, so the forwarding
// workers' per-id arrays stay dense. Main thread only.

import { DivesError } from '../core/errors.js';
import type { PortKind, PortRecord } from '../core/port-kind.js';
import { MAX_PORT_ID } from '../core/ring-record.js';

export class PortTable {
  private readonly ports = new Map<number, PortRecord>();
  private readonly free: number[] = [];
  private next = 1;
  private readonly watchers: ((rec: PortRecord, added: boolean) => void)[] = [];

  /**
   * Call `fn` after every add and remove, with the port and which it was. Peers use it to
   * follow which VLANs have local ports (src/peer/peer-ports.ts), the switch to report
   * ports attached and detached (src/switch/switch-events.ts); `fn` must not change the table itself.
   */
  onChange(fn: (rec: PortRecord, added: boolean) => void): void {
    this.watchers.push(fn);
  }

  private changed(rec: PortRecord, added: boolean): void {
    for (const fn of this.watchers) fn(rec, added);
  }

  add(kind: PortKind, vid: number, name: string): PortRecord {
    let id: number;
    if (this.free.length > 0) {
      this.free.sort((a, b) => b - a);
      id = this.free.pop() as number;
    } else if (this.next <= MAX_PORT_ID) {
      id = this.next++;
    } else {
      throw new DivesError('EINTERNAL', `no free port id: the switch already has ${MAX_PORT_ID} ports`);
    }
    const rec = { id, kind, vid, name };
    this.ports.set(id, rec);
    this.changed(rec, true);
    return rec;
  }

  remove(id: number): PortRecord | undefined {
    const rec = this.ports.get(id);
    if (rec === undefined) return undefined;
    this.ports.delete(id);
    this.free.push(id);
    this.changed(rec, false);
    return rec;
  }

  get(id: number): PortRecord | undefined {
    return this.ports.get(id);
  }

  all(): PortRecord[] {
    return [...this.ports.values()].sort((a, b) => a.id - b.id);
  }

  byVlan(vid: number): PortRecord[] {
    return this.all().filter((p) => p.vid === vid);
  }
}
