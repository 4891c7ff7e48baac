// Ethernet frame helpers: length validation, MACs as 48-bit integers, and FrameView,
// a reusable zero-copy view over one frame inside a ring or socket buffer.
// Run by forwarding workers on the per-frame path (and by the main thread for parsing MACs).
//
// A MAC is a plain JS number holding the 48-bit value b0<<40 | ... | b5. Every such value
// is an exact integer in a double (< 2**53), so MACs compare with ===, key typed arrays and
// cost no allocation, unlike strings. Nothing here reads outside [off, off + len) of a frame
// that has passed validateFrame(), and nothing on the per-frame path throws or allocates.

import { DivesError } from './errors.js';

export const ETH_ALEN = 6;
export const ETH_HLEN = 14;
export const ETH_ZLEN = 60;
export const DEFAULT_MAX_FRAME = 65535;
export const ETH_P_8021Q = 0x8100;
export const ETH_P_8021AD = 0x88a8;
/** Length of one 802.1Q/802.1ad tag (TPID + TCI). */
export const VLAN_TAG_LEN = 4;
/** Shortest frame that carries a whole tag and the ethertype after it. */
export const VLAN_ETH_HLEN = ETH_HLEN + VLAN_TAG_LEN;

/** validateFrame() reasons; 0 means the frame is usable. Indexes into FRAME_REASON_NAMES. */
export const FRAME_OK = 0;
export const FRAME_RUNT = 1;
export const FRAME_GIANT = 2;
export const FRAME_REASON_NAMES: readonly string[] = Object.freeze(['ok', 'runt', 'giant']);

const TWO_32 = 0x1_0000_0000;
const TWO_40 = 0x100_0000_0000;

/** The broadcast address ff:ff:ff:ff:ff:ff as a 48-bit integer. */
export const BROADCAST_MAC = 0xffff_ffff_ffff;

/**
 * Classifies a frame length: FRAME_RUNT below the 14-byte header, FRAME_GIANT above
 * maxFrame, FRAME_OK otherwise. Frames shorter than ETH_ZLEN are accepted because TAP
 * devices and QEMU hand over frames without the padding a wire would add.
 */
export function validateFrame(len: number, maxFrame: number = DEFAULT_MAX_FRAME): number {
  if (len < ETH_HLEN) return FRAME_RUNT;
  if (len > maxFrame) return FRAME_GIANT;
  return FRAME_OK;
}

/** Reads the 6 bytes at buf[off..off+5] as a 48-bit integer. */
export function macAt(buf: Uint8Array, off: number): number {
  const hi = (buf[off] << 8) | buf[off + 1];
  // `>>> 0` keeps the low word unsigned when byte 2 has bit 7 set.
  const lo = ((buf[off + 2] << 24) | (buf[off + 3] << 16) | (buf[off + 4] << 8) | buf[off + 5]) >>> 0;
  return hi * TWO_32 + lo;
}

/** The destination MAC of the frame starting at frameOff. */
export function dstMac(buf: Uint8Array, frameOff: number): number {
  return macAt(buf, frameOff);
}

/** The source MAC of the frame starting at frameOff. */
export function srcMac(buf: Uint8Array, frameOff: number): number {
  return macAt(buf, frameOff + ETH_ALEN);
}

/** True when the address at buf[off] has the I/G bit set: multicast or broadcast. */
export function isGroupAddr(buf: Uint8Array, off: number): boolean {
  return (buf[off] & 1) !== 0;
}

/** True when the 48-bit MAC has the I/G bit (bit 0 of its first octet) set. */
export function isGroupMac(mac: number): boolean {
  // Dividing by a power of two is exact, so the floor is the first octet.
  return (Math.floor(mac / TWO_40) & 1) !== 0;
}

/** Writes a 48-bit MAC as 6 bytes at buf[off..off+5]. */
export function writeMac(mac: number, buf: Uint8Array, off: number): void {
  const hi = Math.floor(mac / TWO_32);
  // ToUint32 reduces the exact integer modulo 2**32, which is the low word.
  const lo = mac >>> 0;
  buf[off] = hi >>> 8;
  buf[off + 1] = hi;
  buf[off + 2] = lo >>> 24;
  buf[off + 3] = lo >>> 16;
  buf[off + 4] = lo >>> 8;
  buf[off + 5] = lo;
}

