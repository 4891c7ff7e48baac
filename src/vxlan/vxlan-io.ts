// VxlanIo: every VTEP of the switch over the sockets main bound (src/vxlan/vxlan-sockets.ts).
// Datagrams from VTEPs are checked (header, VNI, inner frame, sender) and their frames
// queued on the rx ring to the VLAN's forwarding thread as coming from the sender's VTEP
// port; frames the forwarding threads queue for a VTEP port leave behind a VXLAN header,
// from a source port hashed from the frame (src/vxlan/vxlan-tx-batch.ts).
// Runs on the VXLAN I/O thread, an IoLoop (src/core/io-loop.ts): a blocking loop with no
// event loop.
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
import { VTEP_DROP, VTEP_DROPS, VXLAN_COUNTER, VXLAN_COUNTERS } from '../core/counters.js';
import { ETH_HLEN } from '../core/frame.js';
import { IoLoop } from '../core/io-loop.js';
import { attachPair, type IoCommonEvent } from '../core/io-messages.js';
import type { Ring, FrameHandler } from '../core/ring.js';
import { metaPort, metaVid, ringMeta } from '../core/ring-record.js';
import { formatHostPort } from '../linux/host-port.js';
import { POLLIN, POLLNVAL } from '../linux/libc.js';
import { MmsgBatch } from '../linux/mmsg.js';
import { PollSet } from '../linux/poll-set.js';
import { SOCKADDR_MAX, UDP_MAX_PAYLOAD, sockaddrFor, sockaddrParts } from '../linux/udp-socket.js';
import { VtepTable, type VlanRec, type VtepRec } from './vtep-table.js';
import { VXLAN_HDR_LEN, VXLAN_SHORT, decodeVxlanHeader } from './vxlan-header.js';
import type { VxlanControl, VxlanEvent, VxlanIoReport, VxlanIoStart } from './vxlan-io-messages.js';
import { VxlanTxBatch } from './vxlan-tx-batch.js';

const RX_SLOTS = 32;
/** Slots per source socket in the send batch. */
const TX_PER_SOURCE = 16;
/** Records taken from a tx ring per consume call. */
const TX_TAKE = 64;
/** Takes per tx ring per round of the loop, so a ring kept full cannot keep control and the sockets unread (as in the peer thread). */
const TX_ROUNDS = 16;
const C = VXLAN_COUNTER;
const D_RX_RING_FULL = VTEP_DROP['rx-ring-full'];

export class VxlanIo extends IoLoop<VxlanIoStart, VxlanControl, VxlanEvent, VxlanIoReport> {
  protected readonly polled = 'VXLAN sockets';
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
  private readonly txHandler: FrameHandler;
  private readonly t0 = Date.now();
  /** Seconds since the thread started, read once per turn of the loop. */
  private nowS = 0;
  private expiredAt = 0;
  private readonly silent: VtepRec[] = [];
  /** The sockets and the doorbell's eventfd in one poll set (slot 0 is the eventfd). */
  private readonly set: PollSet;
  /**
   * Whether each socket may hold datagrams: a recvmmsg that fills fewer slots than it has
   * drained it, so it is read again only after poll() says so.
   */
  private readonly readable: Uint8Array;

  constructor(start: VxlanIoStart, control: MessagePort, emit: (e: VxlanEvent | IoCommonEvent<VxlanIoReport>) => void) {
    super(start, control, emit);
    this.table = new VtepTable(start.family, start.port, start.maxVteps);
    const maxPayload = UDP_MAX_PAYLOAD[start.family];
    // A slot holds the largest datagram there is, so one cut short is a giant, never a frame.
    this.rx = new MmsgBatch(RX_SLOTS, Math.max(VXLAN_HDR_LEN + start.maxFrame, maxPayload));
    this.tx = new VxlanTxBatch(start.fds.slice(1), TX_PER_SOURCE, maxPayload, start.maxFrame, this.trace, this.counts);
    this.txHandler = (buf, off, len, meta) => this.queue(buf, off, len, meta);
    const fds = start.fds;
    this.set = new PollSet(fds.length + 1);
    for (let i = 0; i < fds.length; i++) this.set.set(i + 1, fds[i], POLLIN);
    this.readable = new Uint8Array(fds.length).fill(1);
  }

  /** One turn: each socket that may hold datagrams read once, the tx rings drained, silent VTEPs told once a second. */
  protected turn(): boolean {
    const fds = this.start.fds;
    const readable = this.readable;
    this.nowS = Math.floor((Date.now() - this.t0) / 1000);
    let more = false;
    for (let i = 0; i < fds.length; i++) {
      if (readable[i] === 0) continue;
      readable[i] = this.receive(fds[i]) === RX_SLOTS ? 1 : 0;
      if (readable[i] !== 0) more = true;
    }
    const sent = this.transmit();
    if (this.nowS !== this.expiredAt) this.expire();
    return more || sent > 0;
  }

  protected pending(): boolean {
    return this.anyTx();
  }

  protected sleep(ms: number): number {
    const fds = this.start.fds;
    const r = this.bell.sleepPollSet(this.set, ms);
    if (r < 0) return r;
    for (let i = 0; i < fds.length; i++) {
      const rev = this.set.revents(i + 1);
      if ((rev & POLLNVAL) !== 0) this.fail(`VXLAN socket ${fds[i]} is not open`);
      this.readable[i] = rev !== 0 ? 1 : 0;
    }
    return 0;
  }

  /** Apply one control message from main. */
  protected handle(msg: VxlanControl): void {
    switch (msg.type) {
      case 'rings': {
        const { rx, tx } = attachPair(msg.pair);
        this.rxRings[msg.fw] = rx;
        this.txRings = [...this.txRings, tx];
        break;
      }
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
    }
  }

  private sockaddr(address: string, port: number): Buffer | null {
    try {
      return sockaddrFor(this.start.family, address, port);
    } catch (err) {
      this.log('error', 'vxlan-io', `vxlan: VTEP ${formatHostPort(address, port)}: ${String(err)}`);
      return null;
    }
  }

  protected report(): VxlanIoReport {
    const all = this.table.all();
    const drops = this.departed.slice();
    for (const rec of all) for (let i = 0; i < drops.length; i++) drops[i] += rec.drops[i];
    let lastStranger: string | null = null;
    if (this.counts[C.strangers] > 0) {
      const { address, port } = sockaddrParts(this.start.family, this.lastStranger);
      lastStranger = formatHostPort(address, port);
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
