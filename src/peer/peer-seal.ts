// PeerSeal: a keyed switch's side of the peer socket (docs/security.md). Every datagram
// to a peer is sealed (src/crypto/datagram-sealer.ts), addressed to the peer's session once
// that is known, and every datagram from one is opened, then checked against the peer's
// session and replay window (src/crypto/session-state.ts); keepalives carry the sender's
// clock so a peer that restarted can show that its new session is fresh.
// Peer I/O thread (src/peer/peer-io.ts); nothing here throws or allocates per datagram.
//
// The rules: a peer's sealed datagrams are taken from one session at a time. A new
// session (the peer restarted) is taken only from a genuine keepalive whose timestamp is
// within the allowed skew of this host's clock and newer than any seen from that peer, or
// from main when a genuine announcement said the same (`set-peer`). Every keepalive's
// timestamp must be within the skew. Anything but a keepalive must be addressed to this
// switch's session. So a datagram captured from an older session, replayed later, is
// never taken (its session is not the current one, and no keepalive of that session is
// newer than the last), nor one sealed for another switch (it does not open here), and
// one of the current session is taken once (the window).

import { PEER_DROP } from '../core/counters.js';
import { DatagramSealer, SEAL_BAD, type SealKey } from '../crypto/datagram-sealer.js';
import { loadAead } from '../crypto/aead.js';
import { keyIdHex } from '../crypto/key-ring.js';
import { SEAL_COUNTER_AT, SEAL_HDR_LEN, SEAL_OVERHEAD, SEAL_SESSION_AT, looksSealed, readTimestamp, sealAddressed, sealKeyId, sealWord, writeTimestamp } from '../crypto/sealed-datagram.js';
import { KEEPALIVE, KEEPALIVE_LEN, TIMED_KEEPALIVE_LEN, isTimedKeepalive } from './wire/keepalive.js';
import { OFFLOAD_ADVERT_LEN } from './wire/offload-advert.js';
import type { PeerRec } from './peer-record.js';
import type { PeerSealStart, PeerSession } from './peer-io-messages.js';

const D_UNAUTHENTICATED = PEER_DROP.unauthenticated;
const D_KEYED = PEER_DROP.keyed;
const D_UNKNOWN_KEY = PEER_DROP['unknown-key'];
const D_BAD_AUTH = PEER_DROP['bad-auth'];
const D_REPLAY = PEER_DROP.replay;
const D_UNKNOWN_SESSION = PEER_DROP['unknown-session'];
const D_STALE = PEER_DROP.stale;

/** unseal() result for a datagram that was dropped (and counted on its peer). */
export const UNSEAL_DROPPED = -1;
/** sealData() result while the peer's session is unknown: only keepalives go unaddressed. */
export const SEAL_NO_SESSION = -1;
/** sealData() result when sealing failed (the AEAD refused). */
export const SEAL_FAILED = -2;

export class PeerSeal {
  readonly sealer: DatagramSealer;
  private readonly skewMs: number;
  /** Control datagrams (keepalives, advertisements) are sealed here; `ctlBody` is its payload. */
  private readonly ctl = Buffer.alloc(SEAL_OVERHEAD + OFFLOAD_ADVERT_LEN);
  private readonly ctlBody = this.ctl.subarray(SEAL_HDR_LEN);

  constructor(
    start: PeerSealStart,
    /** A log line for main, once per peer and reason. */
    private readonly complain: (p: PeerRec, reason: string, message: string) => void,
  ) {
    this.sealer = new DatagramSealer(loadAead(), start.session, new Float64Array(start.counterSab), start.encrypt);
    this.sealer.setKeys(start.keys, start.sendId);
    this.skewMs = start.skewMs;
  }

  setKeys(keys: readonly SealKey[], sendId: number): void {
    this.sealer.setKeys(keys, sendId);
  }

  /** Where a datagram's payload starts in a sealed slot, and the bytes sealing adds to it (src/crypto/sealed-datagram.ts). */
  readonly payloadAt = SEAL_HDR_LEN;
  readonly overhead = SEAL_OVERHEAD;

  /** Each slot past the sealed header: where a payload is sealed from and opened into. Made once per batch, never per datagram. */
  bodies(slots: readonly Buffer[]): Buffer[] {
    return slots.map((b) => b.subarray(SEAL_HDR_LEN));
  }

  /**
   * Open datagram slot[0..len) from peer p in place. Returns the payload's length (the
   * payload, an unsealed datagram, is at body[0..)), or UNSEAL_DROPPED when it was counted
   * as a drop on p: not sealed, not genuine, of an unknown key or session, or a replay.
   */
  unseal(p: PeerRec, slot: Buffer, body: Uint8Array, len: number): number {
    if (!looksSealed(slot, len)) {
      if (countDrop(p, D_UNAUTHENTICATED)) {
        this.complain(p, 'unauthenticated', 'sent a datagram without an authenticator: this switch has a cluster key and takes only sealed datagrams; give that switch the key (dives start --key-file)');
      }
      return UNSEAL_DROPPED;
    }
    const plen = this.sealer.open(slot, body, len, p.rxKey);
    if (plen === SEAL_BAD) {
      if (countDrop(p, D_BAD_AUTH)) {
        this.complain(p, 'bad-auth', 'sent a datagram that failed authentication (a changed bit, a forgery, or one sealed for this switch before it restarted)');
      }
      return UNSEAL_DROPPED;
    }
    if (plen < 0) {
      if (countDrop(p, D_UNKNOWN_KEY)) {
        const held = this.sealer.heldIds().map(keyIdHex).join(', ');
        this.complain(p, 'unknown-key', `sealed a datagram with key ${keyIdHex(sealKeyId(slot))}, which this switch does not hold (it holds ${held}); "key add FILE" loads it`);
      }
      return UNSEAL_DROPPED;
    }
    return this.checkSession(p, slot, body, plen);
  }

