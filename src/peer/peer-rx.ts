// PeerRx: where the datagrams of known peers go once received (and opened, when keyed):
// keepalives and offload advertisements are reported to main, and frames are checked
// (vid header, an offloaded frame's virtio_net_hdr, VLAN, port) and queued on the rx ring
// of their VLAN's forwarding thread. The receive half of src/peer/peer-io.ts, as
// src/peer/peer-tx-batch.ts is the send half. Peer I/O thread only.
//
// Thread safety: this thread is the single producer of every rx ring; nothing here
// throws or allocates per datagram.

import { PEER_DROP } from '../core/counters.js';
import { VNET_HDR_LEN, ringMeta } from '../core/ring-record.js';
import type { FrameTrace } from '../core/frame-trace.js';
import type { Ring } from '../core/ring.js';
import { PEER_DECODED_VNET, PEER_HDR_LEN, decodePeerDatagram, peerDropOf } from './wire/peer-datagram.js';
import { isKeepalive, isTimedKeepalive } from './wire/keepalive.js';
import { isOffloadAdvert } from './wire/offload-advert.js';
import { VNET_OK, checkVnetHdr } from './wire/vnet-hdr-check.js';
import type { PeerEvent } from './peer-io-messages.js';
import type { PeerRec } from './peer-record.js';

const D_BAD_VNET_HDR = PEER_DROP['bad-vnet-hdr'];
const D_DOWN = PEER_DROP.down;
const D_NO_VLAN = PEER_DROP['no-vlan'];
const D_RX_RING_FULL = PEER_DROP['rx-ring-full'];

export class PeerRx {
  /** Forwarding thread index of each VLAN peers are members of, -1 for the others. */
  readonly vidFw = new Int16Array(4096).fill(-1);
  /** The rx ring to each forwarding thread, by its index. */
  readonly rings: (Ring | undefined)[] = [];

  constructor(
    private readonly maxFrame: number,
    private readonly trace: FrameTrace,
    private readonly emit: (e: PeerEvent) => void,
    /** A keyed switch's keepalives carry a timestamp (src/peer/wire/keepalive.ts); an unkeyed one takes only the original 13 bytes. */
    private readonly keyed: boolean,
  ) {}

  /**
   * One datagram from known peer p, unsealed if it was sealed, at msg[0..len): a keepalive,
   * an advertisement, or a frame for its VLAN's forwarding thread.
   */
  take(p: PeerRec, msg: Buffer, len: number): void {
    if (this.keyed ? isTimedKeepalive(msg, len) : isKeepalive(msg, len)) {
      p.keepalivesIn++;
      this.emit({ type: 'heard', peerId: p.id });
      return;
    }
    if (isOffloadAdvert(msg, len)) {
      // From a legacy peer it is ignored: a legacy peer is sent no offloaded frame.
      if (!p.legacy && p.plain.update(msg)) this.emit({ type: 'offload', peerId: p.id, plainVids: p.plain.plainVids() });
      return;
    }
    const r = decodePeerDatagram(msg, len, this.maxFrame);
    if (r < 0) {
      p.drops[peerDropOf(r)]++;
      return;
    }
    const vid = r & 0xfff;
    const vnet = (r & PEER_DECODED_VNET) !== 0;
    // A header that does not fit its frame never reaches a TAP's kernel, which might
    // refuse it (a tap-write drop) or, worse, take it and act on it.
    if (vnet && checkVnetHdr(msg, PEER_HDR_LEN, len - PEER_HDR_LEN, this.maxFrame) !== VNET_OK) {
      p.drops[D_BAD_VNET_HDR]++;
      return;
    }
    if (p.portId < 0) {
      p.drops[D_DOWN]++;
      return;
    }
    const fw = this.vidFw[vid];
    const ring = fw < 0 ? undefined : this.rings[fw];
    if (ring === undefined) {
      p.drops[D_NO_VLAN]++;
      return;
    }
    // An offloaded frame keeps its virtio_net_hdr in the record, as a TAP's does.
    if (ring.write(msg, PEER_HDR_LEN, len - PEER_HDR_LEN, ringMeta(vid, p.portId, vnet) | this.trace.begin()) === 0) {
      p.drops[D_RX_RING_FULL]++;
      return;
    }
    p.framesIn++;
    if (vnet) {
      p.offloadedIn++;
      p.bytesIn += len - PEER_HDR_LEN - VNET_HDR_LEN;
    } else {
      p.bytesIn += len - PEER_HDR_LEN;
    }
  }

  /** Publish what take() wrote on every rx ring (one doorbell per ring per batch). */
  commit(): void {
    const rings = this.rings;
    for (let i = 0; i < rings.length; i++) rings[i]?.commit();
  }
}
