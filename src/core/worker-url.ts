// Where the entry of a thread is, for the two kinds of entry there are: the forwarding
// threads' piscina task (workers/forwarding.ts) and every I/O thread's
// (workers/io-thread.ts). The one place that knows the path from src/ to workers/, in
// dist as in a checkout. Main thread.

export type WorkerEntry = 'forwarding' | 'io-thread';

export function workerUrl(entry: WorkerEntry): URL {
  return new URL(`../../workers/${entry}.js`, import.meta.url);
}
