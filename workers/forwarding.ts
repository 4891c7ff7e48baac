// Forwarding worker entry: piscina runs this task once per forwarding thread and
// the task holds the thread until the main thread sends `stop`. It only builds
// a ForwardingLoop from the task and runs it; the logic lives in src/forwarding/.

import { ForwardingLoop } from '../src/forwarding/forwarding-loop.js';
import type { ForwardingTask } from '../src/forwarding/forwarding-messages.js';

export default function forwardingTask(task: ForwardingTask): string {
  new ForwardingLoop(task).run();
  task.control.close();
  return 'stopped';
}
