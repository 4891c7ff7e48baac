// A worker thread for the ThreadSupervisor tests, told by workerData how to behave:
// `serve` runs until main posts 'stop'; `die` throws at once (a bug); `fail` reports
// an error it stops itself on; `deaf` ignores 'stop' and runs until ended.
// Runs as a worker thread started by test/core/thread-supervisor.test.ts.

import { parentPort, workerData } from 'node:worker_threads';

const how = (workerData as { how: 'serve' | 'die' | 'fail' | 'deaf' }).how;
const port = parentPort;
if (port === null) throw new Error('must run as a worker thread');

if (how === 'die') throw new Error('boom');
if (how === 'fail') {
  port.postMessage({ failed: 'the device went away' });
} else {
  const keepAlive = setInterval(() => {}, 1000);
  port.on('message', (m: string) => {
    if (m === 'stop' && how === 'serve') {
      clearInterval(keepAlive);
      port.close();
    }
  });
}
