// Cross-thread ring test: a producer worker pushes a seeded random sequence of
// frames; this thread consumes them through the doorbell and checks every byte
// and the order, through thousands of wrap-arounds and phases of a full ring.

import test from 'ava';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { Doorbell } from '../../src/core/doorbell.js';
import { Ring } from '../../src/core/ring.js';
import { mulberry32, patternByte, randInt } from '../helpers/prng.js';
import { sleepAsync } from '../helpers/ring-io.js';

interface RunResult { received: number; wraps: number; fullRetries: number; pauses: number }

async function run(t: import('ava').ExecutionContext, seed: number, frames: number, maxLen: number, capacity: number): Promise<RunResult> {
  const bell = new Doorbell();
  const ring = Ring.create(capacity, bell);
  const worker = new Worker(new URL('../helpers/ring-producer.js', import.meta.url), {
    workerData: { ringSab: ring.sab, doorbellSab: bell.sab, seed, frames, maxLen },
  });
  t.teardown(() => worker.terminate());
  const done = once(worker, 'message');
  worker.on('error', (err) => t.fail(String(err)));

  // The consumer replays the producer's PRNG to know each frame's length.
  const rand = mulberry32(seed);
  let received = 0;
  let bytes = 0;
  let bad = '';
  let pauses = 0;
  const check = (buf: Buffer, off: number, len: number, meta: number): void => {
    if (bad !== '') return;
    const want = randInt(rand, 1, maxLen);
    if (meta !== received) bad = `frame ${received}: got sequence ${meta}`;
    else if (len !== want) bad = `frame ${received}: length ${len}, want ${want}`;
    else {
      for (let i = 0; i < len; i++) {
        if (buf[off + i] !== patternByte(seed, received, i)) {
          bad = `frame ${received}: byte ${i} differs`;
          break;
        }
      }
    }
    received++;
    bytes += len;
  };
  while (received < frames && bad === '') {
    const n = ring.consume(64, check);
    if (n > 0) {
      // Every so often stop reading for a while so the producer fills the ring.
      if (received % 5000 < n) {
        pauses++;
        await new Promise((r) => setTimeout(r, 5));
      }
      continue;
    }
    bell.prepareSleep();
    if (!ring.isEmpty()) {
      bell.cancelSleep();
      continue;
    }
    await sleepAsync(bell, 1000);
  }
  const [summary] = (await done) as [{ sent: number; fullRetries: number; drops: number }];
  t.is(bad, '', bad);
  t.is(received, frames);
  t.is(summary.sent, frames);
  return { received, wraps: Math.floor(bytes / ring.capacity), fullRetries: summary.fullRetries, pauses };
}

test('frames of 1..4000 bytes cross threads byte-exact and in order through thousands of wraps and a full ring', async (t) => {
  t.timeout(120_000);
  const r = await run(t, 0xd1e5, 150_000, 4000, 16 * 1024);
  t.true(r.wraps > 1000, `only ${r.wraps} wraps`);
  t.true(r.fullRetries > 0, 'the ring never ran full');
  t.log(`wraps=${r.wraps} full-ring drops retried=${r.fullRetries} pauses=${r.pauses}`);
});

test('frames up to the 65535-byte maximum cross threads byte-exact', async (t) => {
  t.timeout(120_000);
  const r = await run(t, 7, 6_000, 65535, 256 * 1024);
  t.true(r.wraps > 100, `only ${r.wraps} wraps`);
  t.true(r.fullRetries > 0, 'the ring never ran full');
});
