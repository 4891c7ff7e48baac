// TAP I/O thread entry: runs both directions of one TAP port (src/tap/tap-io-loop.ts), or
// of a trunk TAP (src/tap/trunk-io-loop.ts), until the main thread stops it, and reports
// a failure.

import { parentPort, workerData } from 'node:worker_threads';
import { TapIoLoop } from '../src/tap/tap-io-loop.js';
import { TrunkIoLoop } from '../src/tap/trunk-io-loop.js';
import type { TapIoExit, TapIoStart, TrunkIoStart } from '../src/tap/tap-io-messages.js';

const start = workerData as TapIoStart | TrunkIoStart;
const failure = 'kind' in start ? new TrunkIoLoop(start).run() : new TapIoLoop(start).run();
if (failure !== null) {
  const msg: TapIoExit = { type: 'tap-error', name: start.name, message: failure };
  parentPort?.postMessage(msg);
}
