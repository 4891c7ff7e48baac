// Tests for src/forwarding/fdb.ts: learn/lookup, ageing, flush, deleteByPort, the capacity limit,
// backward-shift deletion in colliding and wrapping clusters, and a seeded randomized
// comparison against a plain Map model. Pure units: no threads.

import test from 'ava';
import { isDivesError } from '../../src/core/errors.js';
import {
  Fdb,
  LEARN_FULL,
  LEARN_MOVED,
  LEARN_NEW,
  LEARN_REFRESH,
  macHash,
  type FdbCounters,
  type FdbEntry,
} from '../../src/forwarding/fdb.js';
import { mulberry32 as prng } from '../helpers/prng.js';


/** A random unicast MAC (I/G bit clear), as the fdb only learns source addresses. */
function randomMac(rand: () => number): number {
  const hi = Math.floor(rand() * 0x10000) & 0xfeff;
  const lo = Math.floor(rand() * 0x1_0000_0000);
  return hi * 0x1_0000_0000 + lo;
}

function distinctMacs(rand: () => number, n: number): number[] {
  const set = new Set<number>();
  while (set.size < n) set.add(randomMac(rand));
  return [...set];
}

/** Date.now()-sized times, so last-seen values exceed 32 bits as they will in the engine. */
const T0 = 1_700_000_000_000;
const A = 0x020000000001;
const B = 0x020000000002;

test('a learned MAC is found on its port and an unknown one misses', (t) => {
  const fdb = new Fdb();
  t.is(fdb.learn(A, 3, T0), LEARN_NEW);
  t.is(fdb.learn(B, 0, T0), LEARN_NEW);
  t.is(fdb.lookup(A, T0), 3);
  t.is(fdb.lookup(B, T0 + 1), 0);
  t.is(fdb.lookup(0x020000000003, T0), -1);
  t.is(fdb.size, 2);
  t.is(fdb.capacity, 65536);
  t.is(fdb.ageingTimeMs, 300_000);
  t.like(fdb.counters, { learned: 2, moved: 0, full: 0, aged: 0 });
});

test('learning a MAC again on the same port refreshes its last-seen time', (t) => {
  const fdb = new Fdb({ ageingTimeMs: 1000 });
  fdb.learn(A, 1, T0);
  t.is(fdb.learn(A, 1, T0 + 900), LEARN_REFRESH);
  // Without the refresh this lookup would be 1100 ms after the first learn and miss.
  t.is(fdb.lookup(A, T0 + 1100), 1);
  t.deepEqual(fdb.entries(T0 + 1100), [{ mac: A, port: 1, ageMs: 200 }]);
  t.is(fdb.size, 1);
  t.is(fdb.counters.learned, 1);
  t.is(fdb.counters.moved, 0);
});

test('a MAC seen on another port moves and is counted', (t) => {
  const fdb = new Fdb();
  fdb.learn(A, 1, T0);
  t.is(fdb.learn(A, 2, T0 + 5), LEARN_MOVED);
  t.is(fdb.lookup(A, T0 + 5), 2);
  t.is(fdb.learn(A, 2, T0 + 6), LEARN_REFRESH);
  t.is(fdb.counters.moved, 1);
  t.is(fdb.counters.learned, 1);
  t.is(fdb.size, 1);
});

test('an entry exactly ageingTimeMs old has expired, one ms younger has not', (t) => {
  // Decision (as the Linux bridge): valid while nowMs - lastSeen < ageingTimeMs.
  const fdb = new Fdb({ ageingTimeMs: 300_000 });
  fdb.learn(A, 4, T0);
  t.is(fdb.lookup(A, T0 + 299_999), 4);
  t.is(fdb.counters.aged, 0);
  t.is(fdb.lookup(A, T0 + 300_000), -1);
  t.is(fdb.counters.aged, 1);
  t.is(fdb.size, 0, 'the expired entry found by lookup is removed');
  t.is(fdb.lookup(A, T0 + 300_000), -1);
  t.is(fdb.counters.aged, 1, 'a removed entry is not counted twice');
});

test('learning an expired MAC counts it aged and learned anew, not moved', (t) => {
  const fdb = new Fdb({ ageingTimeMs: 1000 });
  fdb.learn(A, 1, T0);
  t.is(fdb.learn(A, 2, T0 + 1000), LEARN_NEW);
  t.is(fdb.lookup(A, T0 + 1000), 2);
  t.like(fdb.counters, { learned: 2, aged: 1, moved: 0 });
  t.is(fdb.size, 1);
});

