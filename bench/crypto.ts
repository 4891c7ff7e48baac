// bench crypto: what sealing and opening one peer datagram costs with each AEAD DiVES could
// use, beside what it runs (src/crypto/aead.ts: ChaCha20-Poly1305 under a cached HChaCha20
// subkey, libsodium for short datagrams and Node's own OpenSSL for long ones, both through
// koffi), as ratios of node:crypto's chacha20-poly1305 in the same run.
// `npm run bench -- crypto`; bench main thread.
//
// A datagram is a 24-byte header (the nonce counter in its first 8 bytes), payload and
// 16-byte MAC, in a ring of slots made once. Seal stamps the next counter and seals in place;
// open rebuilds the nonce from the header and decrypts into a buffer of its own, so the
// sealed slots survive. "encrypt": payload encrypted, header as associated data;
// "authenticate": nothing encrypted, header+payload MACed. Each library is called as the
// peer I/O thread would (bench/crypto-aeads.ts). A PerformanceObserver counts GCs.

import { constants, PerformanceObserver, type NodeGCPerformanceDetail, type PerformanceEntry } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { EMPTY, HEADER, MAC, copyBytes, divesAead, koffiSodium, nodeCrypto, sodiumNative, type Aead, type Mode, type Slot } from './crypto-aeads.js';

export type { Mode };

export const CRYPTO_SIZES = [64, 1500, 65536] as const;
export type CryptoSize = (typeof CRYPTO_SIZES)[number];
export type Op = 'seal' | 'open';
const MODES: Mode[] = ['encrypt', 'authenticate'];
const OPS: Op[] = ['seal', 'open'];
/** Milliseconds of each timed run (doubled at 64 KiB) and rounds of every run, alternating implementations. */
const CELL_MS = Number(process.env.DIVES_BENCH_CRYPTO_MS ?? 300);
const ROUNDS = Number(process.env.DIVES_BENCH_CRYPTO_ROUNDS ?? 5);
const WARM_MS = 60;

/** A sender's nonce (counter in the first 8 bytes, a random tail) and the receiver's copy it rebuilds from headers. */
class Nonces {
  readonly tx: Uint8Array;
  readonly rx: Uint8Array;
  private readonly words: Uint32Array;
  private counter = 0;

  constructor(len: number) {
    this.tx = new Uint8Array(len);
    this.tx.set(randomBytes(len - 8), 8);
    this.rx = this.tx.slice();
    this.words = new Uint32Array(this.tx.buffer, 0, 2);
  }

  /** The next counter into the nonce and the slot's header: one per datagram, never reused. */
  stamp(slot: Slot): void {
    this.counter++;
    this.words[0] = this.counter >>> 0;
    this.words[1] = Math.floor(this.counter / 2 ** 32);
    copyBytes(slot.buf, 0, this.tx, 0, 8);
  }

  /** The receiver's nonce for the datagram in slot. */
  fromHeader(slot: Slot): Uint8Array {
    copyBytes(this.rx, 0, slot.buf, 0, 8);
    return this.rx;
  }
}

/** A ring of slots for len-byte payloads, about 1 MiB at most (cache-warm, like a busy ring). */
function makeSlots(len: number, count = Math.max(8, Math.min(256, Math.floor(2 ** 20 / (HEADER + len + MAC))))): Slot[] {
  const stride = (HEADER + len + MAC + 7) & ~7;
  const ab = new ArrayBuffer(stride * count);
  const all = new Uint8Array(ab);
  for (let i = 0; i < all.length; i += 65536) all.set(randomBytes(Math.min(65536, all.length - i)), i);
  return Array.from({ length: count }, (_, i) => {
    const buf = new Uint8Array(ab, i * stride, HEADER + len + MAC);
    return { buf, header: buf.subarray(0, HEADER), body: buf.subarray(HEADER) };
  });
}

