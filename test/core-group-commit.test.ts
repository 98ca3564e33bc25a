// The write pipeline in the core, on the in-memory store: writes that arrive together are
// committed as one batch; a second write to a host waits for the next batch; a refused write
// does not hold up the others; a failed commit rejects its whole batch and leaves memory
// untouched (DESIGN.md promises it); revision times never go backwards; close commits what
// was queued and refuses the rest.

import test from 'ava';
import type { Clock } from '../server/core/clock.ts';
import { DomainError } from '../server/core/errors.ts';
import { Registry } from '../server/core/registry.ts';
import { MemoryStore } from '../server/store/memory-store.ts';
import { GPU, historyOf, openCore, ORIGIN, syncOf } from './helpers/core.ts';

const OTHER_GPU = { ...GPU, software_version: '1.1.0' };

test('a failed commit rejects its whole batch and leaves memory untouched', async (t) => {
  const { registry, store, changes } = await openCore();
  await registry.syncHost(syncOf('kept', ['gpu0', 'gpu1']), ORIGIN);
  await registry.syncHost(syncOf('doomed'), ORIGIN);
  const before = {
    revision: registry.revision,
    head: registry.headHash,
    stats: registry.stats,
    kept: registry.findHost('kept'),
    keptRecord: registry.findHost('kept')!.record,
    keptDevices: [...registry.findHost('kept')!.devices.values()],
    loaded: await store.load(),
  };
  const failure = new Error('disk on fire');
  store.failCommits(failure);
  // One batch: a new host with a new descriptor, a change to a host, a deletion, a drain.
  const writes = [
    registry.syncHost(syncOf('new', [{ id: 'gpu0', descriptor: OTHER_GPU }]), ORIGIN),
    registry.syncHost(syncOf('kept', ['gpu0']), ORIGIN),
    registry.deleteHost('doomed', undefined, ORIGIN),
  ];
  const outcomes = await Promise.allSettled(writes);
  t.deepEqual(
    outcomes.map((o) => (o.status === 'rejected' ? o.reason : o.status)),
    [failure, failure, failure],
    'every write of the batch is rejected with the store error',
  );
  t.is(store.commits, 3, 'the three writes were one commit');
  t.is(registry.revision, before.revision);
  t.is(registry.headHash, before.head);
  t.deepEqual(registry.stats, before.stats, 'no host, device or descriptor added or removed');
  t.is(registry.findHost('new'), undefined);
  t.truthy(registry.findHost('doomed'));
  t.is(registry.findHost('kept'), before.kept);
  t.is(registry.findHost('kept')!.record, before.keptRecord);
  t.deepEqual([...registry.findHost('kept')!.devices.values()], before.keptDevices);
  t.is(changes.length, 2, 'nothing published');
  t.deepEqual(await store.load(), before.loaded, 'nothing stored');
  const view = await registry.read();
  t.is((await view.listDevices({ descriptorIds: undefined, hostId: undefined, labels: {}, hostLabels: {}, after: undefined, limit: 100 })).length, 3);

  // The next write succeeds at the next revision, with the chain unbroken.
  const next = await registry.syncHost(syncOf('new', [{ id: 'gpu0', descriptor: OTHER_GPU }]), ORIGIN);
  t.is(next.revision, before.revision + 1);
  t.true(next.changed);
  t.is(registry.stats.descriptors, before.stats.descriptors + 1);
  t.true((await registry.verifyHistory(registry.headHash)).intact);
  await registry.close();
});

test('writes that arrive together are one commit; a second write to a host waits for the next', async (t) => {
  const { registry, store, changes } = await openCore();
  const commits = store.commits;
  const results = await Promise.all([
    registry.syncHost(syncOf('a'), ORIGIN),
    registry.syncHost(syncOf('b'), ORIGIN),
    registry.syncHost(syncOf('a', ['gpu0', 'gpu1']), ORIGIN),
  ]);
  t.deepEqual(results.map((r) => r.revision), [1, 2, 3]);
  t.is(store.commits - commits, 2);
  t.deepEqual(results.map((r) => [r.created, r.updated, r.deleted]), [[1, 0, 0], [1, 0, 0], [1, 0, 0]]);
  t.deepEqual(changes.map((c) => c.revision), [1, 2, 3]);
  t.deepEqual(changes.map((c) => c.entries[0].hostId), ['a', 'b', 'a']);
  t.is(registry.findHost('a')!.devices.size, 2, 'the later write to a host is applied last');
  await registry.close();
});

test('a refused write does not hold up the others in its batch', async (t) => {
  const { registry } = await openCore();
  await registry.syncHost(syncOf('a'), ORIGIN);
  const outcomes = await Promise.allSettled([
    registry.syncHost({ ...syncOf('a'), expectedRevision: 99 }, ORIGIN),
    registry.deleteHost('ghost', undefined, ORIGIN),
    registry.syncHost(syncOf('b'), ORIGIN),
  ]);
  const reasons = outcomes.map((o) => (o.status === 'rejected' ? (o.reason as DomainError).reason : 'ok'));
  t.deepEqual(reasons, ['REVISION_MISMATCH', 'NOT_FOUND', 'ok']);
  t.is(registry.revision, 2);
  await registry.close();
});