test('age() removes exactly the expired entries and reports how many', (t) => {
  const fdb = new Fdb({ ageingTimeMs: 100 });
  for (let i = 0; i < 10; i++) fdb.learn(A + i * 2, i, T0 + i * 10);
  // At T0 + 150 the entries learned at T0 .. T0 + 50 are >= 100 ms old.
  t.is(fdb.age(T0 + 150), 6);
  t.is(fdb.size, 4);
  t.is(fdb.counters.aged, 6);
  for (let i = 0; i < 10; i++) t.is(fdb.lookup(A + i * 2, T0 + 150), i < 6 ? -1 : i);
  t.is(fdb.age(T0 + 150), 0);
  t.deepEqual(
    fdb.entries(T0 + 150).map((e) => e.port),
    [6, 7, 8, 9],
  );
});

test('ageing can be changed at run time and Infinity turns it off', (t) => {
  const fdb = new Fdb({ ageingTimeMs: Infinity });
  fdb.learn(A, 1, 0);
  t.is(fdb.lookup(A, 1e15), 1);
  t.is(fdb.age(1e15), 0);
  fdb.ageingTimeMs = 10;
  t.is(fdb.age(1e15), 1);
  t.throws(() => (fdb.ageingTimeMs = -1), { code: 'EBADARG' });
  t.throws(() => (fdb.ageingTimeMs = NaN), { code: 'EBADARG' });
  t.is(fdb.ageingTimeMs, 10);
});

test('flush removes everything and the table keeps working', (t) => {
  const fdb = new Fdb({ capacity: 100 });
  for (let i = 0; i < 100; i++) fdb.learn(A + i * 2, i % 3, T0);
  t.is(fdb.flush(), 100);
  t.is(fdb.size, 0);
  t.is(fdb.counters.flushed, 100);
  t.is(fdb.lookup(A, T0), -1);
  t.deepEqual(fdb.entries(T0), []);
  t.is(fdb.learn(A, 9, T0), LEARN_NEW);
  t.is(fdb.lookup(A, T0), 9);
  t.is(fdb.flush(), 1);
});

test('deleteByPort over 50k random MACs keeps every other port findable', (t) => {
  const rand = prng(0xfdb);
  const macs = distinctMacs(rand, 50_000);
  const fdb = new Fdb();
  macs.forEach((mac, i) => t.is(fdb.learn(mac, i % 8, T0), LEARN_NEW));
  t.is(fdb.size, 50_000);
  let removed = 0;
  for (const port of [0, 2, 4, 6]) removed += fdb.deleteByPort(port);
  t.is(removed, 25_000);
  t.is(fdb.counters.deleted, 25_000);
  t.is(fdb.size, 25_000);
  let wrong = 0;
  macs.forEach((mac, i) => {
    const want = i % 2 === 0 ? -1 : i % 8;
    if (fdb.lookup(mac, T0) !== want) wrong++;
  });
  t.is(wrong, 0);
  t.is(fdb.deleteByPort(0), 0);
  t.is(fdb.entries(T0).length, 25_000);
});

test('deletion shifts entries back across the end of the table', (t) => {
  // capacity 8 gives 16 slots; MACs whose home slot is 14 or 15 build a cluster that
  // wraps to slot 0, the case where backward shifting is easiest to get wrong.
  const rand = prng(7);
  const wrapping: number[] = [];
  const homeZero: number[] = [];
  while (wrapping.length < 5 || homeZero.length < 3) {
    const mac = randomMac(rand);
    const home = macHash(mac) & 15;
    if (home >= 14 && wrapping.length < 5) wrapping.push(mac);
    else if (home === 0 && homeZero.length < 3) homeZero.push(mac);
  }
  for (let trial = 0; trial < 200; trial++) {
    const fdb = new Fdb({ capacity: 8 });
    // Interleave the two groups in a random order so clusters form differently each time.
    const all = [...wrapping, ...homeZero];
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [all[i], all[j]] = [all[j], all[i]];
    }
    all.forEach((mac, i) => t.is(fdb.learn(mac, i % 3, T0), LEARN_NEW));
    const port = trial % 3;
    const gone = all.filter((_, i) => i % 3 === port).length;
    t.is(fdb.deleteByPort(port), gone);
    all.forEach((mac, i) => t.is(fdb.lookup(mac, T0), i % 3 === port ? -1 : i % 3));
    t.is(fdb.size, all.length - gone);
  }
});