/** Formats a MAC as lowercase colon-separated octets, e.g. "02:00:00:00:00:01". Control path only. */
export function macToString(mac: number): string {
  const hi = Math.floor(mac / TWO_32);
  const lo = mac >>> 0;
  const octets = [hi >>> 8, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff];
  return octets.map((o) => o.toString(16).padStart(2, '0')).join(':');
}

// Six octets of one or two hex digits, all separated by ':' or all by '-'. One-digit
// octets ("2:0:0:0:0:1") are accepted, as glibc's ether_aton and `ip link` accept them,
// because people type MACs that way; mixing separators is rejected as a likely typo.
const MAC_RE = /^([0-9a-f]{1,2})([:-])([0-9a-f]{1,2})\2([0-9a-f]{1,2})\2([0-9a-f]{1,2})\2([0-9a-f]{1,2})\2([0-9a-f]{1,2})$/i;

/**
 * Parses "aa:bb:cc:dd:ee:ff" or "aa-bb-cc-dd-ee-ff" (case-insensitive, one or two hex
 * digits per octet) into a 48-bit integer. Throws DivesError('EBADARG') otherwise.
 */
export function parseMac(text: string): number {
  const m = MAC_RE.exec(text);
  if (m === null) {
    throw new DivesError('EBADARG', `"${text}" is not a MAC address; write six hex octets like 02:00:00:00:00:01`);
  }
  let mac = 0;
  for (const i of [1, 3, 4, 5, 6, 7]) mac = mac * 256 + parseInt(m[i], 16);
  return mac;
}

/**
 * A reusable view of one Ethernet frame inside a larger buffer. Each forwarding thread
 * keeps one instance and re-points it with set() for every frame, so reading headers
 * allocates nothing. set() does not validate: callers run validateFrame() first, and the
 * getters assume len >= ETH_HLEN. Tag fields are read only when the whole tag fits.
 *
 * For QinQ (802.1ad outer tag) frames the view describes the outer tag: vid is the S-VID
 * and innerEthertype is the TPID of the inner tag (0x8100).
 */
export class FrameView {
  #buf: Uint8Array = new Uint8Array(0);
  #off = 0;
  #len = 0;

  set(buf: Uint8Array, off: number, len: number): this {
    this.#buf = buf;
    this.#off = off;
    this.#len = len;
    return this;
  }

  get buf(): Uint8Array {
    return this.#buf;
  }

  get off(): number {
    return this.#off;
  }

  get len(): number {
    return this.#len;
  }

  get dst(): number {
    return macAt(this.#buf, this.#off);
  }

  get src(): number {
    return macAt(this.#buf, this.#off + ETH_ALEN);
  }

  /** The ethertype or TPID at bytes 12..13. */
  get ethertype(): number {
    const b = this.#buf;
    const o = this.#off + 12;
    return (b[o] << 8) | b[o + 1];
  }

  /** True when the frame carries an 802.1Q or 802.1ad tag that fits inside len. */
  get tagged(): boolean {
    const t = this.ethertype;
    return (t === ETH_P_8021Q || t === ETH_P_8021AD) && this.#len >= VLAN_ETH_HLEN;
  }

  /** The VID (low 12 bits of the TCI) when tagged, else -1. */
  get vid(): number {
    if (!this.tagged) return -1;
    const b = this.#buf;
    const o = this.#off + 14;
    return ((b[o] << 8) | b[o + 1]) & 0xfff;
  }

  /** The priority code point (top 3 bits of the TCI) when tagged, else -1. */
  get pcp(): number {
    if (!this.tagged) return -1;
    return this.#buf[this.#off + 14] >>> 5;
  }

  /** The ethertype after the tag when tagged, else the same as ethertype. */
  get innerEthertype(): number {
    if (!this.tagged) return this.ethertype;
    const b = this.#buf;
    const o = this.#off + 16;
    return (b[o] << 8) | b[o + 1];
  }

  /** True when the destination is multicast or broadcast (flooded, never learned). */
  get dstIsGroup(): boolean {
    return (this.#buf[this.#off] & 1) !== 0;
  }
}
