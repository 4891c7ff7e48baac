// Ethernet frame helpers: length validation, MACs as 48-bit integers, and the frame
// and VLAN id limits. Run by forwarding threads on the per-frame path (and by the main
// thread for parsing and printing MACs).
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
/** Valid VLAN ids. 0 means "priority tag only" and 4095 is reserved by 802.1Q. */
export const VID_MIN = 1;
export const VID_MAX = 4094;

/** validateFrame() results; 0 means the frame is usable. */
export const FRAME_OK = 0;
export const FRAME_RUNT = 1;
export const FRAME_GIANT = 2;

const TWO_32 = 0x1_0000_0000;

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

/** True when the address at buf[off] is the broadcast address ff:ff:ff:ff:ff:ff. */
export function isBroadcastAddr(buf: Uint8Array, off: number): boolean {
  return (buf[off] & buf[off + 1] & buf[off + 2] & buf[off + 3] & buf[off + 4] & buf[off + 5]) === 0xff;
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
