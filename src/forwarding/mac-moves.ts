// MacMoveLog: the MAC moves a forwarding thread reports to main, which turns them into
// `mac-moved` and `mac-flap` events (src/switch/mac-move-events.ts). Its VLAN engines
// record each move as the fdb makes it (a learn on another port); the forwarding loop
// takes what was recorded at most every MOVE_REPORT_MS and posts it as one message.
// Runs on a forwarding thread; nothing here is shared with another thread.
//
// Bounded and allocation-free on the per-frame path: record() writes into typed arrays
// made once. Flap damping: a MAC (per VLAN) that moves more than MAC_FLAP_MOVES times in
// one of the thread's one-second windows is reported once, as a flap (the engine counts
// it under mac-flaps), and its further moves only counted (moved) until a window in which
// it moves no more than MAC_FLAP_MOVES times. At most MAX_REPORTED_MOVES moves are held
// between two reports; more are counted as unreported. MACs tracked for damping are
// bounded by FLAP_SLOTS / 2; a move of a MAC past that is reported without damping.

import { MAC_FLAP_MOVES, MAX_REPORTED_MOVES } from '../core/mac-move-limits.js';
import { macHash } from './fdb.js';

/** Numbers per reported move: vid, mac, from, to, flap (1 for a flap, 0 for a move). */
export const MOVE_FIELDS = 5;

const FLAP_SLOTS = 1024;
const MAX_TRACKED = FLAP_SLOTS / 2;
const MASK = FLAP_SLOTS - 1;

/** What one report carries: MOVE_FIELDS numbers per move, and the moves left out. */
export interface MacMovesReport {
  moves: Float64Array<ArrayBuffer>;
  unreported: number;
}

export class MacMoveLog {
  // The damping table: open addressing on (vid, mac), mac + 1 stored so 0 is empty.
  readonly #macs = new Float64Array(FLAP_SLOTS);
  readonly #vids = new Int32Array(FLAP_SLOTS);
  readonly #moves = new Int32Array(FLAP_SLOTS);
  readonly #flapping = new Uint8Array(FLAP_SLOTS);
  #tracked = 0;
  // Where roll() keeps the flapping MACs while it empties the table.
  readonly #keepMacs = new Float64Array(MAX_TRACKED);
  readonly #keepVids = new Int32Array(MAX_TRACKED);
  // The moves recorded since the last report.
  readonly #report = new Float64Array(MAX_REPORTED_MOVES * MOVE_FIELDS);
  #pending = 0;
  #unreported = 0;

  /** True when there is something to report. */
  get owed(): boolean {
    return this.#pending > 0 || this.#unreported > 0;
  }

  /**
   * `mac` moved from port `from` to port `to` in VLAN `vid`. Returns true when this move
   * made it a flapping MAC (count it once); false otherwise.
   */
  record(vid: number, mac: number, from: number, to: number): boolean {
    const i = this.#slot(vid, mac);
    if (i < 0) {
      this.#add(vid, mac, from, to, 0);
      return false;
    }
    const n = ++this.#moves[i];
    if (this.#flapping[i] !== 0) return false;
    if (n <= MAC_FLAP_MOVES) {
      this.#add(vid, mac, from, to, 0);
      return false;
    }
    this.#flapping[i] = 1;
    this.#add(vid, mac, from, to, 1);
    return true;
  }

  /**
   * The second is over (the loop's ageing tick): MACs that moved more than MAC_FLAP_MOVES
   * times in it stay flapping, with a fresh count; every other MAC is forgotten.
   */
  roll(): void {
    if (this.#tracked === 0) return;
    let kept = 0;
    for (let i = 0; i < FLAP_SLOTS; i++) {
      if (this.#macs[i] === 0 || this.#moves[i] <= MAC_FLAP_MOVES) continue;
      this.#keepMacs[kept] = this.#macs[i];
      this.#keepVids[kept] = this.#vids[i];
      kept++;
    }
    this.#macs.fill(0);
    this.#moves.fill(0);
    this.#flapping.fill(0);
    this.#tracked = 0;
    for (let k = 0; k < kept; k++) this.#flapping[this.#slot(this.#keepVids[k], this.#keepMacs[k] - 1)] = 1;
  }

  /** What was recorded since the last call, or null when nothing was. Not per frame: it allocates the report. */
  take(): MacMovesReport | null {
    if (!this.owed) return null;
    const report = { moves: this.#report.slice(0, this.#pending * MOVE_FIELDS), unreported: this.#unreported };
    this.#pending = 0;
    this.#unreported = 0;
    return report;
  }

  #add(vid: number, mac: number, from: number, to: number, flap: number): void {
    if (this.#pending >= MAX_REPORTED_MOVES) {
      this.#unreported++;
      return;
    }
    const at = this.#pending++ * MOVE_FIELDS;
    const r = this.#report;
    r[at] = vid;
    r[at + 1] = mac;
    r[at + 2] = from;
    r[at + 3] = to;
    r[at + 4] = flap;
  }

  /** The slot of (vid, mac), made if new; -1 when the table has no room for another MAC. */
  #slot(vid: number, mac: number): number {
    const key = mac + 1;
    let i = (macHash(mac) ^ Math.imul(vid, 0x9e3779b1)) & MASK;
    while (this.#macs[i] !== 0) {
      if (this.#macs[i] === key && this.#vids[i] === vid) return i;
      i = (i + 1) & MASK;
    }
    if (this.#tracked >= MAX_TRACKED) return -1;
    this.#macs[i] = key;
    this.#vids[i] = vid;
    this.#moves[i] = 0;
    this.#flapping[i] = 0;
    this.#tracked++;
    return i;
  }
}
