// PingMonitor: the ping between the two TAPs of VLAN 10 that runs throughout the robustness
// suite and must lose nothing: iputils `ping -D -O` inside one VM namespace, its lines parsed
// as they come, so a scenario can ask whether replies still arrive and which echo requests
// went unanswered while it ran. Runs on the hostile runner's main thread; the ping is a child
// (`ip netns exec` execs it, so the child's pid is ping's).

import { spawn, type ChildProcess } from 'node:child_process';
import { until } from '../helpers/until.js';

export interface PingTotals {
  /** Echo requests sent, from ping's summary. */
  sent: number;
  received: number;
  /** Requests never answered, less the ones still in flight when ping was stopped. */
  lost: number;
  /** Their sequence numbers. */
  lostSeqs: number[];
}

const REPLY_RE = /^\[(\d+\.\d+)\] \d+ bytes from [^:]+: icmp_seq=(\d+)/;
/** -O: printed when the next request leaves and this one has no reply yet, so about one interval after it left. */
const NO_ANSWER_RE = /^\[(\d+\.\d+)\] no answer yet for icmp_seq=(\d+)/;
const SUMMARY_RE = /(\d+) packets transmitted, (\d+) received/;

export class PingMonitor {
  private readonly child: ChildProcess;
  /** Reply time (ms since the epoch, ping's own clock) by sequence number. */
  private readonly replies = new Map<number, number>();
  private out = '';
  private partial = '';
  private readonly done: Promise<void>;
  /** When ping said a request was still unanswered (ms since the epoch), by sequence number. */
  private readonly late = new Map<number, number>();
  readonly startedAt = Date.now();

  private constructor(ns: string, target: string, intervalS: number) {
    this.child = spawn('ip', ['netns', 'exec', ns, 'ping', '-D', '-O', '-n', '-i', String(intervalS), target], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (d: Buffer) => this.onData(d.toString()));
    this.child.stderr?.on('data', (d: Buffer) => (this.out += d.toString()));
    this.done = new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  /** Start pinging and wait for the first reply (ARP and all), or throw. */
  static async start(ns: string, target: string, intervalS: number, timeoutMs = 10_000): Promise<PingMonitor> {
    const m = new PingMonitor(ns, target, intervalS);
    try {
      await until(() => m.replies.size > 0, timeoutMs, `a reply to ping ${target} in ${ns}`, {
        everyMs: 50,
        detail: () => m.out.slice(-500),
        giveUp: () => (m.child.exitCode !== null ? `ping exited (${m.child.exitCode}): ${m.out.slice(-500)}` : undefined),
      });
    } catch (err) {
      m.child.kill('SIGKILL');
      throw err;
    }
    return m;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** When the last reply came (ms since the epoch), or 0. */
  get lastReplyAt(): number {
    let last = 0;
    for (const t of this.replies.values()) last = Math.max(last, t);
    return last;
  }

  /** Requests that ping reported unanswered in [from, to) (ms since the epoch) and that got no reply since. */
  lostBetween(from: number, to: number): number[] {
    const lost: number[] = [];
    for (const [seq, at] of this.late) if (at >= from && at < to && !this.replies.has(seq)) lost.push(seq);
    return lost.sort((a, b) => a - b);
  }

  /** Stop ping (SIGINT, so it prints its summary) and count what it lost. */
  async stop(): Promise<PingTotals> {
    this.child.kill('SIGINT');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.done;
    clearTimeout(timer);
    const m = SUMMARY_RE.exec(this.out);
    const sent = m === null ? 0 : Number(m[1]);
    const received = m === null ? this.replies.size : Number(m[2]);
    // A request ping never reported unanswered was still in flight when it stopped: not lost.
    const lostSeqs: number[] = [];
    for (let seq = 1; seq <= sent; seq++) if (!this.replies.has(seq) && this.late.has(seq)) lostSeqs.push(seq);
    return { sent, received, lost: lostSeqs.length, lostSeqs };
  }

  private onData(text: string): void {
    this.out += text;
    if (this.out.length > 100_000) this.out = this.out.slice(-10_000);
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) {
      const r = REPLY_RE.exec(line);
      if (r !== null) this.replies.set(Number(r[2]), Math.round(Number(r[1]) * 1000));
      const n = NO_ANSWER_RE.exec(line);
      if (n !== null) this.late.set(Number(n[2]), Math.round(Number(n[1]) * 1000));
    }
  }
}
