// ToldPeerThread: what main has told the peer I/O thread about each known peer — its
// address, whether it is legacy, and (with a cluster key) the memory its session state
// lives in and the last session an announcement showed — and how it seals, so a
// restarted thread is told it all again. Part of PeerPorts (src/peer/peer-ports.ts);
// main thread.

import type { SealKey } from '../crypto/datagram-sealer.js';
import { SESSION_STATE_BYTES } from '../crypto/session-state.js';
import type { PeerControl, PeerSealStart, PeerSession } from './peer-io-messages.js';

interface Known {
  address: string;
  port: number;
  legacy: boolean;
  session: PeerSession | null;
  sessionSab: SharedArrayBuffer | null;
}

export class ToldPeerThread {
  private readonly known = new Map<number, Known>();
  /** With a cluster key, how the thread seals (set before it starts); null: the original wire format. */
  sealing: PeerSealStart | null = null;

  constructor(private readonly post: (msg: PeerControl) => void) {}

  /** A new known peer: the thread hears its keepalives from now on. */
  add(peerId: number, address: string, port: number, legacy: boolean): void {
    // With a key, the thread keeps the peer's session and replay window in memory kept here, so a restarted thread goes on with them.
    const sessionSab = this.sealing === null ? null : new SharedArrayBuffer(SESSION_STATE_BYTES);
    const at: Known = { address, port, legacy, session: null, sessionSab };
    this.known.set(peerId, at);
    this.post({ type: 'set-peer', peerId, ...at });
  }

  /** The peer is legacy (or no longer); false when that is not news. */
  setLegacy(peerId: number, legacy: boolean): boolean {
    const at = this.known.get(peerId);
    if (at === undefined || at.legacy === legacy) return false;
    at.legacy = legacy;
    this.post({ type: 'set-peer', peerId, ...at });
    return true;
  }

  /** A genuine, fresh announcement showed the peer's session; the thread is told when it is a new one. */
  setSession(peerId: number, session: PeerSession): void {
    const at = this.known.get(peerId);
    if (at === undefined) return;
    const same = at.session !== null && at.session.hi === session.hi && at.session.lo === session.lo;
    at.session = session;
    if (!same) this.post({ type: 'set-peer', peerId, ...at });
  }

  delete(peerId: number): void {
    this.known.delete(peerId);
  }

  /** The held keys changed: the thread opens with `keys` and seals with sendId. */
  rekey(keys: SealKey[], sendId: number): void {
    if (this.sealing === null) return;
    this.sealing = { ...this.sealing, keys, sendId };
    this.post({ type: 'keys', keys, sendId });
  }

  /** Tell a new thread every known peer. */
  replay(): void {
    for (const [peerId, at] of this.known) this.post({ type: 'set-peer', peerId, ...at });
  }
}
