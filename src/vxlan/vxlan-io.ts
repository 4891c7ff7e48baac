// VxlanIo: every VTEP of the switch over the sockets main bound (src/vxlan/vxlan-sockets.ts).
// Datagrams from VTEPs are checked (header, VNI, inner frame, sender) and their frames
// queued on the rx ring to the VLAN's forwarding thread as coming from the sender's VTEP
// port; frames the forwarding threads queue for a VTEP port leave behind a VXLAN header,
// from a source port hashed from the frame (src/vxlan/vxlan-tx-batch.ts).
// Runs on the VXLAN I/O thread (workers/vxlan-io.ts), a blocking loop with no event loop.
//
// The loop receives up to RX_SLOTS datagrams per recvmmsg on each socket poll() says has
// input — the one on the VXLAN port, and the source-port pool, where vxvde's answers
// land — sends in sendmmsg runs per source socket, and sleeps in poll() on every socket
// and its doorbell's eventfd, so one wake-up serves the wire and the forwarding threads.
// Control messages from main arrive on its Worker's port; main bumps the doorbell's
// CONTROL count after posting one, and the loop reads them between batches.
//
// Thread safety: this thread is the single producer of every rx ring and the single
// consumer of every tx ring named in `rings` messages. Everything else here belongs to
// this thread; main sees only the snapshots sent on `stats`.
//
// Per datagram nothing here throws or allocates: each is received into a fixed slot and
// copied once into its rx ring. A VTEP heard for the first time on a VLAN with a group is
// the exception, once per VTEP and bounded: its record is made and main is told.

import type { MessagePort } from 'node:worker_threads';
import { Doorbell } from '../core/doorbell.js';
import { VTEP_DROP, VTEP_DROPS, VXLAN_COUNTER, VXLAN_COUNTERS } from '../core/counters.js';
import { ETH_HLEN } from '../core/frame.js';
import { FrameTrace } from '../core/frame-trace.js';
import { Ring, type FrameHandler } from '../core/ring.js';
import { metaPort, metaVid, ringMeta } from '../core/ring-record.js';
import { POLLIN, POLLNVAL, describeErrno } from '../linux/libc.js';
import { MmsgBatch } from '../linux/mmsg.js';
import { PollSet } from '../linux/poll-set.js';
import { SOCKADDR_MAX, sockaddrFor, sockaddrParts } from '../linux/udp-socket.js';
import { VtepTable, type VlanRec, type VtepRec } from './vtep-table.js';
import { VXLAN_HDR_LEN, VXLAN_SHORT, decodeVxlanHeader } from './vxlan-header.js';
import type { VxlanControl, VxlanEvent, VxlanIoStart } from './vxlan-io-messages.js';
import { VxlanTxBatch } from './vxlan-tx-batch.js';

const RX_SLOTS = 32;
/** Slots per source socket in the send batch. */
const TX_PER_SOURCE = 16;
/** Records taken from a tx ring per consume call. */
const TX_TAKE = 64;
/** Takes per tx ring per round of the loop, so a ring kept full cannot keep control and the sockets unread (as in the peer thread). */
const TX_ROUNDS = 16;
const SLEEP_MS = 1000;
const MAX_PAYLOAD = { udp4: 65507, udp6: 65527 } as const;
const C = VXLAN_COUNTER;
const D_RX_RING_FULL = VTEP_DROP['rx-ring-full'];

export class VxlanIo {
  private readonly bell: Doorbell;
  private readonly table: VtepTable;
  private readonly rxRings: (Ring | undefined)[] = [];
  private txRings: Ring[] = [];
  private readonly rx: MmsgBatch;
  private readonly tx: VxlanTxBatch;
  /** Indexed by VXLAN_COUNTER. */
  private readonly counts = VXLAN_COUNTERS.create();
  /** The drops of VTEPs that have gone, indexed by VTEP_DROP. */
  private readonly departed = VTEP_DROPS.create();
  /** The last stranger's sockaddr, formatted only when `stats` asks. */
  private readonly lastStranger = Buffer.alloc(SOCKADDR_MAX);
  private readonly trace: FrameTrace;
  private readonly txHandler: FrameHandler;
  private readonly t0 = Date.now();
  /** Seconds since the thread started, read once per turn of the loop. */
  private nowS = 0;
  private expiredAt = 0;
  private readonly silent: VtepRec[] = [];
  private controlSeen = 0;
  private stopped = false;

