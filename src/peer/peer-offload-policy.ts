// PeerOffloadPolicy: the main thread's view of offloaded frames between peers —
// which VLANs each live peer said it takes them on (its offload advertisement,
// src/peer/wire/offload-advert.ts), and what this switch advertises. PeerPorts feeds it from the
// peer I/O thread's events; Switch.updateOffloads asks it whether a VLAN's TAPs may
// hand over 64 KiB segments. Main thread; no I/O.

export class PeerOffloadPolicy {
  /** Peer id → the VLANs it takes no offloaded frame on, from its last advertisement (absent: none heard). */
  private readonly plainOf = new Map<number, ReadonlySet<number>>();
  /** What we advertise: the VLANs we need plain frames on, or null for "no offloaded frames at all". */
  advert: number[] | null = null;

  /** `enabled` false (--no-peer-offload): nothing is advertised, and no peer is sent an offloaded frame. */
  constructor(readonly enabled: boolean) {}

  /** A peer's advertisement said something new. */
  heard(peerId: number, plainVids: readonly number[]): void {
    this.plainOf.set(peerId, new Set(plainVids));
  }

  /** A peer went down: its advertisement is forgotten, as the peer thread forgets it. */
  forget(peerId: number): void {
    this.plainOf.delete(peerId);
  }

  /**
   * Every live peer takes offloaded frames on `vid` (true with no live peer): it
   * advertised, and `vid` is not among its plain VLANs. A TAP of `vid` may then hand
   * over 64 KiB segments, since any copy that reaches a peer crosses as one.
   */
  takesOffload(vid: number, livePeers: Iterable<number>): boolean {
    for (const peerId of livePeers) {
      if (!this.enabled) return false;
      const plain = this.plainOf.get(peerId);
      if (plain === undefined || plain.has(vid)) return false;
    }
    return true;
  }

  /** Advertise that we take offloaded frames except on `plainVids` (sorted). Returns true when that changed what we say. */
  setAdvert(plainVids: number[]): boolean {
    const advert = this.enabled ? plainVids : null;
    if (JSON.stringify(advert) === JSON.stringify(this.advert)) return false;
    this.advert = advert;
    return true;
  }
}
