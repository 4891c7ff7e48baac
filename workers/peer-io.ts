// Peer I/O thread entry: builds a PeerIo from workerData, binds its socket, feeds it
// the main thread's control messages and runs its tx pump. Logic lives in src/io/peer-io.ts.

import { parentPort, workerData } from 'node:worker_threads';
import { PeerIo } from '../src/io/peer-io.js';
import type { PeerControl, PeerEvent, PeerIoStart } from '../src/io/peer-io-messages.js';

const port = parentPort;
if (port === null) throw new Error('workers/peer-io.js must run as a worker thread');
const io = new PeerIo(workerData as PeerIoStart, (e: PeerEvent) => port.postMessage(e));
port.on('message', (m: PeerControl) => {
  io.handle(m);
  if (m.type === 'stop') port.unref();
});
io.bind();
void io.pump();