test('a full table refuses new MACs, still refreshes and moves known ones, and recovers after deletes', (t) => {
  const fdb = new Fdb({ capacity: 8, ageingTimeMs: 1000 });
  for (let i = 0; i < 8; i++) t.is(fdb.learn(A + i * 2, i % 2, T0), LEARN_NEW);
  t.is(fdb.size, 8);
  t.is(fdb.learn(A + 100, 1, T0), LEARN_FULL);
  t.is(fdb.learn(A + 102, 1, T0), LEARN_FULL);
  t.is(fdb.counters.full, 2);
  t.is(fdb.lookup(A + 100, T0), -1);
  t.is(fdb.learn(A, 0, T0 + 1), LEARN_REFRESH);
  t.is(fdb.learn(A + 2, 0, T0 + 1), LEARN_MOVED);
  t.is(fdb.size, 8);
  // Entries now on port 1: i = 3, 5, 7.
  t.is(fdb.deleteByPort(1), 3);
  for (let i = 0; i < 3; i++) t.is(fdb.learn(A + 100 + i * 2, 5, T0 + 2), LEARN_NEW);
  t.is(fdb.learn(A + 200, 5, T0 + 2), LEARN_FULL);
  t.is(fdb.counters.full, 3);
  // Ageing frees room too: everything but the three newest expires at T0 + 1001.
  t.is(fdb.age(T0 + 1001), 5);
  t.is(fdb.learn(A + 200, 6, T0 + 1001), LEARN_NEW);
  t.is(fdb.lookup(A + 100, T0 + 1001), 5);
  t.is(fdb.lookup(A + 200, T0 + 1001), 6);
});

test('bad options are refused with EBADARG', (t) => {
  for (const opts of [{ capacity: 0 }, { capacity: 1.5 }, { capacity: 2 ** 30 }, { ageingTimeMs: -5 }]) {
    const err = t.throws(() => new Fdb(opts));
    t.true(isDivesError(err));
    t.is((err as { code?: string }).code, 'EBADARG');
  }
  t.is(new Fdb({ capacity: 1 }).capacity, 1);
});

/** The reference the randomized test checks Fdb against: a Map with the same rules. */
class ModelFdb {
  readonly map = new Map<number, { port: number; seen: number }>();
  readonly counters: FdbCounters = { learned: 0, moved: 0, full: 0, aged: 0, flushed: 0, deleted: 0 };
  constructor(
    readonly capacity: number,
    public ageingTimeMs: number,
  ) {}

  learn(mac: number, port: number, now: number): number {
    const e = this.map.get(mac);
    if (e !== undefined) {
      if (now - e.seen >= this.ageingTimeMs) {
        this.counters.aged++;
        this.counters.learned++;
        this.map.set(mac, { port, seen: now });
        return LEARN_NEW;
      }
      e.seen = now;
      if (e.port === port) return LEARN_REFRESH;
      e.port = port;
      this.counters.moved++;
      return LEARN_MOVED;
    }
    if (this.map.size >= this.capacity) {
      this.counters.full++;
      return LEARN_FULL;
    }
    this.map.set(mac, { port, seen: now });
    this.counters.learned++;
    return LEARN_NEW;
  }

  lookup(mac: number, now: number): number {
    const e = this.map.get(mac);
    if (e === undefined) return -1;
    if (now - e.seen >= this.ageingTimeMs) {
      this.map.delete(mac);
      this.counters.aged++;
      return -1;
    }
    return e.port;
  }

  removeWhere(pred: (e: { port: number; seen: number }) => boolean): number {
    let n = 0;
    for (const [mac, e] of this.map) {
      if (pred(e)) {
        this.map.delete(mac);
        n++;
      }
    }
    return n;
  }

  entries(now: number): FdbEntry[] {
    return [...this.map]
      .filter(([, e]) => now - e.seen < this.ageingTimeMs)
      .map(([mac, e]) => ({ mac, port: e.port, ageMs: now - e.seen }))
      .sort((a, b) => a.mac - b.mac);
  }
}

const MODEL_RUNS = [
  { name: 'a small, often full table', seed: 1, capacity: 64, pool: 200, ports: 5, ageing: 2000, maxStepMs: 30 },
  { name: 'a large table with long clusters', seed: 2, capacity: 2048, pool: 6000, ports: 16, ageing: 10_000, maxStepMs: 2 },
  { name: 'a tiny table', seed: 3, capacity: 1, pool: 4, ports: 2, ageing: 500, maxStepMs: 100 },
];

