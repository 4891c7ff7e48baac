// Fdb: the per-VLAN MAC table (forwarding database) that maps a learned source MAC to
// the port it was last seen on, with ageing, flush and deleteByPort.
// Owned and run by exactly one forwarding thread thread; the main thread only sees
// snapshots that the forwarding thread sends back, so nothing here is shared or synchronised.
//
// Layout: open addressing with linear probing over parallel typed arrays (keys, ports,
// last-seen times). The table has a power-of-two number of slots, at least twice the
// capacity, so it is never more than half full and every probe ends at an empty slot
// quickly. Deletion shifts later entries of the cluster backwards instead of leaving
// tombstones, so lookups stay O(1) however many entries have come and gone. learn() and
// lookup() neither throw nor allocate; time is passed in (the engine reads the clock once
// per batch), never read here.
//
// Memory: 20 bytes per slot, so the default capacity of 65536 entries costs 2.5 MiB.
//
// It also counts the entries of each port (portCount), for a VLAN's mac-limit: a port is
// made known with trackPort() when it joins, on the control path, so learn() still
// allocates nothing; an entry of a port never tracked is stored but not counted.

import { DivesError } from '../core/errors.js';

export interface FdbOptions {
  /** Most entries the table holds; default 65536. */
  capacity?: number;
  /** An entry this many ms past its last learn is expired; default 300000. */
  ageingTimeMs?: number;
}

/** learn() results. */
export const LEARN_NEW = 1;
export const LEARN_REFRESH = 2;
export const LEARN_MOVED = 3;
export const LEARN_FULL = 4;

export interface FdbCounters {
  /** New entries stored, including a MAC learned again after it expired. */
  learned: number;
  /** Known MACs seen on a different port than before. */
  moved: number;
  /** New MACs not learned because the table was full. */
  full: number;
  /** Entries removed because they expired (by lookup, learn or age). */
  aged: number;
  /** Entries removed by flush(). */
  flushed: number;
  /** Entries removed by deleteByPort(). */
  deleted: number;
}

export interface FdbEntry {
  mac: number;
  port: number;
  ageMs: number;
}

export const DEFAULT_FDB_CAPACITY = 65536;
export const DEFAULT_AGEING_TIME_MS = 300_000;
/** Largest capacity accepted; its table is 32 Mi slots (640 MiB), beyond any sane VLAN. */
export const MAX_FDB_CAPACITY = 1 << 24;

/**
 * Marks an empty slot. The table stores mac + 1 (MACs are 0 .. 2**48-1), so a
 * freshly allocated, all-zero table is empty without being written: its pages
 * stay untouched until used, which keeps a host with a thousand mostly idle
 * VLANs from paying a megabyte of resident memory per fdb.
 */
const EMPTY = 0;
const TWO_32 = 0x1_0000_0000;
const SWEEP_AGE = 0;
const SWEEP_PORT = 1;

/**
 * A 32-bit hash of a 48-bit MAC: the high 16 bits are mixed into the low word by a
 * multiply, then murmur3's finaliser spreads every input bit over the result. Sequential
 * MACs (as hypervisors hand out) thus land far apart. Exported for tests and for any
 * caller that wants to shard by MAC.
 */
