// Memory back after a burst of searches. A burst of unread FindTargets streams leaves the
// answers computed for the admitted and evicted ones as garbage once they are gone; an idle
// server allocates too little for V8 to collect it soon, so the process's resident memory stays
// where the burst took it. When the last search of a burst that ended in refusals or evictions
// has gone, and no search has started for a moment, one full collection gives the memory back
// (at most once per `minIntervalMs`). Ordinary traffic (searches that were all admitted and
// read) never triggers it. The decision is pure (BurstReclaim); obtaining V8's collector is
// the one line that touches the runtime.

import v8 from 'node:v8';
import vm from 'node:vm';

/** Quiet time after the last search of a burst before collecting. */
export const RECLAIM_AFTER_MS = 1000;
/** Collections at most this often. */
export const RECLAIM_MIN_INTERVAL_MS = 10_000;

/** V8's full collection, exposed for this process (the flag may be set at run time; a runtime that refuses leaves it off). */
export function fullCollection(): (() => void) | undefined {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

export class BurstReclaim {
  private timer: NodeJS.Timeout | undefined;
  private lastCollection = -Infinity;
  private seenTrouble = 0;
  /** Collections made since start (for tests and logs). */
  collections = 0;

  constructor(
    private readonly collect: () => void,
    private readonly now: () => number = () => performance.now(),
    private readonly afterMs = RECLAIM_AFTER_MS,
    private readonly minIntervalMs = RECLAIM_MIN_INTERVAL_MS,
  ) {}

  /** A search started: a pending collection waits for the next quiet moment. */
  started(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The searches in progress went to zero; `trouble` counts refusals and evictions since start. */
  idle(trouble: number): void {
    if (trouble === this.seenTrouble) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.now() - this.lastCollection < this.minIntervalMs) return;
      this.seenTrouble = trouble;
      this.lastCollection = this.now();
      this.collections++;
      this.collect();
    }, this.afterMs);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