for (const run of MODEL_RUNS) {
  test(`200k random operations on ${run.name} match a Map model`, (t) => {
    const rand = prng(run.seed);
    const macs = distinctMacs(rand, run.pool);
    // Sequential MACs, as hypervisors hand them out, sit beside the random ones.
    for (let i = 0; i < run.pool / 4; i++) macs.push(0x525400000000 + i);
    const fdb = new Fdb({ capacity: run.capacity, ageingTimeMs: run.ageing });
    const model = new ModelFdb(run.capacity, run.ageing);
    let now = T0;
    let mismatches = 0;
    let maxSize = 0;
    const check = (what: string, got: unknown, want: unknown, op: number): void => {
      if (got !== want && mismatches++ < 5) t.fail(`op ${op} ${what}: got ${String(got)}, want ${String(want)}`);
    };
    for (let op = 0; op < 200_000; op++) {
      now += Math.floor(rand() * (run.maxStepMs + 1));
      const r = rand();
      const mac = macs[Math.floor(rand() * macs.length)];
      if (r < 0.5) {
        const port = Math.floor(rand() * run.ports);
        check('learn', fdb.learn(mac, port, now), model.learn(mac, port, now), op);
      } else if (r < 0.9985) {
        check('lookup', fdb.lookup(mac, now), model.lookup(mac, now), op);
      } else if (r < 0.999) {
        const port = Math.floor(rand() * run.ports);
        const want = model.removeWhere((e) => e.port === port);
        model.counters.deleted += want;
        check('deleteByPort', fdb.deleteByPort(port), want, op);
      } else if (r < 0.9997) {
        const want = model.removeWhere((e) => now - e.seen >= model.ageingTimeMs);
        model.counters.aged += want;
        check('age', fdb.age(now), want, op);
      } else if (r < 0.99985) {
        const want = model.removeWhere(() => true);
        model.counters.flushed += want;
        check('flush', fdb.flush(), want, op);
      } else {
        const ageing = Math.floor(rand() * 2 * run.ageing);
        fdb.ageingTimeMs = ageing;
        model.ageingTimeMs = ageing;
      }
      check('size', fdb.size, model.map.size, op);
      maxSize = Math.max(maxSize, fdb.size);
      if (op % 10_000 === 0) {
        t.deepEqual(fdb.entries(now), model.entries(now), `entries at op ${op}`);
        t.deepEqual(fdb.counters, model.counters, `counters at op ${op}`);
      }
    }
    t.is(mismatches, 0);
    t.deepEqual(fdb.counters, model.counters);
    t.deepEqual(fdb.entries(now), model.entries(now));
    t.log(run.name, JSON.stringify(model.counters), maxSize);
    t.true(model.counters.learned > 0 && model.counters.aged > 0 && model.counters.deleted > 0);
    if (run.capacity < run.pool) t.true(model.counters.full > 0, 'the run filled the table');
  });
}

test('1M learn and lookup operations run and give the right ports', (t) => {
  const rand = prng(42);
  const n = 20_000;
  const macs = distinctMacs(rand, n);
  const fdb = new Fdb();
  let wrong = 0;
  const start = performance.now();
  // Each iteration learns one MAC and looks up another, as the engine does per frame
  // (learn the source, lookup the destination). Ports never change, so after the first
  // pass over the MACs every learn is a refresh and every lookup hits.
  for (let i = 0; i < 500_000; i++) {
    const k = i % n;
    const want = i < n ? LEARN_NEW : LEARN_REFRESH;
    if (fdb.learn(macs[k], k & 63, T0 + i) !== want) wrong++;
    const d = (k * 7919) % n;
    if (fdb.lookup(macs[d], T0 + i) !== (i >= n || d <= k ? d & 63 : -1)) wrong++;
  }
  t.log(`1M fdb operations took ${(performance.now() - start).toFixed(1)} ms`);
  t.is(wrong, 0);
  t.is(fdb.size, n);
});

test('liveCount counts the live entries as entries() lists them, without building them', (t) => {
  const f = new Fdb({ ageingTimeMs: 1000 });
  for (let m = 1; m <= 500; m++) f.learn(m, m % 3, m < 200 ? 0 : 900);
  for (const now of [0, 500, 999, 1000, 1899, 1900, 5000]) t.is(f.liveCount(now), f.entries(now).length, `at ${now} ms`);
  t.is(f.liveCount(1000), 301);
  t.is(new Fdb().liveCount(0), 0);
});