  constructor(
    private readonly start: VxlanIoStart,
    private readonly control: MessagePort,
    private readonly emit: (e: VxlanEvent) => void,
  ) {
    this.bell = new Doorbell(start.doorbellSab);
    this.trace = new FrameTrace(start.traceSab);
    this.table = new VtepTable(start.family, start.port, start.maxVteps);
    const maxPayload = MAX_PAYLOAD[start.family];
    // A slot holds the largest datagram there is, so one cut short is a giant, never a frame.
    this.rx = new MmsgBatch(RX_SLOTS, Math.max(VXLAN_HDR_LEN + start.maxFrame, maxPayload));
    this.tx = new VxlanTxBatch(start.fds.slice(1), TX_PER_SOURCE, maxPayload, start.maxFrame, this.trace, this.counts);
    this.txHandler = (buf, off, len, meta) => this.queue(buf, off, len, meta);
  }

  /** Serve the sockets main bound until a `stop` message; main closes them afterwards. */
  run(): void {
    const fds = this.start.fds;
    const set = new PollSet(fds.length + 1);
    for (let i = 0; i < fds.length; i++) set.set(i + 1, fds[i], POLLIN);
    // Whether each socket may hold datagrams: a recvmmsg that fills fewer slots than it
    // has drained it, so it is read again only after poll() says so.
    const readable = new Uint8Array(fds.length).fill(1);
    while (!this.stopped) {
      if (this.bell.controlSeq !== this.controlSeen) this.controlSeen = this.bell.drainControl<VxlanControl>(this.control, (m) => this.handle(m));
      if (this.stopped) break;
      this.nowS = Math.floor((Date.now() - this.t0) / 1000);
      let more = false;
      for (let i = 0; i < fds.length; i++) {
        if (readable[i] === 0) continue;
        readable[i] = this.receive(fds[i]) === RX_SLOTS ? 1 : 0;
        if (readable[i] !== 0) more = true;
      }
      const sent = this.transmit();
      if (this.nowS !== this.expiredAt) this.expire();
      if (more || sent > 0) continue;
      // Announce sleep, then look once more (see Doorbell.ring for why).
      this.bell.prepareSleep();
      if (this.anyTx() || this.bell.controlSeq !== this.controlSeen) {
        this.bell.cancelSleep();
        continue;
      }
      const r = this.bell.sleepPollSet(set, SLEEP_MS);
      if (r < 0) {
        this.emit({ type: 'failed', message: `VXLAN sockets: poll: ${describeErrno(-r)}` });
        break;
      }
      for (let i = 0; i < fds.length; i++) {
        const rev = set.revents(i + 1);
        if ((rev & POLLNVAL) !== 0) {
          this.emit({ type: 'failed', message: `VXLAN socket ${fds[i]} is not open` });
          this.stopped = true;
        }
        readable[i] = rev !== 0 ? 1 : 0;
      }
    }
    this.emit({ type: 'stopped' });
  }

  /** Apply one control message from main. */
  handle(msg: VxlanControl): void {
    switch (msg.type) {
      case 'rings':
        this.rxRings[msg.fw] = new Ring(msg.rxSab, new Doorbell(msg.rxDoorbellSab));
        this.txRings = [...this.txRings, new Ring(msg.txSab)];
        break;
      case 'vlan':
        this.table.setVlan(msg.vid, msg.vni, msg.fw, msg.learning);
        this.emit({ type: 'done', reqId: msg.reqId });
        break;
      case 'vtep': {
        const sa = this.sockaddr(msg.address, msg.port);
        if (sa !== null) this.table.setVtep(msg.vid, msg.kind, sa, msg.vtepId, msg.portId, this.nowS);
        this.emit({ type: 'done', reqId: msg.reqId });
        break;
      }
      case 'unvtep': {
        const rec = this.table.remove(msg.vtepId);
        if (rec !== undefined) for (let i = 0; i < rec.drops.length; i++) this.departed[i] += rec.drops[i];
        this.emit({ type: 'done', reqId: msg.reqId });
        break;
      }
      case 'refused': {
        const sa = this.sockaddr(msg.address, msg.port);
        if (sa !== null) this.table.refuse(msg.vid, sa);
        break;
      }
      case 'stats':
        this.emit({ type: 'stats', reqId: msg.reqId, ...this.report() });
        break;
      case 'stop':
        this.stopped = true;
        break;
    }
  }

  private sockaddr(address: string, port: number): Buffer | null {
    try {
      return sockaddrFor(this.start.family, address, port);
    } catch (err) {
      this.emit({ type: 'log', level: 'error', message: `vxlan: VTEP ${address} port ${port}: ${String(err)}` });
      return null;
    }
  }

  private report(): Omit<Extract<VxlanEvent, { type: 'stats' }>, 'type' | 'reqId'> {
    const all = this.table.all();
    const drops = this.departed.slice();
    for (const rec of all) for (let i = 0; i < drops.length; i++) drops[i] += rec.drops[i];
    let lastStranger: string | null = null;
    if (this.counts[C.strangers] > 0) {
      const { address, port } = sockaddrParts(this.start.family, this.lastStranger);
      lastStranger = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
    }
    return { vteps: all.map((r) => r.snapshot(this.nowS)), counters: VXLAN_COUNTERS.toRecord(this.counts), drops: VTEP_DROPS.toRecord(drops), lastStranger };
  }

