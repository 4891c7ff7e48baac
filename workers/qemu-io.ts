// QEMU I/O thread entry: builds a QemuIo from workerData, feeds it the main
// thread's control messages and runs its tx pump. Logic lives in src/qemu/qemu-io.ts.

import { parentPort, workerData } from 'node:worker_threads';
import { QemuIo } from '../src/qemu/qemu-io.js';
import type { QemuControl, QemuEvent, QemuIoStart } from '../src/qemu/qemu-io-messages.js';

const port = parentPort;
if (port === null) throw new Error('workers/qemu-io.js must run as a worker thread');
const io = new QemuIo(workerData as QemuIoStart, (e: QemuEvent) => port.postMessage(e));
port.on('message', (m: QemuControl) => {
  io.handle(m);
  if (m.type === 'stop') port.unref();
});
void io.pump();
