// PeerRec: what the peer I/O thread keeps per known peer — where its datagrams go,
// its port while up, whether it is legacy (the original DiVES), its counters, and its
// last offload advertisement — and the snapshot of it `show peers` gets. Peer I/O
// thread only; main sees snapshots.

import { addressOf, type Address } from '../linux/mmsg.js';
import { loadLibc } from '../linux/libc.js';
import { PEER_DROPS } from '../core/counters.js';
import { PlainVlans } from './wire/offload-advert.js';
import { SessionState } from '../crypto/session-state.js';
import { Subkey } from '../crypto/datagram-sealer.js';
import type { PeerIoStats } from './peer-io-messages.js';

export class PeerRec {
  portId = -1;
  /** The original DiVES (src/peer/peer-table.ts says when): plain frames of at most LEGACY_MAX_DATAGRAM bytes, nothing else. */
  legacy = false;
  framesIn = 0;
  bytesIn = 0;
  framesOut = 0;
  bytesOut = 0;
  keepalivesIn = 0;
  keepalivesOut = 0;
  offloadedIn = 0;
  offloadedOut = 0;
  /** The VLANs its last offload advertisement said need plain frames. */
  readonly plain = new PlainVlans();
  /** Indexed by PEER_DROP. */
  readonly drops = PEER_DROPS.create();
  /** With a cluster key: its session, newest timestamp and replay window (src/peer/peer-seal.ts), in memory main keeps. */
  readonly session: SessionState;
  /** With a cluster key: the subkeys of its datagrams to us and of ours to it (src/crypto/datagram-sealer.ts). */
  readonly rxKey = new Subkey();
  readonly txKey = new Subkey();
  /** PEER_DROP indexes already logged for this peer, as bits: a reason is logged once until it works again. */
  complained = 0;
  /** Where its datagrams go, and that sockaddr's native address for sendmmsg. */
  readonly at: Address;

  constructor(
    readonly id: number,
    readonly key: number,
    readonly sockaddr: Buffer,
    sessionSab: SharedArrayBuffer | null = null,
  ) {
    this.at = addressOf(loadLibc(), sockaddr);
    this.session = new SessionState(sessionSab ?? undefined);
  }

  snapshot(): PeerIoStats {
    return {
      peerId: this.id,
      framesIn: this.framesIn,
      bytesIn: this.bytesIn,
      framesOut: this.framesOut,
      bytesOut: this.bytesOut,
      keepalivesIn: this.keepalivesIn,
      keepalivesOut: this.keepalivesOut,
      offloadedIn: this.offloadedIn,
      offloadedOut: this.offloadedOut,
      plainVids: this.plain.heard ? this.plain.plainVids() : null,
      drops: PEER_DROPS.toRecord(this.drops),
    };
  }
}
