// AnnounceSeal: a keyed switch's discovery announcements (docs/security.md, "Discovery").
// Each announcement is a sealed datagram (src/crypto/sealed-datagram.ts) sealed with the
// key ring's discovery subkey and authenticated, not encrypted: the payload is the
// sender's clock (an 8-byte millisecond timestamp) and then the HOST:PORT text. Opening
// one checks the MAC, then the timestamp against this host's clock; src/peer/discovery.ts
// then parses the text and refuses a replay (an announcement not newer than the last one
// taken from the same HOST:PORT, remembered here).
// Main thread, from Discovery; an announcement a second, so plain allocation is fine.

import { DatagramSealer, SEAL_BAD, type SealKey } from '../crypto/datagram-sealer.js';
import { keyIdHex } from '../crypto/key-ring.js';
import { loadAead } from '../crypto/aead.js';
import { SEAL_HDR_LEN, SEAL_OVERHEAD, SEAL_SESSION_AT, readTimestamp, sealKeyId, sealWord, writeTimestamp } from '../crypto/sealed-datagram.js';
import { MAX_ANNOUNCEMENT } from './wire/announcement.js';
import type { PeerSession } from './peer-io-messages.js';

const TS_LEN = 8;
/** The longest sealed announcement. */
export const MAX_SEALED_ANNOUNCEMENT = SEAL_OVERHEAD + TS_LEN + MAX_ANNOUNCEMENT;

export type Opened =
  | { ok: true; text: Buffer; session: PeerSession }
  | { ok: false; counter: 'bad-auth' | 'unknown-key' | 'stale'; reason: string };

export class AnnounceSeal {
  private readonly sealer: DatagramSealer;
  private readonly slot = Buffer.alloc(MAX_SEALED_ANNOUNCEMENT);
  private readonly body = this.slot.subarray(SEAL_HDR_LEN);
  /** The newest timestamp taken from each HOST:PORT, oldest first; bounded by `remember`. */
  private readonly newest = new Map<string, number>();
  private lastSent = 0;

  constructor(
    /** This switch's 8-byte session (the peer thread's too). */
    private readonly session: Uint8Array,
    keys: readonly SealKey[],
    sendId: number,
    readonly skewMs: number,
    /** HOST:PORTs remembered at most (twice --max-peers: every announcer that was ever genuine). */
    private readonly remember: number,
  ) {
    this.sealer = new DatagramSealer(loadAead(), session, new Float64Array(1), false);
    this.sealer.setKeys(keys, sendId);
  }

  setKeys(keys: readonly SealKey[], sendId: number): void {
    this.sealer.setKeys(keys, sendId);
  }

  /** This switch's announcement of `text`, sealed now; its timestamp is newer than the last one sent. */
  seal(text: Buffer): Buffer {
    const ts = Math.max(Date.now(), this.lastSent + 1);
    this.lastSent = ts;
    writeTimestamp(this.body, 0, ts);
    text.copy(this.body, TS_LEN);
    const len = this.sealer.seal(this.slot, this.body, TS_LEN + text.length);
    return Buffer.from(this.slot.subarray(0, len));
  }

  /** True for a datagram of this switch's own session: its own announcement back through multicast loopback. */
  isOwn(msg: Buffer): boolean {
    for (let i = 0; i < 8; i++) if (msg[SEAL_SESSION_AT + i] !== this.session[i]) return false;
    return true;
  }

  /** Open a sealed announcement (looksSealed true): its text and the sender's session, or why not. */
  open(msg: Buffer): Opened {
    if (msg.length > MAX_SEALED_ANNOUNCEMENT || msg.length < SEAL_OVERHEAD + TS_LEN + 1) return { ok: false, counter: 'bad-auth', reason: `a sealed announcement of ${msg.length} bytes cannot be genuine` };
    const slot = Buffer.from(msg);
    const plen = this.sealer.open(slot, slot.subarray(SEAL_HDR_LEN), slot.length);
    if (plen === SEAL_BAD) return { ok: false, counter: 'bad-auth', reason: 'it failed authentication (a wrong key, a changed bit or a forgery)' };
    if (plen < 0) {
      const held = this.sealer.heldIds().map(keyIdHex).join(', ');
      return { ok: false, counter: 'unknown-key', reason: `it is sealed with key ${keyIdHex(sealKeyId(slot))}, which this switch does not hold (it holds ${held})` };
    }
    const ts = readTimestamp(slot, SEAL_HDR_LEN);
    if (!(Math.abs(Date.now() - ts) <= this.skewMs)) {
      const when = Number.isNaN(ts) ? 'with no valid time' : `stamped ${new Date(ts).toISOString()}`;
      return { ok: false, counter: 'stale', reason: `it is ${when}, more than ${this.skewMs / 1000} s from this host's clock (a replay, or clocks apart: check NTP)` };
    }
    const session = { hi: sealWord(slot, SEAL_SESSION_AT), lo: sealWord(slot, SEAL_SESSION_AT + 4), ts };
    return { ok: true, text: Buffer.from(slot.subarray(SEAL_HDR_LEN + TS_LEN, SEAL_HDR_LEN + plen)), session };
  }

  /**
   * Take timestamp `ts` for announcer `key` (HOST:PORT) when it is newer than the last one
   * taken; false for a replay. Remembered for at least the skew, so a replay inside it
   * is caught here and one after it by open()'s clock check.
   */
  fresh(key: string, ts: number): boolean {
    const last = this.newest.get(key);
    if (last !== undefined && ts <= last) return false;
    this.newest.delete(key);
    this.newest.set(key, ts);
    if (this.newest.size > this.remember) this.newest.delete(this.newest.keys().next().value as string);
    return true;
  }
}
