// Peer I/O thread entry: builds a PeerIo from workerData and runs its blocking loop
// until main sends `stop`; main's messages are read by the loop itself between
// batches. Logic lives in src/peer/peer-io.ts.

import { parentPort, workerData } from 'node:worker_threads';
import { PeerIo } from '../src/peer/peer-io.js';
import type { PeerEvent, PeerIoStart } from '../src/peer/peer-io-messages.js';

const port = parentPort;
if (port === null) throw new Error('workers/peer-io.js must run as a worker thread');
new PeerIo(workerData as PeerIoStart, port, (e: PeerEvent) => port.postMessage(e)).run();
