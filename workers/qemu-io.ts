// QEMU I/O thread entry: builds a QemuIo from workerData and runs its blocking loop
// until main sends `stop`; main's messages are read by the loop itself between
// batches. Logic lives in src/qemu/qemu-io.ts.

import { parentPort, workerData } from 'node:worker_threads';
import { QemuIo } from '../src/qemu/qemu-io.js';
import type { QemuEvent, QemuIoStart } from '../src/qemu/qemu-io-messages.js';

const port = parentPort;
if (port === null) throw new Error('workers/qemu-io.js must run as a worker thread');
new QemuIo(workerData as QemuIoStart, port, (e: QemuEvent) => port.postMessage(e)).run();