/** Seals or opens datagrams round the ring for ms; returns how many, the time, and refusals. */
function timed(a: Aead, op: Op, mode: Mode, slots: Slot[], len: number, nonces: Nonces, out: Uint8Array, ms: number): { n: number; t0: number; t1: number; bad: number } {
  const batch = len >= 65536 ? 2 : len >= 1500 ? 16 : 64;
  let n = 0;
  let bad = 0;
  const t0 = performance.now();
  let t1: number;
  do {
    for (let j = 0; j < batch; j++, n++) {
      const s = slots[n % slots.length];
      if (op === 'seal') {
        nonces.stamp(s);
        if (!a.seal(s, len, mode, nonces.tx)) bad++;
      } else if (!a.open(s, len, mode, nonces.fromHeader(s), out)) bad++;
    }
    t1 = performance.now();
  } while (t1 - t0 < ms);
  return { n, t0, t1, bad };
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** open(seal(x)) is x, a flipped bit in the header, payload or MAC is refused, and encrypt changes the payload. */
function verify(a: Aead, mode: Mode): void {
  const len = 1500;
  const [slot] = makeSlots(len, 1);
  const plain = slot.buf.slice(HEADER, HEADER + len);
  const nonces = new Nonces(a.nonceLen);
  const out = new Uint8Array(len);
  nonces.stamp(slot);
  if (!a.seal(slot, len, mode, nonces.tx)) throw new Error(`${a.name} ${mode}: seal refused`);
  if (mode === 'encrypt' && equal(slot.buf.subarray(HEADER, HEADER + len), plain)) throw new Error(`${a.name}: encrypt left the payload as it was`);
  if (!a.open(slot, len, mode, nonces.fromHeader(slot), out)) throw new Error(`${a.name} ${mode}: a genuine datagram was refused`);
  if (!equal(mode === 'encrypt' ? out : slot.buf.subarray(HEADER, HEADER + len), plain)) throw new Error(`${a.name} ${mode}: open(seal(x)) is not x`);
  for (const at of [12, HEADER + 700, HEADER + len + 5]) {
    slot.buf[at] ^= 1;
    if (a.open(slot, len, mode, nonces.fromHeader(slot), out)) throw new Error(`${a.name} ${mode}: a flipped bit at byte ${at} was accepted`);
    slot.buf[at] ^= 1;
  }
}

/** The same algorithm through two libraries seals to the same bytes (same key, nonce, datagram). */
function sameBytes(a: Aead, b: Aead, mode: Mode): void {
  const [sa] = makeSlots(1500, 1);
  const [sb] = makeSlots(1500, 1);
  sb.buf.set(sa.buf);
  const nonce = new Uint8Array(randomBytes(a.nonceLen));
  a.seal(sa, 1500, mode, nonce);
  b.seal(sb, 1500, mode, nonce);
  if (!equal(sa.buf, sb.buf)) throw new Error(`${a.name} and ${b.name} seal different bytes (${mode})`);
}

export interface CryptoCell {
  impl: string;
  mode: Mode;
  op: Op;
  size: CryptoSize;
  /** Median over the rounds of the time per datagram. */
  medianUs: number;
  /** The baseline's medianUs over this one's: how many times faster than node:crypto chacha20-poly1305. */
  ratio: number;
  roundsUs: number[];
  datagrams: number;
  /** Scavenges (young generation) and all GCs, per 100k datagrams over every round. */
  youngGcPer100k: number;
  gcPer100k: number;
}

export interface CryptoSection {
  title: string;
  baseline: string;
  impls: string[];
  cellMs: number;
  rounds: number;
  /** The 1-minute load average before and after: the machine is shared, and a busy one makes every figure noisier. */
  load: [number, number];
  cells: CryptoCell[];
  verdict: string;
}

interface Acc { us: number[]; n: number; young: number; all: number; windows: [number, number][] }

/** Every implementation, mode, operation and size, alternated over the rounds; the first implementation is the baseline. */
export async function crypto(): Promise<CryptoSection> {
  const [chacha, snX, snIetf, koffi] = [nodeCrypto('chacha20-poly1305', 'node:crypto chacha20-poly1305'), sodiumNative('xchacha20'), sodiumNative('chacha20'), koffiSodium()];
  const dives = divesAead();
  const impls = [chacha, nodeCrypto('aes-256-gcm', 'node:crypto aes-256-gcm'), snX, snIetf, koffi, dives];
  for (const a of impls) for (const mode of MODES) verify(a, mode);
  for (const mode of MODES) {
    sameBytes(koffi, snX, mode);
    sameBytes(chacha, snIetf, mode);
    sameBytes(dives, snIetf, mode);
  }
  const gcs: { start: number; kind: number }[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push({ start: e.startTime, kind: (e as PerformanceEntry & { detail: NodeGCPerformanceDetail }).detail.kind });
  });
  obs.observe({ entryTypes: ['gc'] });
  const slots = new Map(CRYPTO_SIZES.map((z) => [z, makeSlots(z)]));
  const outs = new Map(CRYPTO_SIZES.map((z) => [z, new Uint8Array(z)]));
  const nonces = impls.map((a) => new Nonces(a.nonceLen));
  const acc = new Map<string, Acc>();
  const loadBefore = loadavg()[0];
  const run = (i: number, mode: Mode, op: Op, size: CryptoSize, ms: number, keep: boolean): void => {
    const r = timed(impls[i], op, mode, slots.get(size)!, size, nonces[i], mode === 'encrypt' ? outs.get(size)! : EMPTY, ms);
    if (r.bad > 0) throw new Error(`${impls[i].name} ${mode} ${op} ${size} B: ${r.bad} of ${r.n} datagrams refused`);
    const key = `${i}/${mode}/${op}/${size}`;
    if (!keep) return;
    const c = acc.get(key) ?? { us: [], n: 0, young: 0, all: 0, windows: [] };
    c.us.push(((r.t1 - r.t0) * 1000) / r.n);
    c.n += r.n;
    c.windows.push([r.t0, r.t1]);
    acc.set(key, c);
  };
  // Seal comes right before open on the same slots, so open always finds genuine datagrams.
  const cell = (i: number, mode: Mode, size: CryptoSize, ms: number, keep = true): void => {
    for (const op of OPS) run(i, mode, op, size, ms, keep);
  };
  for (const size of CRYPTO_SIZES) for (const mode of MODES) for (let i = 0; i < impls.length; i++) cell(i, mode, size, WARM_MS, false);
  const total = ROUNDS * impls.length * MODES.length * OPS.length * CELL_MS * 4;
  console.log(`\ncrypto: ${impls.length} AEADs verified; measuring for about ${Math.round(total / 1000)} s`);
  for (let round = 0; round < ROUNDS; round++) {
    for (const size of CRYPTO_SIZES) {
      for (const mode of MODES) {
        // Rotate the order each round, so no implementation always runs after the same one.
        for (let j = 0; j < impls.length; j++) cell((j + round) % impls.length, mode, size, size >= 65536 ? 2 * CELL_MS : CELL_MS);
        await new Promise((r) => setImmediate(r));
      }
    }
  }
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  return section(impls.map((a) => a.name), acc, gcs, [loadBefore, loadavg()[0]]);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function section(names: string[], acc: Map<string, Acc>, gcs: { start: number; kind: number }[], load: [number, number]): CryptoSection {
  const cells: CryptoCell[] = [];
  for (const [key, c] of acc) {
    for (const g of gcs) {
      if (!c.windows.some(([t0, t1]) => g.start >= t0 && g.start <= t1)) continue;
      c.all++;
      if (g.kind === constants.NODE_PERFORMANCE_GC_MINOR) c.young++;
    }
    const [i, mode, op, size] = key.split('/');
    cells.push({ impl: names[Number(i)], mode: mode as Mode, op: op as Op, size: Number(size) as CryptoSize, medianUs: median(c.us), ratio: NaN, roundsUs: c.us, datagrams: c.n, youngGcPer100k: (c.young / c.n) * 1e5, gcPer100k: (c.all / c.n) * 1e5 });
  }
  for (const c of cells) {
    const base = cells.find((b) => b.impl === names[0] && b.mode === c.mode && b.op === c.op && b.size === c.size);
    c.ratio = (base?.medianUs ?? NaN) / c.medianUs;
  }
  return { title: 'AEAD per peer datagram', baseline: names[0], impls: names, cellMs: CELL_MS, rounds: ROUNDS, load, cells, verdict: verdict(names, cells) };
}

/** Per size, the two implementations whose seal+open over both modes take least, and in how many rounds the first beat the second. */
function verdict(names: string[], cells: CryptoCell[]): string {
  const parts = CRYPTO_SIZES.map((size) => {
    const at = cells.filter((c) => c.size === size);
    const mine = (impl: string): CryptoCell[] => at.filter((c) => c.impl === impl);
    const sum = (impl: string): number => mine(impl).reduce((s, c) => s + c.medianUs, 0);
    const perRound = (impl: string): number[] => mine(impl).reduce((s, c) => s.map((v, r) => v + c.roundsUs[r]), new Array<number>(at[0].roundsUs.length).fill(0));
    const [best, next] = [...names].sort((a, b) => sum(a) - sum(b));
    const [b, n] = [perRound(best), perRound(next)];
    const x = (impl: string): string => `${(sum(names[0]) / sum(impl)).toFixed(1)}×`;
    return `${sizeName(size)}: ${best} ${x(best)} (next ${next} ${x(next)}; ahead of it in ${b.filter((v, r) => v < n[r]).length} of ${b.length} rounds)`;
  });
  return `fastest seal+open over both modes, × the baseline: ${parts.join('; ')}`;
}

function sizeName(size: number): string {
  return size % 1024 === 0 ? `${size / 1024} KiB` : `${size} B`;
}

function us(v: number): string {
  return v < 10 ? `${v.toFixed(2)} µs` : `${v.toFixed(1)} µs`;
}

export function printCryptoSection(s: CryptoSection): void {
  const get = (impl: string, mode: Mode, op: Op, size: number): CryptoCell | undefined => s.cells.find((c) => c.impl === impl && c.mode === mode && c.op === op && c.size === size);
  const W = 38;
  console.log(`\n${s.title}: median of ${s.rounds} rounds of ${s.cellMs} ms (${2 * s.cellMs} ms at 64 KiB), load ${s.load.map((l) => l.toFixed(1)).join(' → ')}; (n×) = ${s.baseline}'s time / this one's`);
  for (const op of OPS) {
    console.log(`\n${op.padEnd(W)} ${'mode'.padEnd(12)} ${CRYPTO_SIZES.map((z) => sizeName(z).padStart(19)).join(' ')}`);
    for (const impl of s.impls) {
      for (const mode of MODES) {
        const cols = CRYPTO_SIZES.map((z) => {
          const c = get(impl, mode, op, z);
          return (c === undefined ? '—' : `${us(c.medianUs)} (${c.ratio.toFixed(c.ratio < 10 ? 2 : 1)}×)`).padStart(19);
        });
        console.log(`${(mode === 'encrypt' ? impl : '').padEnd(W)} ${mode.padEnd(12)} ${cols.join(' ')}`);
      }
    }
  }
  // All kinds, not only scavenges: node:crypto's 64 KiB output Buffers live outside the V8
  // heap and bring full GCs (external memory pressure) instead of scavenges.
  console.log(`\n${'GCs (any kind) per 100k datagrams'.padEnd(W)} ${'mode'.padEnd(12)} ${CRYPTO_SIZES.map((z) => `${sizeName(z)} seal/open`.padStart(19)).join(' ')}`);
  for (const impl of s.impls) {
    for (const mode of MODES) {
      const cols = CRYPTO_SIZES.map((z) => OPS.map((op) => (get(impl, mode, op, z)?.gcPer100k ?? NaN).toFixed(1)).join(' / ').padStart(19));
      console.log(`${(mode === 'encrypt' ? impl : '').padEnd(W)} ${mode.padEnd(12)} ${cols.join(' ')}`);
    }
  }
  console.log(`\n${s.verdict}`);
}
