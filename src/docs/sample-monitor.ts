// SampleMonitor: the trunk, capture and mirror part of the sample switch
// (src/docs/sample-switch.ts) — a made-up trunk TAP, a mirror and a running capture with
// counters, refusing what the switch refuses with the same words. `npm run docs` shows
// its replies; the command tests run against it. Pure: no threads, sockets or files.

import { CAPTURE_COUNTERS, MIRROR_COUNTERS, PORT_DROPS, TRUNK_DROPS } from '../core/counters.js';
import { DivesError } from '../core/errors.js';
import { formatVlanList } from '../core/vlan-tag.js';
import type { ByteSink } from '../capture/byte-sink.js';
import { formatSource, type CaptureInfo, type CaptureRequest, type CapturesInfo, type MirrorInfo, type MirrorSource, type MirrorsInfo } from '../capture/capture-info.js';
import { pcapFileHeader } from '../capture/pcap.js';
import type { TrunkInfo } from '../tap/trunk-ports.js';
import type { PortInfo } from '../control/switch-api.js';

export class SampleMonitor {
  readonly trunks: TrunkInfo[] = [];
  readonly mirrors: MirrorInfo[] = [];
  readonly captures: CaptureInfo[] = [];
  #nextId = 1;

  constructor(
    /** The sample switch's next port id. */
    private readonly nextPortId: () => number,
    /** The sample switch's ports, as `show ports` lists them. */
    private readonly ports: () => PortInfo[],
  ) {}

  attachTrunk(dev: string, vids: number[], native: number | null): TrunkInfo {
    if (this.trunks.some((t) => t.name === dev)) throw new DivesError('EATTACHED', `tap ${dev}: already a trunk; detach it first with "no tap ${dev} trunk"`);
    const members = [...new Set([...vids, ...(native === null ? [] : [native])])].sort((a, b) => a - b);
    const t: TrunkInfo = {
      name: dev, vlans: formatVlanList(vids), native, ports: members.map((vid) => ({ vid, portId: this.nextPortId() })),
      created: false, state: 'up', reason: null, drops: TRUNK_DROPS.zero(),
    };
    this.trunks.push(t);
    return t;
  }

  detachTrunk(dev: string): void {
    const i = this.trunks.findIndex((t) => t.name === dev);
    if (i === -1) throw new DivesError('ENOTATTACHED', `tap ${dev}: is not attached as a trunk; "show trunks" lists the trunks`);
    this.trunks.splice(i, 1);
  }

  showTrunks(vid?: number): TrunkInfo[] {
    return this.trunks.filter((t) => vid === undefined || t.ports.some((p) => p.vid === vid));
  }

  capture(req: CaptureRequest, out: { file: string } | { sink: ByteSink }): CaptureInfo {
    if ('sink' in out) out.sink.write(pcapFileHeader());
    const source = formatSource(req.source);
    const port = this.port('vid' in req.source ? '1' : req.source.port);
    const n = Math.min(req.count ?? 4, 4);
    return {
      id: this.#nextId++, source, vid: 'vid' in req.source ? req.source.vid : port.vid, to: 'file' in out ? out.file : 'stream',
      counters: { ...CAPTURE_COUNTERS.zero(), captured: n }, ports: [{ portId: port.id, port: port.name, in: Math.ceil(n / 2), out: Math.floor(n / 2) }],
      ended: req.count !== null ? 'count' : 'seconds',
    };
  }

  showCaptures(): CapturesInfo {
    const totals = CAPTURE_COUNTERS.zero();
    for (const c of this.captures) for (const n of CAPTURE_COUNTERS.names) totals[n] += c.counters[n];
    return { captures: this.captures, totals: { ...totals, captured: totals.captured + 120 } };
  }

  addMirror(source: MirrorSource, to: string): MirrorInfo {
    const dest = this.port(to);
    const src = 'vid' in source ? formatSource(source) : formatSource({ port: this.port(source.port).name });
    if (this.mirrors.some((m) => m.source === src && m.to === dest.name)) throw new DivesError('EATTACHED', `mirror ${src} to ${dest.name} exists already; "show mirrors" lists them`);
    const m: MirrorInfo = { id: this.#nextId++, source: src, to: dest.name, counters: MIRROR_COUNTERS.zero() };
    this.mirrors.push(m);
    return m;
  }

  removeMirror(source: MirrorSource, to: string | null): number {
    const src = 'vid' in source ? formatSource(source) : formatSource({ port: this.port(source.port).name });
    const dest = to === null ? null : this.port(to).name;
    const gone = this.mirrors.filter((m) => m.source === src && (dest === null || m.to === dest));
    if (gone.length === 0) throw new DivesError('ENOTATTACHED', `no mirror of ${src}${dest === null ? '' : ` to ${dest}`}; "show mirrors" lists them`);
    for (const m of gone) this.mirrors.splice(this.mirrors.indexOf(m), 1);
    return gone.length;
  }

  showMirrors(): MirrorsInfo {
    const totals = MIRROR_COUNTERS.zero();
    for (const m of this.mirrors) for (const n of MIRROR_COUNTERS.names) totals[n] += m.counters[n];
    return { mirrors: this.mirrors, totals };
  }

  /**
   * The monitoring TAP the sample's mirrors copy to, in a VLAN of its own as the docs advise;
   * kept here, out of the sample's ports, so the other examples' tables stay as they are.
   */
  readonly mon0: PortInfo = { id: 50, name: 'tap:mon0', kind: 'tap', vid: 99, rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, drops: PORT_DROPS.zero() };

  /** A port by id or name, as the switch finds it (src/capture/port-ref.ts). */
  private port(word: string): PortInfo {
    const p = [...this.ports(), this.mon0].find((x) => String(x.id) === word || x.name === word);
    if (p === undefined) throw new DivesError('ENOTATTACHED', `no port ${JSON.stringify(word)}; "show ports" lists the ports by ID and NAME`);
    return p;
  }
}

/** The sample's trunk, mirrors and running capture: a trunk of VLANs 10 and 20 with VLAN 30 native, VLAN 20 and the guest's port mirrored to the monitoring TAP mon0, tap0 captured. */
export function sampleMonitor(m: SampleMonitor): SampleMonitor {
  const t = m.attachTrunk('trunk0', [10, 20], 30);
  t.drops['unlisted-vid'] = 5;
  t.drops.untagged = 0;
  const mirror = m.addMirror({ vid: 20 }, 'tap:mon0');
  mirror.counters.mirrored = 42;
  m.addMirror({ port: '2' }, 'tap:mon0').counters['mirror-full'] = 3;
  m.captures.push({
    id: 3, source: 'port tap:tap0', vid: 10, to: 'stream', counters: { captured: 17, 'capture-full': 2 },
    ports: [{ portId: 1, port: 'tap:tap0', in: 9, out: 8 }], ended: null,
  });
  return m;
}
