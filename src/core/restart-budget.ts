// RestartBudget: how often a dead I/O thread may be started again. A thread that
// keeps dying (a bug it meets on every frame) is given up on instead of restarted
// in a loop. Main thread; one budget per thread that can be restarted.

export class RestartBudget {
  /** Restarts taken in all. */
  taken = 0;
  private times: number[] = [];

  constructor(
    readonly max = 3,
    readonly windowMs = 60_000,
  ) {}

  /** Take one restart now; false when `max` were taken within the window already. */
  take(now = Date.now()): boolean {
    this.times = this.times.filter((at) => now - at < this.windowMs);
    if (this.times.length >= this.max) return false;
    this.times.push(now);
    this.taken++;
    return true;
  }

  /** What to log when take() said no: "died 4 times within 60 s". */
  get exhausted(): string {
    return `died ${this.max + 1} times within ${this.windowMs / 1000} s`;
  }
}
