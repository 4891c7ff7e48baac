// TAP I/O thread entry: runs one direction (rx or tx) of one TAP port until the
// main thread stops it. Builds the loop from src/io/ and reports a failure.

import { parentPort, workerData } from 'node:worker_threads';
import { TapRxLoop } from '../src/io/tap-rx-loop.js';
import { TapTxLoop } from '../src/io/tap-tx-loop.js';
import type { TapIoExit, TapIoStart } from '../src/io/tap-io-messages.js';

const start = workerData as TapIoStart;
const failure = start.role === 'rx' ? new TapRxLoop(start).run() : new TapTxLoop(start).run();
if (failure !== null) {
  const msg: TapIoExit = { type: 'tap-error', name: start.name, message: failure };
  parentPort?.postMessage(msg);
}
