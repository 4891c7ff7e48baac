// Fixtures for the PeerSeal tests (test/peer/peer-seal*.test.ts): two key rings, a frame,
// switches (Side) and their records of a peer, and helpers that seal, deliver and count
// drops at a set clock (Date.now, replaced within a call and always restored).

import { PEER_DROPS, type PeerDropName } from '../../src/core/counters.js';
import { keyFromSecret } from '../../src/crypto/cluster-key.js';
import { KeyRing } from '../../src/crypto/key-ring.js';
import type { SessionState } from '../../src/crypto/session-state.js';
import { sockaddrFor } from '../../src/linux/udp-socket.js';
import type { PeerSealStart } from '../../src/peer/peer-io-messages.js';
import { PeerRec } from '../../src/peer/peer-record.js';
import { PeerSeal, UNSEAL_DROPPED } from '../../src/peer/peer-seal.js';
import { TIMED_KEEPALIVE_LEN } from '../../src/peer/wire/keepalive.js';
import { SEAL_HDR_LEN, SEAL_OVERHEAD } from '../../src/crypto/sealed-datagram.js';
import { atClock } from '../helpers/seal-fixtures.js';
import { BCAST, ETHERTYPE_ARP, frame } from '../helpers/frames.js';

export const SKEW = 30_000;
export const T0 = 1_700_000_000_000;
export const RING = new KeyRing(keyFromSecret(Buffer.alloc(32, 0x5a)), 'test', true);
export const OTHER = new KeyRing(keyFromSecret(Buffer.alloc(32, 0xa5)), 'test', true);
/** A vid word (VLAN 10) and a 60-byte broadcast frame: what a peer datagram carries. */
export const FRAME = Buffer.concat([Buffer.from('0000000a', 'hex'), frame({ dst: BCAST, src: '52:54:00:00:00:01', ethertype: ETHERTYPE_ARP, fill: 0x11 })]);

/** One switch's PeerSeal, with the complaints it logged (reasons, and the lines). */
export interface Side {
  seal: PeerSeal;
  session: Uint8Array;
  complaints: string[];
  messages: string[];
}

export function side(first: number, opts: { ring?: KeyRing; counterSab?: SharedArrayBuffer; encrypt?: boolean } = {}): Side {
  const ring = opts.ring ?? RING;
  const session = Uint8Array.from({ length: 8 }, (_, i) => first + i);
  const start: PeerSealStart = {
    session,
    counterSab: opts.counterSab ?? new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT),
    keys: ring.dataKeys(),
    sendId: ring.sendId,
    encrypt: opts.encrypt ?? true,
    skewMs: SKEW,
  };
  const complaints: string[] = [];
  const messages: string[] = [];
  const seal = new PeerSeal(start, (_p, reason, message) => {
    complaints.push(reason);
    messages.push(message);
  });
  return { seal, session, complaints, messages };
}

/** A switch's record of a peer at 127.0.0.1:3333, its session state in `sab` (main's memory) or private. */
export function peer(sab: SharedArrayBuffer | null = null): PeerRec {
  return new PeerRec(1, 1, sockaddrFor('udp4', '127.0.0.1', 3333), sab);
}

/** The session of a side as two words, as a PeerSession holds it. */
export function words(s: Side): { hi: number; lo: number } {
  const b = Buffer.from(s.session);
  return { hi: b.readUInt32BE(0), lo: b.readUInt32BE(4) };
}

/** The session of a side as p.session holds it once taken. */
export function held(s: Side): { known: true; hi: number; lo: number } {
  return { known: true, ...words(s) };
}

/** What p.session holds. */
export function state(p: PeerRec | SessionState): { known: boolean; hi: number; lo: number; lastTs: number } {
  const st = p instanceof PeerRec ? p.session : p;
  return { known: st.known, hi: st.hi, lo: st.lo, lastTs: st.lastTs };
}

/** tx's record of rx, knowing rx's session: main offered it from rx's announcement at T0. */
export function toward(tx: Side, rx: Side): PeerRec {
  const r = peer();
  atClock(T0, () => tx.seal.offer(r, { ...words(rx), ts: T0 }));
  if (!r.session.is(words(rx).hi, words(rx).lo)) throw new Error('the offer was not taken');
  return r;
}

/** tx's record of the receiver: the one given, one knowing the Side's session, or (null) one knowing none. */
function recOf(tx: Side, to: PeerRec | Side | null): PeerRec {
  if (to === null) return peer();
  return to instanceof PeerRec ? to : toward(tx, to);
}

/** A timed keepalive from `tx`, sealed at clock `ms` for `to` (by default unaddressed: tx knows no session of the receiver). */
export function keepalive(tx: Side, ms = T0, to: PeerRec | Side | null = null): Buffer {
  const r = recOf(tx, to);
  const len = atClock(ms, () => tx.seal.keepalive(r));
  return Buffer.from(tx.seal.controlSlot.subarray(0, len));
}

/** `payload` (by default a frame) sealed by `tx` for `to` as the peer I/O thread seals data (sealFor). */
export function data(tx: Side, to: PeerRec | Side | null, payload: Buffer = FRAME): Buffer {
  const r = recOf(tx, to);
  const slot = Buffer.alloc(SEAL_OVERHEAD + payload.length);
  const body = slot.subarray(SEAL_HDR_LEN);
  payload.copy(body);
  const len = tx.seal.sealFor(r, slot, body, payload.length);
  return Buffer.from(slot.subarray(0, len));
}

/** unseal() of a copy of `datagram` from p at clock `ms`: the result, and the payload when taken. */
export function deliver(rx: Side, p: PeerRec, datagram: Buffer, ms = T0): { n: number; payload: Buffer | null } {
  const slot = Buffer.alloc(2048);
  datagram.copy(slot);
  const body = slot.subarray(SEAL_HDR_LEN);
  const n = atClock(ms, () => rx.seal.unseal(p, slot, body, datagram.length));
  return { n, payload: n === UNSEAL_DROPPED ? null : Buffer.from(body.subarray(0, n)) };
}

/** p's drops that are not zero, by name. */
export function drops(p: PeerRec): Partial<Record<PeerDropName, number>> {
  return Object.fromEntries(Object.entries(PEER_DROPS.toRecord(p.drops)).filter(([, n]) => n !== 0));
}

/** A receiver that has taken the sender's session from a keepalive at T0; its state in `sab`. */
export function adopted(sab: SharedArrayBuffer | null = null): { tx: Side; rx: Side; p: PeerRec } {
  const tx = side(0x10);
  const rx = side(0x20);
  const p = peer(sab);
  if (deliver(rx, p, keepalive(tx)).n !== TIMED_KEEPALIVE_LEN) throw new Error('the keepalive was not taken');
  return { tx, rx, p };
}
