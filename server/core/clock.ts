// Time, injected. The core never reads the wall clock or starts a timer itself: it asks its
// Clock, so that lease expiry, revision times and retention can be tested to the millisecond
// without waiting (ManualClock) while the server runs on the system clock.
// May import nothing.

export interface Clock {
  /** Milliseconds since the epoch: what dates revisions and lease expiries. It may be stepped (NTP, a resumed VM). */
  now(): number;
  /**
   * Milliseconds on a clock that never goes back and is not stepped (not since the epoch): for
   * intervals within this process only (a watch's progress), never to date anything.
   */
  elapsed(): number;
  /**
   * Calls `task` every `intervalMs` until the returned function is called. A repeating timer
   * must not keep the process alive (the system clock unrefs it).
   */
  every(intervalMs: number, task: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  elapsed: () => performance.now(),
  every(intervalMs, task) {
    const timer = setInterval(task, intervalMs).unref();
    return () => clearInterval(timer);
  },
};

/**
 * A clock that moves only when told to. `advance` runs every repeating task that falls due on
 * the way, in time order, each with `now()` set to its own due time: a task due at t sees t.
 */
export class ManualClock implements Clock {
  private time: number;
  /** How far the wall clock was stepped away from the elapsed time (stepWallClock). */
  private wallStep = 0;
  private nextId = 0;
  private readonly tasks = new Map<number, { intervalMs: number; due: number; task: () => void }>();

  constructor(start = 1_700_000_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time + this.wallStep;
  }

  elapsed(): number {
    return this.time;
  }

  /**
   * Steps the wall clock (`now()`) by `ms`, back or forward, as NTP or a resumed VM does; the
   * elapsed time and the tasks' schedule do not move.
   */
  stepWallClock(ms: number): void {
    this.wallStep += ms;
  }

  every(intervalMs: number, task: () => void): () => void {
    if (!(intervalMs > 0)) throw new Error(`interval must be positive, got ${intervalMs}`);
    const id = this.nextId++;
    this.tasks.set(id, { intervalMs, due: this.time + intervalMs, task });
    return () => this.tasks.delete(id);
  }

  /** Moves time forward by `ms`, running the tasks due on the way. */
  advance(ms: number): void {
    this.advanceTo(this.time + ms);
  }

  /** Moves time forward to `time`, running the tasks due on the way. */
  advanceTo(time: number): void {
    if (time < this.time) throw new Error(`a manual clock does not go back (${time} < ${this.time})`);
    for (;;) {
      let next: { intervalMs: number; due: number; task: () => void } | undefined;
      for (const task of this.tasks.values()) if (task.due <= time && (!next || task.due < next.due)) next = task;
      if (!next) break;
      this.time = next.due;
      next.due += next.intervalMs;
      next.task();
    }
    this.time = time;
  }

  /** Repeating tasks registered and not yet stopped. */
  get pendingTasks(): number {
    return this.tasks.size;
  }
}