export function macHash(mac: number): number {
  const hi = (mac / TWO_32) | 0;
  let h = (mac >>> 0) ^ Math.imul(hi ^ 0x5bd1e995, 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function checkAgeing(ms: number): number {
  if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0) {
    throw new DivesError('EBADARG', `fdb ageing time ${String(ms)} is invalid; give a number of milliseconds >= 0`);
  }
  return ms;
}

export class Fdb {
  readonly capacity: number;
  readonly counters: FdbCounters = { learned: 0, moved: 0, full: 0, aged: 0, flushed: 0, deleted: 0 };
  /** The port the MAC of the last LEARN_MOVED was on before (src/forwarding/mac-moves.ts reports it). */
  movedFrom = -1;

  readonly #mask: number;
  readonly #keys: Float64Array;
  readonly #ports: Int32Array;
  readonly #seen: Float64Array;
  #size = 0;
  /** Entries per port id, expired ones included until removed. */
  #perPort = new Int32Array(0);
  #ageingTimeMs: number;

  constructor(opts: FdbOptions = {}) {
    const capacity = opts.capacity ?? DEFAULT_FDB_CAPACITY;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_FDB_CAPACITY) {
      throw new DivesError('EBADARG', `fdb capacity ${String(capacity)} is invalid; give an integer from 1 to ${MAX_FDB_CAPACITY}`);
    }
    this.capacity = capacity;
    this.#ageingTimeMs = checkAgeing(opts.ageingTimeMs ?? DEFAULT_AGEING_TIME_MS);
    let slots = 2;
    while (slots < 2 * capacity) slots *= 2;
    this.#mask = slots - 1;
    this.#keys = new Float64Array(slots);
    this.#ports = new Int32Array(slots);
    this.#seen = new Float64Array(slots);
  }

  /**
   * Entries expire once nowMs - lastSeen >= ageingTimeMs, as in the Linux bridge: an entry
   * exactly ageingTimeMs old is already gone. 0 makes every entry expire at once (learning
   * off); Infinity turns ageing off. A change applies to existing entries at once.
   */
  get ageingTimeMs(): number {
    return this.#ageingTimeMs;
  }

  set ageingTimeMs(ms: number) {
    this.#ageingTimeMs = checkAgeing(ms);
  }

  /** Count the entries of port `id` from now on (a port joined). Control path: it may allocate. */
  trackPort(id: number): void {
    if (id < this.#perPort.length) return;
    const grown = new Int32Array(Math.max(id + 1, this.#perPort.length * 2, 16));
    grown.set(this.#perPort);
    this.#perPort = grown;
  }

  /** Entries learned on `port` (expired ones included until swept or looked up). */
  portCount(port: number): number {
    return port < this.#perPort.length ? this.#perPort[port] : 0;
  }

  #count(port: number, by: number): void {
    if (port < this.#perPort.length) this.#perPort[port] += by;
  }

  /** Entries stored, including expired ones that no lookup, learn or age() has removed yet. */
  get size(): number {
    return this.#size;
  }

  /**
   * Records that `mac` was seen as a source on `port` at nowMs. Returns LEARN_NEW for a MAC
   * not in the table (or in it but expired), LEARN_REFRESH for the same port, LEARN_MOVED
   * for another port, and LEARN_FULL when a new MAC does not fit; known MACs still refresh
   * and move in a full table. Callers pass a unicast MAC and a non-negative int32 port.
   */
  learn(mac: number, port: number, nowMs: number): number {
    const keys = this.#keys;
    const mask = this.#mask;
    const key = mac + 1;
    let i = macHash(mac) & mask;
    while (true) {
      const k = keys[i];
      if (k === key) {
        if (nowMs - this.#seen[i] >= this.#ageingTimeMs) {
          // The old entry expired: it is reused in place, but counted as aged and then
          // learned, exactly as if age() had swept it just before this frame.
          this.counters.aged++;
          this.counters.learned++;
          this.#count(this.#ports[i], -1);
          this.#count(port, 1);
          this.#ports[i] = port;
          this.#seen[i] = nowMs;
          return LEARN_NEW;
        }
        this.#seen[i] = nowMs;
        if (this.#ports[i] === port) return LEARN_REFRESH;
        this.movedFrom = this.#ports[i];
        this.#count(this.#ports[i], -1);
        this.#count(port, 1);
        this.#ports[i] = port;
        this.counters.moved++;
        return LEARN_MOVED;
      }
      if (k === EMPTY) break;
      i = (i + 1) & mask;
    }
    if (this.#size >= this.capacity) {
      this.counters.full++;
      return LEARN_FULL;
    }
    keys[i] = key;
    this.#ports[i] = port;
    this.#seen[i] = nowMs;
    this.#size++;
    this.#count(port, 1);
    this.counters.learned++;
    return LEARN_NEW;
  }

  /**
   * The port `mac` was learned on, or -1 when it is unknown or expired. An expired entry
   * found here is removed and counted as aged. A lookup does not refresh the entry: only
   * frames sent by the MAC (learn) keep it alive.
   */
  lookup(mac: number, nowMs: number): number {
    const keys = this.#keys;
    const mask = this.#mask;
    const key = mac + 1;
    let i = macHash(mac) & mask;
    while (true) {
      const k = keys[i];
      if (k === key) {
        if (nowMs - this.#seen[i] >= this.#ageingTimeMs) {
          this.#removeAt(i);
          this.counters.aged++;
          return -1;
        }
        return this.#ports[i];
      }
      if (k === EMPTY) return -1;
      i = (i + 1) & mask;
    }
  }

  /** Removes every entry expired at nowMs; returns how many. O(table size), no allocation. */
  age(nowMs: number): number {
    // The sweep walks the whole table; an empty one (most VLANs of a big host,
    // most of the time) has nothing to age, so skip it.
    if (this.#size === 0) return 0;
    const n = this.#sweep(SWEEP_AGE, nowMs);
    this.counters.aged += n;
    return n;
  }

  /** Removes every entry; returns how many. */
  flush(): number {
    const n = this.#size;
    this.#keys.fill(EMPTY);
    this.#perPort.fill(0);
    this.#size = 0;
    this.counters.flushed += n;
    return n;
  }

  /** Removes every entry that points at `port` (the port went away); returns how many. */
  deleteByPort(port: number): number {
    if (this.#size === 0) return 0;
    const n = this.#sweep(SWEEP_PORT, port);
    this.counters.deleted += n;
    return n;
  }

  /** How many entries are live at nowMs: `entries(nowMs).length` without building them. Control path, no allocation. */
  liveCount(nowMs: number): number {
    if (this.#size === 0) return 0;
    const keys = this.#keys;
    const seen = this.#seen;
    let n = 0;
    for (let i = 0; i <= this.#mask; i++) if (keys[i] !== EMPTY && nowMs - seen[i] < this.#ageingTimeMs) n++;
    return n;
  }

  /** A snapshot of the live entries at nowMs, sorted by MAC, for `show macs`. Control path. */
  entries(nowMs: number): FdbEntry[] {
    const out: FdbEntry[] = [];
    const keys = this.#keys;
    for (let i = 0; i <= this.#mask; i++) {
      if (keys[i] === EMPTY) continue;
      const ageMs = nowMs - this.#seen[i];
      if (ageMs >= this.#ageingTimeMs) continue;
      out.push({ mac: keys[i] - 1, port: this.#ports[i], ageMs });
    }
    return out.sort((a, b) => a.mac - b.mac);
  }

  /**
   * Visits every occupied slot once and removes the expired entries (SWEEP_AGE, arg is
   * nowMs) or those on one port (SWEEP_PORT, arg is the port); returns how many went.
   * The walk starts just after an empty slot and covers the table once from there, so no
   * cluster wraps past the starting point; a removal shifts later entries of the cluster
   * into the freed slot, so that slot is examined again instead of advancing. Entries only
   * ever move backwards within their own cluster, so none is skipped. The two predicates
   * are written inline rather than passed as a closure so a sweep allocates nothing.
   */
  #sweep(kind: number, arg: number): number {
    if (this.#size === 0) return 0;
    const keys = this.#keys;
    const ports = this.#ports;
    const seen = this.#seen;
    const mask = this.#mask;
    const ageing = this.#ageingTimeMs;
    let start = 0;
    // The table is at most half full, so an empty slot exists and this loop ends.
    while (keys[start] !== EMPTY) start++;
    let n = 0;
    let step = 0;
    while (step <= mask) {
      const i = (start + 1 + step) & mask;
      const drop =
        keys[i] !== EMPTY && (kind === SWEEP_AGE ? arg - seen[i] >= ageing : ports[i] === arg);
      if (drop) {
        this.#removeAt(i);
        n++;
      } else {
        step++;
      }
    }
    return n;
  }

  /**
   * Backward-shift deletion: empties slot `hole`, then walks the rest of the cluster and
   * moves each entry whose home slot is not in (hole, j] back into the hole, so every
   * entry stays reachable from its home slot without tombstones.
   */
  #removeAt(hole: number): void {
    const keys = this.#keys;
    const ports = this.#ports;
    const seen = this.#seen;
    const mask = this.#mask;
    this.#count(ports[hole], -1);
    let j = hole;
    while (true) {
      j = (j + 1) & mask;
      const k = keys[j];
      if (k === EMPTY) break;
      const home = macHash(k - 1) & mask;
      // The entry at j may move to the hole unless its home lies cyclically in (hole, j],
      // i.e. unless its probe distance is shorter than the distance from the hole to j.
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        keys[hole] = k;
        ports[hole] = ports[j];
        seen[hole] = seen[j];
        hole = j;
      }
    }
    keys[hole] = EMPTY;
    this.#size--;
  }
}