  /** Once a second: tell main of learned VTEPs that fell silent. */
  private expire(): void {
    this.expiredAt = this.nowS;
    const out = this.silent;
    this.table.silent(this.nowS, this.start.ageingSeconds, out);
    for (const rec of out) this.emit({ type: 'silent', vtepId: rec.id });
    out.length = 0;
  }

  private anyTx(): boolean {
    const rings = this.txRings;
    for (let i = 0; i < rings.length; i++) if (!rings[i].isEmpty()) return true;
    return false;
  }

  /** One recvmmsg worth of datagrams from socket `fd`. */
  private receive(fd: number): number {
    const rx = this.rx;
    const n = rx.recv(fd);
    if (n < 0) {
      // Not EAGAIN: the kernel refused the call. Counted; the next poll() says whether the socket still works.
      this.counts[C['recv-error']]++;
      return 0;
    }
    for (let i = 0; i < n; i++) this.take(rx.slot[i], rx.len(i), rx.truncated(i), i * SOCKADDR_MAX);
    const rings = this.rxRings;
    for (let i = 0; i < rings.length; i++) rings[i]?.commit();
    return n;
  }

  /** One datagram of `len` bytes in `msg`, from the sender whose sockaddr is rx.names[at..]. */
  private take(msg: Buffer, len: number, truncated: boolean, at: number): void {
    const counts = this.counts;
    if (truncated) {
      counts[C.giant]++;
      return;
    }
    const vni = decodeVxlanHeader(msg, 0, len);
    if (vni < 0) {
      counts[vni === VXLAN_SHORT ? C.short : C['bad-header']]++;
      return;
    }
    const v = this.table.vlanOfVni(vni);
    if (v === undefined) {
      counts[C['unknown-vni']]++;
      return;
    }
    const flen = len - VXLAN_HDR_LEN;
    if (flen < ETH_HLEN) {
      counts[C.runt]++;
      return;
    }
    if (flen > this.start.maxFrame) {
      counts[C.giant]++;
      return;
    }
    const names = this.rx.names;
    const rec = this.table.lookup(v, names, at) ?? this.learn(v, names, at);
    if (rec === null) return;
    rec.heardS = this.nowS;
    // A learned VTEP still waiting for its port (or refused one) comes in as its group,
    // so its first frames are not lost: answers to them go to the group meanwhile.
    const portId = rec.portId >= 0 ? rec.portId : v.group === null ? -1 : v.group.portId;
    const ring = this.rxRings[v.fw];
    if (portId < 0 || ring === undefined) {
      counts[C.strangers]++;
      return;
    }
    if (ring.write(msg, VXLAN_HDR_LEN, flen, ringMeta(v.vid, portId, false) | this.trace.begin()) === 0) {
      rec.drops[D_RX_RING_FULL]++;
      return;
    }
    rec.framesIn++;
    rec.bytesIn += flen;
    counts[C['datagrams-in']]++;
  }

  /** A sender no VTEP of VLAN `v`: learned when `v` learns VTEPs (main is told), else a stranger. Null: the datagram goes no further. */
  private learn(v: VlanRec, names: Buffer, at: number): VtepRec | null {
    if (v.learning === 'none' || v.group === null) {
      this.counts[C.strangers]++;
      names.copy(this.lastStranger, 0, at, at + SOCKADDR_MAX);
      return null;
    }
    const rec = this.table.learn(v, names, at, this.nowS);
    if (rec === null) {
      // Past --vxlan-max-vteps: its frames are carried as the group's, counted.
      this.counts[C['vtep-limit']]++;
      return v.group;
    }
    const { address, port } = sockaddrParts(this.start.family, rec.sockaddr);
    this.emit({ type: 'heard', vid: v.vid, address, port });
    return rec;
  }

  /** Drain the tx rings, at most TX_ROUNDS takes each, sending after each take. */
  private transmit(): number {
    const rings = this.txRings;
    let total = 0;
    for (let i = 0; i < rings.length; i++) {
      for (let round = 0; round < TX_ROUNDS; round++) {
        const n = rings[i].consume(TX_TAKE, this.txHandler);
        this.tx.flush();
        total += n;
        if (n === 0) break;
      }
    }
    return total;
  }

  /** One record from a tx ring: to its VTEP, or counted when the VTEP's port just went. */
  private queue(buf: Buffer, off: number, len: number, meta: number): void {
    const rec = this.table.byPort[metaPort(meta)];
    const v = this.table.byVid[metaVid(meta)];
    if (rec === undefined || v === undefined) this.counts[C['no-port']]++;
    else this.tx.add(rec, v.vni, buf, off, len, meta);
  }
}
