// Progress on the watch feed, as a property (fast-check): whatever random sequence of watches
// opened (with or without a host filter, each with its own interval), syncs, cancellations and
// moves of the manual clock happens, each watcher gets a progress message at exactly the ticks
// of the hub's 50 ms timer at which it has been live and sent nothing (no revision, no
// progress) for at least its interval, and never after it was cancelled. The rule is computed
// here from what each watcher actually received and when, so that the hub's way of finding the
// watchers due (a queue by due time, server/core/watch-hub.ts) can be checked against it. The
// worked cases are in test/core-watch-hub.test.ts.

import test from 'ava';
import fc from 'fast-check';
import { DueQueue } from '../server/core/due-queue.ts';
import { WatchHub, type Acceptance, type WatchDelivery, type WatchFilter, type WatchSink } from '../server/core/watch-hub.ts';
import { openCore, ORIGIN, syncOf } from './helpers/core.ts';

const TICK_MS = 50;
const HOSTS = ['h0', 'h1', 'h2'];

type Command =
  | { kind: 'open'; host: string | null; intervalMs: number }
  | { kind: 'sync'; host: string }
  | { kind: 'cancel'; pick: number }
  | { kind: 'advance'; ms: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({
    kind: fc.constant('open' as const),
    host: fc.option(fc.constantFrom(...HOSTS)),
    intervalMs: fc.constantFrom(100, 120, 150, 200, 275, 500),
  }),
  fc.record({ kind: fc.constant('sync' as const), host: fc.constantFrom(...HOSTS) }),
  fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 400 }) }),
);

/** What one watcher received, each with the clock's time then. */
class TimedSink implements WatchSink {
  readonly delivered: number[] = [];
  readonly progressed: number[] = [];
  constructor(private readonly now: () => number) {}
  deliver(_delivery: WatchDelivery): Acceptance {
    this.delivered.push(this.now());
    return 'ready';
  }
  progress(): void {
    this.progressed.push(this.now());
  }
  drained(): Promise<void> {
    return Promise.resolve();
  }
  fail(): void {}
}

/**
 * The ticks at which a watcher opened at `openedAt` (and cancelled at `cancelledAt`) must get
 * progress: a tick at T runs before anything else done at T, so it sees the revisions
 * delivered before T, and a watch opened or cancelled at T is not yet open, or still open.
 */
function expectedProgress(w: { openedAt: number; cancelledAt?: number; intervalMs: number; sink: TimedSink }, firstTick: number, end: number): number[] {
  const expected: number[] = [];
  let lastSent = w.openedAt;
  let d = 0;
  for (let tick = firstTick; tick <= end; tick += TICK_MS) {
    if (tick <= w.openedAt) continue;
    if (w.cancelledAt !== undefined && tick > w.cancelledAt) break;
    while (d < w.sink.delivered.length && w.sink.delivered[d] < tick) lastSent = Math.max(lastSent, w.sink.delivered[d++]);
    if (tick - lastSent >= w.intervalMs) {
      expected.push(tick);
      lastSent = tick;
    }
  }
  return expected;
}

test('progress: every live watcher gets it at exactly the ticks where it was sent nothing for its interval, whatever happens in between', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 40 }), async (commands) => {
      const rig = await openCore();
      const { registry, clock } = rig;
      const hub = new WatchHub(registry, clock);
      const firstTick = clock.now() + TICK_MS;
      const watchers: { openedAt: number; cancelledAt?: number; intervalMs: number; sink: TimedSink; cancel(): void }[] = [];
      const available = new Map<string, number>();
      try {
        for (const c of commands) {
          if (c.kind === 'open') {
            const sink = new TimedSink(() => clock.now());
            const filter: WatchFilter = { hostId: c.host ?? undefined, vendor: undefined, deviceApi: undefined, type: undefined };
            const handle = hub.open({ startRevision: undefined, filter, progressIntervalMs: c.intervalMs }, sink);
            watchers.push({ openedAt: clock.now(), intervalMs: c.intervalMs, sink, cancel: () => handle.cancel() });
          } else if (c.kind === 'sync') {
            // Each sync changes its host (the device's free units alternate), so it is a revision.
            const next = (available.get(c.host) ?? 0) === 1 ? 2 : 1;
            available.set(c.host, next);
            await registry.syncHost(syncOf(c.host, [{ id: 'gpu0', available: next }]), ORIGIN);
          } else if (c.kind === 'cancel') {
            const open = watchers.filter((w) => w.cancelledAt === undefined);
            if (open.length === 0) continue;
            const w = open[c.pick % open.length];
            w.cancel();
            w.cancelledAt = clock.now();
          } else {
            clock.advance(c.ms);
          }
        }
        const end = clock.now();
        for (const w of watchers) {
          t.deepEqual(w.sink.progressed, expectedProgress(w, firstTick, end));
        }
      } finally {
        hub.close();
        await registry.close();
      }
    }),
    { numRuns: 150, seed: 20261201 },
  );
});

test('the due queue: items come out earliest first, each once, at or before the time asked, after any mix of schedules, moves and removals', (t) => {
  type Op = { kind: 'schedule'; item: number; due: number } | { kind: 'delete'; item: number } | { kind: 'take'; now: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('schedule' as const), item: fc.integer({ min: 0, max: 20 }), due: fc.integer({ min: 0, max: 1000 }) }),
    fc.record({ kind: fc.constant('delete' as const), item: fc.integer({ min: 0, max: 20 }) }),
    fc.record({ kind: fc.constant('take' as const), now: fc.integer({ min: 0, max: 1000 }) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      const queue = new DueQueue<number>();
      const model = new Map<number, number>();
      for (const o of ops) {
        if (o.kind === 'schedule') {
          queue.schedule(o.item, o.due);
          model.set(o.item, o.due);
        } else if (o.kind === 'delete') {
          t.is(queue.delete(o.item), model.delete(o.item));
        } else {
          const taken = queue.takeDue(o.now);
          const due = [...model].filter(([, at]) => at <= o.now);
          t.deepEqual(taken.map((item) => model.get(item)), due.map(([, at]) => at).sort((a, b) => a - b), 'earliest first');
          t.deepEqual([...taken].sort((a, b) => a - b), due.map(([item]) => item).sort((a, b) => a - b), 'every item due, and only those');
          for (const item of taken) model.delete(item);
        }
        t.is(queue.size, model.size);
        for (const [item, at] of model) t.is(queue.dueOf(item), at);
      }
    }),
    { numRuns: 300, seed: 20261201 },
  );
});