test('a write that changes nothing gets no revision and is acknowledged at the current one', async (t) => {
  const { registry, clock, changes } = await openCore();
  await registry.syncHost(syncOf('a'), ORIGIN);
  clock.advance(5000);
  const again = await registry.syncHost(syncOf('a'), ORIGIN);
  t.like(again, { revision: 1, changed: false, created: 0, updated: 0, deleted: 0 });
  t.is(again.host.record.lastSyncTime, clock.now(), 'the sync time moves');
  const drain = await registry.setDraining('a', false, ORIGIN);
  t.like(drain, { revision: 1, changed: false });
  t.is(changes.length, 1);
  await registry.close();
});

test('revision times never go backwards, even when the clock does', async (t) => {
  let now = 10_000;
  const clock: Clock = { now: () => now, elapsed: () => now, every: () => () => undefined };
  const store = new MemoryStore();
  const registry = await Registry.open(store, { clock });
  await registry.syncHost(syncOf('a'), ORIGIN);
  now = 4_000;
  await registry.syncHost(syncOf('b'), ORIGIN);
  const [a] = await historyOf(registry, 'a');
  const [b] = await historyOf(registry, 'b');
  t.is(a.time, 10_000);
  t.is(b.time, 10_000, 'dated no earlier than the revision before it');
  t.is(registry.findHost('b')!.record.createTime, 10_000);
  await registry.close();
});

test('close commits the writes already queued and refuses new ones', async (t) => {
  const { registry } = await openCore();
  const queued = registry.syncHost(syncOf('late'), ORIGIN);
  const closing = registry.close();
  const refused = registry.syncHost(syncOf('later'), ORIGIN);
  await closing;
  t.truthy(registry.findHost('late'), 'the queued write is committed before close() resolves');
  t.true((await queued).changed);
  const error = await t.throwsAsync(refused);
  t.true(error instanceof DomainError && error.reason === 'UNAVAILABLE');
  t.regex(error!.message, /shutting down/, 'the refusal says why');
  t.is(registry.findHost('later'), undefined);
});

test('close waits for the batch being committed and for the writes queued behind it', async (t) => {
  const { registry, store } = await openCore();
  const first = registry.syncHost(syncOf('a'), ORIGIN);
  await new Promise((resolve) => setImmediate(resolve)); // the first batch is now committing
  const behind = registry.syncHost(syncOf('a', ['gpu0', 'gpu1']), ORIGIN);
  await registry.close();
  t.is(registry.revision, 2, 'both batches were committed by the time close() resolved');
  t.is(registry.findHost('a')!.devices.size, 2);
  t.is((await store.load()).revision, 2, 'and stored');
  t.is((await first).revision, 1);
  t.is((await behind).revision, 2);
});

test('a batch whose every write is refused makes no commit', async (t) => {
  const { registry, store } = await openCore();
  await registry.syncHost(syncOf('a'), ORIGIN);
  const commits = store.commits;
  const outcomes = await Promise.allSettled([
    registry.syncHost({ ...syncOf('a'), expectedRevision: 99 }, ORIGIN),
    registry.deleteHost('ghost', undefined, ORIGIN),
  ]);
  t.deepEqual(outcomes.map((o) => o.status), ['rejected', 'rejected']);
  t.is(store.commits, commits, 'the store was not called for an empty batch');
  await registry.close();
});

test('an unsubscribed listener hears no later revision', async (t) => {
  const { registry } = await openCore();
  const heard: number[] = [];
  const unsubscribe = registry.subscribe((change) => heard.push(change.revision));
  await registry.syncHost(syncOf('a'), ORIGIN);
  unsubscribe();
  await registry.syncHost(syncOf('b'), ORIGIN);
  t.deepEqual(heard, [1]);
  await registry.close();
});

test('each kind of write is acknowledged with its own result', async (t) => {
  const { registry } = await openCore();
  const sync = await registry.syncHost(syncOf('a', ['gpu0', 'gpu1']), ORIGIN);
  t.deepEqual(Object.keys(sync).sort(), ['changed', 'created', 'deleted', 'host', 'revision', 'updated']);
  const drain = await registry.setDraining('a', true, ORIGIN);
  t.deepEqual(Object.keys(drain).sort(), ['changed', 'host', 'revision'], 'a state change reports no device counts');
  t.like(drain, { revision: 2, changed: true });
  const deleted = await registry.deleteHost('a', undefined, ORIGIN);
  t.deepEqual(deleted, { revision: 3, devicesDeleted: 2 });
  await registry.close();
});
