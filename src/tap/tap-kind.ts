// TapKind: TAP ports as one kind of port of the switch (src/core/port-kind-provider.ts) — access
// TAPs (src/tap/tap-ports.ts) and trunk TAPs (src/tap/trunk-ports.ts), which share the
// device names: a name is attached one way or the other, never both. Main thread.

import { DivesError } from '../core/errors.js';
import type { PortDrops } from '../core/port-kind.js';
import type { KindThread, OffloadDecision, PortKindProvider } from '../core/port-kind-provider.js';
import type { PortKindParts } from '../forwarding/port-kind-parts.js';
import { TapPorts, tapAttachedElsewhere, type TapInfo } from './tap-ports.js';
import { TrunkPorts, type TrunkInfo } from './trunk-ports.js';

export class TapKind implements PortKindProvider {
  readonly kind = 'tap';
  readonly remote = false;
  readonly offloads = { fromTaps: true, fromPeers: true };
  readonly taps: TapPorts;
  readonly trunks: TrunkPorts;

  constructor(parts: PortKindParts) {
    this.taps = new TapPorts(parts);
    this.trunks = new TrunkPorts(parts);
  }

  /** `tap DEVNAME` in VLAN `vid`. */
  attachTap(vid: number, dev: string): Promise<TapInfo> {
    if (this.trunks.has(dev)) throw new DivesError('EATTACHED', `tap ${dev}: already attached as a trunk; detach it first with "no tap ${dev} trunk"`);
    return this.taps.attach(vid, dev);
  }

  /** `tap DEVNAME trunk VLANS [native ID]`; `native` 0: none. */
  attachTrunk(dev: string, vids: number[], native: number): Promise<TrunkInfo> {
    const held = this.taps.list().find((t) => t.name === dev);
    if (held !== undefined) throw tapAttachedElsewhere(dev, held.vid);
    return this.trunks.attach(dev, vids, native);
  }

  /** A trunk hands over plain frames (src/tap/trunk-io-loop.ts), so its VLANs want them before its ports exist. */
  plainVids(): Iterable<number> {
    return this.trunks.vids();
  }

  applyOffloads(d: OffloadDecision): void {
    this.taps.applyOffloads((vid) => d.tapsOffload(vid));
  }

  threads(): KindThread[] {
    return [...this.taps.threads(), ...this.trunks.threads()];
  }

  async ioDrops(): Promise<Map<number, PortDrops>> {
    return new Map([...this.taps.ioDrops(), ...this.trunks.ioDrops()]);
  }

  crash(name?: string): Promise<void> {
    if (name === undefined) throw new DivesError('EBADARG', 'name the TAP whose I/O thread to end');
    return this.trunks.has(name) ? this.trunks.crashIo(name) : this.taps.crashIo(name);
  }

  async close(): Promise<void> {
    await this.trunks.detachAll();
    await this.taps.detachAll();
    this.taps.watch.close();
  }
}
