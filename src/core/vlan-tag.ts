// 802.1Q tags and VLAN lists: the tag's TPIDs and layout, reading and writing a tag in a
// frame, and the `VLANS` word of `tap DEV trunk VLANS` ("10,20,100-199") parsed and
// printed. The tag helpers run on a trunk TAP's I/O thread per frame (no throw, no
// allocation); the list parser runs on the main thread at the control boundary.
//
// A tagged frame, as a trunk carries it:
//
// | byte  | field                                          |
// |-------|------------------------------------------------|
// | 0-5   | destination MAC                                |
// | 6-11  | source MAC                                     |
// | 12-13 | TPID 0x8100 (a customer tag, 802.1Q)           |
// | 14-15 | TCI: priority (3 bits), DEI (1), vid (12 bits) |
// | 16-17 | the EtherType of the payload (or a second tag) |

import { DivesError } from './errors.js';
import { VID_MAX, VID_MIN } from './frame.js';

/** The TPID of an 802.1Q (customer) tag. */
export const TPID_8021Q = 0x8100;
/** The TPID of an 802.1ad service tag (the outer tag of QinQ). */
export const TPID_8021AD = 0x88a8;
/** The pre-standard QinQ TPID some switches still send. */
export const TPID_QINQ_OLD = 0x9100;
/** Bytes a tag adds to a frame. */
export const VLAN_TAG_LEN = 4;
/** Bytes of the MAC addresses before the tag. */
export const TAG_OFFSET = 12;

/** True when the 16 bits at buf[off] are the TPID of any tag (802.1Q, 802.1ad, old QinQ). */
export function isTpid(buf: Uint8Array, off: number): boolean {
  const t = (buf[off] << 8) | buf[off + 1];
  return t === TPID_8021Q || t === TPID_8021AD || t === TPID_QINQ_OLD;
}

/** Write an 802.1Q tag for `vid` (priority 0) at buf[off..off+4). */
export function writeTag(buf: Uint8Array, off: number, vid: number): void {
  buf[off] = TPID_8021Q >> 8;
  buf[off + 1] = TPID_8021Q & 0xff;
  buf[off + 2] = (vid >> 8) & 0x0f;
  buf[off + 3] = vid & 0xff;
}

/** The most VLANs one list may name: every valid vid. */
const MAX_LIST = VID_MAX;

/**
 * A VLAN list: vids and ranges separated by commas ("10,20,100-199"), each 1..4094.
 * Returns the vids sorted, each once. Throws DivesError EBADARG naming the bad part.
 */
export function parseVlanList(word: string): number[] {
  const out = new Set<number>();
  for (const part of word.split(',')) {
    const m = /^([0-9]{1,4})(?:-([0-9]{1,4}))?$/.exec(part);
    const lo = m === null ? NaN : Number(m[1]);
    const hi = m === null ? NaN : m[2] === undefined ? lo : Number(m[2]);
    if (!(lo >= VID_MIN && hi <= VID_MAX && lo <= hi)) {
      throw new DivesError('EBADARG', `VLANS must be vids ${VID_MIN}..${VID_MAX} and ranges LO-HI separated by commas (10,20,100-199), got ${JSON.stringify(part)} in ${JSON.stringify(word)}`);
    }
    for (let v = lo; v <= hi && out.size <= MAX_LIST; v++) out.add(v);
  }
  return [...out].sort((a, b) => a - b);
}

/** The shortest list parseVlanList reads back as `vids`: runs of three or more become ranges. */
export function formatVlanList(vids: readonly number[]): string {
  const sorted = [...new Set(vids)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    if (j - i >= 2) parts.push(`${sorted[i]}-${sorted[j]}`);
    else for (let k = i; k <= j; k++) parts.push(String(sorted[k]));
    i = j + 1;
  }
  return parts.join(',');
}
