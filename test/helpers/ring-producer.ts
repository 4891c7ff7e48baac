// Test worker (a producer thread): pushes a seeded sequence of frames of random
// sizes through a Ring to the test's consumer thread. Part of test/core/ring-threads.test.ts.

import { parentPort, workerData } from 'node:worker_threads';
import { Doorbell } from '../../src/core/doorbell.js';
import { Ring } from '../../src/core/ring.js';
import { mulberry32, patternByte, randInt } from './prng.js';
import { push } from './ring-io.js';

interface ProducerStart {
  ringSab: SharedArrayBuffer;
  doorbellSab: SharedArrayBuffer;
  seed: number;
  frames: number;
  maxLen: number;
}

const start = workerData as ProducerStart;
const ring = new Ring(start.ringSab, new Doorbell(start.doorbellSab));
const rand = mulberry32(start.seed);
const scratch = Buffer.alloc(start.maxLen);
let sent = 0;
let fullRetries = 0;
while (sent < start.frames) {
  const len = randInt(rand, 1, start.maxLen);
  for (let i = 0; i < len; i++) scratch[i] = patternByte(start.seed, sent, i);
  // A full ring drops (the producer never blocks); this test wants every frame
  // through, so it retries a dropped frame, which also proves a full ring
  // recovers from being full.
  while (push(ring, scratch, 0, len, sent) === 0) fullRetries++;
  sent++;
}
parentPort?.postMessage({ sent, fullRetries, drops: ring.drops });
