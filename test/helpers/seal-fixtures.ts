// Fixtures for the sealing unit tests (test/crypto/, test/peer/*seal*.test.ts): a clock
// that stands still, and a count of the subkeys a piece of code derives. Test code, the ava
// worker's main thread; each restores what it replaced, whatever happens.

import { HChaCha20 } from '../../src/crypto/hchacha20.js';

/** Run fn with Date.now standing at `ms`; the real clock is back afterwards, whatever happens. */
export function atClock<T>(ms: number, fn: () => T): T {
  const real = Date.now;
  Date.now = () => ms;
  try {
    return fn();
  } finally {
    Date.now = real;
  }
}

/** Runs fn and returns how many subkeys (HChaCha20 derivations) it made; the method is restored afterwards. */
export function derivations(fn: () => void): number {
  const real = HChaCha20.prototype.derive;
  let n = 0;
  HChaCha20.prototype.derive = function (this: HChaCha20, ...args: Parameters<HChaCha20['derive']>): void {
    n++;
    real.apply(this, args);
  };
  try {
    fn();
  } finally {
    HChaCha20.prototype.derive = real;
  }
  return n;
}
