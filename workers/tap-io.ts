// TAP I/O thread entry: runs both directions of one TAP port until the main thread
// stops it, and reports a failure. Logic lives in src/tap/tap-io-loop.ts.

import { parentPort, workerData } from 'node:worker_threads';
import { TapIoLoop } from '../src/tap/tap-io-loop.js';
import type { TapIoExit, TapIoStart } from '../src/tap/tap-io-messages.js';

const start = workerData as TapIoStart;
const failure = new TapIoLoop(start).run();
if (failure !== null) {
  const msg: TapIoExit = { type: 'tap-error', name: start.name, message: failure };
  parentPort?.postMessage(msg);
}
