// The watch hub's switch from history to live updates (server/core/watch-hub.ts), on the core
// with the in-memory store. With replicas over PostgreSQL a history read and a commit run on
// different connections: a read can answer after a commit made after its snapshot was taken
// has already been applied and published. The watcher must still get that revision (read
// again from history, since it was published while the watcher was not live), exactly once.

import test from 'ava';
import { WatchHub, type WatchDelivery, type WatchSink } from '../server/core/watch-hub.ts';
import type { HistoryQuery, HistoryRecord } from '../server/core/store.ts';
import { MemoryStore } from '../server/store/memory-store.ts';
import { openCore, ORIGIN, syncOf } from './helpers/core.ts';

/** A store whose history reads see the store when called but answer only when released. */
class LateReadsStore extends MemoryStore {
  private held: Promise<void> | undefined;
  private releaseHeld: (() => void) | undefined;
  /** Resolves when a read is being held. */
  readHeld: Promise<void> = Promise.resolve();
  private signalHeld: (() => void) | undefined;

  hold(): void {
    this.held = new Promise((resolve) => (this.releaseHeld = resolve));
    this.readHeld = new Promise((resolve) => (this.signalHeld = resolve));
  }

  release(): void {
    this.held = undefined;
    this.releaseHeld?.();
  }

  override listHistory(query: HistoryQuery): Promise<HistoryRecord[]> {
    const answer = super.listHistory(query);
    if (!this.held) return answer;
    this.signalHeld?.();
    const held = this.held;
    return held.then(() => answer);
  }
}

/** Records what the hub delivers; resolves `waitFor` once a revision has arrived. */
class RecordingSink implements WatchSink {
  readonly revisions: number[] = [];
  private readonly waiters: { revision: number; resolve: () => void }[] = [];
  failure: unknown;

  deliver(delivery: WatchDelivery): boolean {
    this.revisions.push(delivery.change.revision);
    for (const waiter of this.waiters.filter((w) => w.revision === delivery.change.revision)) waiter.resolve();
    return true;
  }

  progress(): void {}

  drained(): Promise<void> {
    return Promise.resolve();
  }

  fail(error: unknown): void {
    this.failure = error;
  }

  waitFor(revision: number): Promise<void> {
    if (this.revisions.includes(revision)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ revision, resolve }));
  }
}

test('a revision committed while a catch-up read was answering is delivered once, though the read did not hold it', async (t) => {
  const store = new LateReadsStore();
  const { registry, clock } = await openCore({ store });
  await registry.syncHost(syncOf('a'), ORIGIN);
  await registry.syncHost(syncOf('b'), ORIGIN);
  const hub = new WatchHub(registry, clock);
  t.teardown(() => hub.close());
  const sink = new RecordingSink();

  store.hold();
  const watcher = hub.open({ startRevision: 1, filter: { hostId: undefined, vendor: undefined, deviceApi: undefined, type: undefined }, progressIntervalMs: 60_000 }, sink);
  await store.readHeld; // the catch-up read has seen revisions 1 and 2
  const during = await registry.syncHost(syncOf('c'), ORIGIN); // revision 3, published before the read answers
  t.is(during.revision, 3);
  store.release();

  const after = await registry.syncHost(syncOf('d'), ORIGIN); // revision 4, after the switch
  await sink.waitFor(after.revision);
  t.deepEqual(sink.revisions, [1, 2, 3, 4], 'every revision once, in order: 3 read from history after the late answer');
  t.is(sink.failure, undefined);
  watcher.cancel();
  await registry.close();
});