  /** The session and replay checks of a genuine datagram (see the header). */
  private checkSession(p: PeerRec, slot: Buffer, body: Uint8Array, plen: number): number {
    const st = p.session;
    const hi = sealWord(slot, SEAL_SESSION_AT);
    const lo = sealWord(slot, SEAL_SESSION_AT + 4);
    const timed = isTimedKeepalive(body, plen);
    // Only a keepalive may come unaddressed (its sender does not know our session yet).
    if (!timed && !sealAddressed(slot)) {
      p.drops[D_UNKNOWN_SESSION]++;
      return UNSEAL_DROPPED;
    }
    const ts = timed ? readTimestamp(body, KEEPALIVE_LEN) : 0;
    if (timed && !this.fresh(ts)) return this.stale(p, ts);
    if (st.is(hi, lo)) {
      if (!st.window.accept(sealWord(slot, SEAL_COUNTER_AT), sealWord(slot, SEAL_COUNTER_AT + 4))) {
        p.drops[D_REPLAY]++;
        return UNSEAL_DROPPED;
      }
      if (ts > st.lastTs) st.lastTs = ts;
      p.complained = 0;
      return plen;
    }
    if (!timed) {
      p.drops[D_UNKNOWN_SESSION]++;
      return UNSEAL_DROPPED;
    }
    if (ts <= st.lastTs) return this.stale(p, ts);
    st.adopt(hi, lo, ts);
    st.window.accept(sealWord(slot, SEAL_COUNTER_AT), sealWord(slot, SEAL_COUNTER_AT + 4));
    p.complained = 0;
    return plen;
  }

  private stale(p: PeerRec, ts: number): number {
    if (countDrop(p, D_STALE)) {
      const when = Number.isNaN(ts) ? 'with no valid time' : `stamped ${new Date(ts).toISOString()}`;
      this.complain(p, 'stale', `sent a keepalive ${when}, outside ${this.skewMs / 1000} s of this host's clock or not newer than its last; check both clocks (NTP)`);
    }
    return UNSEAL_DROPPED;
  }

  /** Take session s for p when it is p's already, or newer than anything p showed (an announcement main checked). */
  offer(p: PeerRec, s: PeerSession): void {
    const st = p.session;
    if (st.is(s.hi, s.lo)) {
      if (s.ts > st.lastTs) st.lastTs = s.ts;
      return;
    }
    if (s.ts > st.lastTs && this.fresh(s.ts)) st.adopt(s.hi, s.lo, s.ts);
  }

  /** Seal the payload body[0, len) (slot past payloadAt) for p: addressed to its session once that is known. */
  sealFor(p: PeerRec, slot: Buffer, body: Uint8Array, len: number): number {
    const st = p.session;
    return this.sealer.seal(slot, body, len, st.known, st.hi, st.lo, p.txKey);
  }

  /**
   * Seal a datagram that is not a keepalive (a frame, an advertisement) for p: addressed to
   * its session, so none goes before that is known. Returns the sealed length, SEAL_NO_SESSION
   * or SEAL_FAILED.
   */
  sealData(p: PeerRec, slot: Buffer, body: Uint8Array, len: number): number {
    if (!p.session.known) return SEAL_NO_SESSION;
    const n = this.sealFor(p, slot, body, len);
    return n < 0 ? SEAL_FAILED : n;
  }

  /** A keyed keepalive for p, sealed into the control slot; returns its length (send ctl[0..len)). */
  keepalive(p: PeerRec): number {
    KEEPALIVE.copy(this.ctlBody, 0, 0, KEEPALIVE_LEN);
    writeTimestamp(this.ctlBody, KEEPALIVE_LEN, Date.now());
    return this.sealFor(p, this.ctl, this.ctlBody, TIMED_KEEPALIVE_LEN);
  }

  /** An advertisement for p sealed into the control slot; returns its length, or 0 when it cannot go yet (advertisements are said again). */
  control(p: PeerRec, inner: Buffer, len: number): number {
    inner.copy(this.ctlBody, 0, 0, len);
    const n = this.sealData(p, this.ctl, this.ctlBody, len);
    return n < 0 ? 0 : n;
  }

  /** The control slot control() and keepalive() seal into. */
  get controlSlot(): Buffer {
    return this.ctl;
  }

  /** For an unkeyed switch: a sealed datagram from p is counted (and logged once) instead of being read as a bad vid. */
  static refuseSealed(p: PeerRec, slot: Uint8Array, len: number, complain: (p: PeerRec, reason: string, message: string) => void): boolean {
    if (!looksSealed(slot, len)) return false;
    if (countDrop(p, D_KEYED)) {
      complain(p, 'keyed', `sent a sealed datagram (key ${keyIdHex(sealKeyId(slot))}): this switch has no cluster key; start it with --key-file to peer with keyed switches`);
    }
    return true;
  }

  private fresh(ts: number): boolean {
    return Math.abs(Date.now() - ts) <= this.skewMs;
  }
}

/** Count drop d on p; true when it is to be logged (the first since p last worked). */
function countDrop(p: PeerRec, d: number): boolean {
  p.drops[d]++;
  if ((p.complained & (1 << d)) !== 0) return false;
  p.complained |= 1 << d;
  return true;
}
