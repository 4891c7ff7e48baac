// The entry of every I/O thread — a TAP's, a QEMU I/O thread, the peer and VXLAN I/O
// threads: main names the loop to run (a class of src/, src/core/io-loop.ts) and hands it
// its start message; the loop runs until main stops it. Logic lives in src/.

import { parentPort, workerData } from 'node:worker_threads';
import { runIoLoop, type IoWorkerData } from '../src/core/io-loop.js';

if (parentPort === null) throw new Error('workers/io-thread.js must run as a worker thread');
await runIoLoop(workerData as IoWorkerData, parentPort);
