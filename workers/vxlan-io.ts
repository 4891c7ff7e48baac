// VXLAN I/O thread entry: builds a VxlanIo from workerData and runs its blocking loop
// until main sends `stop`; main's messages are read by the loop itself between
// batches. Logic lives in src/vxlan/vxlan-io.ts.

import { parentPort, workerData } from 'node:worker_threads';
import { VxlanIo } from '../src/vxlan/vxlan-io.js';
import type { VxlanEvent, VxlanIoStart } from '../src/vxlan/vxlan-io-messages.js';

const port = parentPort;
if (port === null) throw new Error('workers/vxlan-io.js must run as a worker thread');
new VxlanIo(workerData as VxlanIoStart, port, (e: VxlanEvent) => port.postMessage(e)).run();
