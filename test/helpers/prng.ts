// A small seeded PRNG (mulberry32) so randomized tests replay exactly from a
// seed printed on failure. Used by tests on any thread.

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Integer in [lo, hi], inclusive. */
export function randInt(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

/** The byte at index i of frame number n of a seeded sequence: cheap to recompute on the checking side. */
export function patternByte(seed: number, n: number, i: number): number {
  return (Math.imul(n + 1, 0x9e3779b1) ^ Math.imul(i + seed, 0x85ebca6b) ^ (i >>> 3)) & 0xff;
}
