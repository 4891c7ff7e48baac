// Peer offload advertisement: the control datagram a switch sends its peers to say
// that it takes offloaded frames (PEER_F_VNET datagrams: TCP segments of up to 64 KiB,
// checksums left to do), and on which VLANs it does not because a local port there
// needs plain frames (a QEMU socket). See docs/wire-protocol.md, "Offload advertisement".
// Built on the main thread, sent and recognised by the peer I/O thread; no I/O here,
// and the receive-side functions neither throw nor allocate.
//
// Layout: the 4-byte zero vid word (which never names a VLAN), the ASCII text
// "offload", then a 512-byte bitmap with bit (vid & 7) of byte (vid >> 3) set for
// every VLAN that needs plain frames: 523 bytes in all. A switch that does not know
// this datagram drops it as a bad vid, and is then never sent an offloaded frame.

import { PEER_HDR_LEN } from './peer-datagram.js';

const TEXT = 'offload';
const BITMAP_LEN = 4096 / 8;
const BITMAP_AT = PEER_HDR_LEN + TEXT.length;

/** Length of an offload advertisement. */
export const OFFLOAD_ADVERT_LEN = BITMAP_AT + BITMAP_LEN;

/** The advertisement for a switch whose VLANs `plainVids` need plain frames. */
export function encodeOffloadAdvert(plainVids: Iterable<number>): Buffer {
  const out = Buffer.alloc(OFFLOAD_ADVERT_LEN);
  out.write(TEXT, PEER_HDR_LEN, 'latin1');
  for (const vid of plainVids) {
    if (Number.isInteger(vid) && vid >= 0 && vid < 4096) out[BITMAP_AT + (vid >> 3)] |= 1 << (vid & 7);
  }
  return out;
}

/** True when buf[0..len) is an offload advertisement. */
export function isOffloadAdvert(buf: Uint8Array, len: number): boolean {
  if (len !== OFFLOAD_ADVERT_LEN || buf.length < len) return false;
  if (buf[0] !== 0 || buf[1] !== 0 || buf[2] !== 0 || buf[3] !== 0) return false;
  for (let i = 0; i < TEXT.length; i++) if (buf[PEER_HDR_LEN + i] !== TEXT.charCodeAt(i)) return false;
  return true;
}

/** A peer's view of which VLANs need plain frames, kept from its last advertisement. */
export class PlainVlans {
  /** False until the first advertisement: a peer that never sent one takes no offloaded frame. */
  heard = false;
  private readonly bits = new Uint8Array(BITMAP_LEN);

  /** Take an advertisement (isOffloadAdvert already true). Returns true when it says something new. */
  update(advert: Uint8Array): boolean {
    let changed = !this.heard;
    for (let i = 0; i < BITMAP_LEN; i++) {
      const b = advert[BITMAP_AT + i];
      if (this.bits[i] !== b) {
        this.bits[i] = b;
        changed = true;
      }
    }
    this.heard = true;
    return changed;
  }

  /** The peer takes an offloaded frame on `vid`. */
  takesOffload(vid: number): boolean {
    return this.heard && (this.bits[vid >> 3] & (1 << (vid & 7))) === 0;
  }

  /** Forget the advertisement (the peer went down); until the next, nothing offloaded. */
  reset(): void {
    this.heard = false;
    this.bits.fill(0);
  }

  /** The VLANs that need plain frames, for main. */
  plainVids(): number[] {
    const out: number[] = [];
    for (let i = 0; i < BITMAP_LEN; i++) {
      const b = this.bits[i];
      if (b === 0) continue;
      for (let j = 0; j < 8; j++) if ((b & (1 << j)) !== 0) out.push(i * 8 + j);
    }
    return out;
  }
}
