// The group commit's pipeline (group-commit.ts): while batch N commits, batch N+1 is planned
// against the state as it will be after N and sent, so the store starts on it as soon as N is
// written. What a user would notice if it went wrong: a host written twice out of order, a
// revision skipped or repeated, a time going backwards, a descriptor stored twice (SQLite's
// unique key refuses it), a write acknowledged before it is durable, a watcher missing a
// revision, or, after a failed commit, writes lost or rejected that did not fail. Commits are
// held (test/helpers/held-commits.ts) so that a test acts while a batch is in flight; the
// stores are real: the memory store, and SQLite through its worker thread.

import test, { type ExecutionContext } from 'ava';
import path from 'node:path';
import type { Clock } from '../server/core/clock.ts';
import { validateCreateClaim } from '../server/core/claims.ts';
import { Registry, type RevisionChange } from '../server/core/registry.ts';
import { MAX_STALE_REPLANS } from '../server/core/group-commit.ts';
import { DomainError } from '../server/core/errors.ts';
import { StaleBatchError, type CommitBatch } from '../server/core/store.ts';
import { MemoryStore, SharedMemory } from '../server/store/memory-store.ts';
import { WorkerStore } from '../server/store/worker-store.ts';
import { GPU, openCore, ORIGIN, syncOf, ANYONE } from './helpers/core.ts';
import { holdCommits, turns } from './helpers/held-commits.ts';
import { tempDir } from './helpers/server.ts';

const OTHER_GPU = { ...GPU, software_version: '1.1.0' };
const THIRD_GPU = { ...GPU, software_version: '1.2.0' };

const revisionsOf = (batch: CommitBatch) => [...new Set(batch.history.map((entry) => entry.revision))];
const hostsOf = (batch: CommitBatch) => [...new Set(batch.history.map((entry) => entry.hostId))];

/** A promise's state, without waiting for it. */
function tracked<T>(promise: Promise<T>): { readonly settled: boolean; readonly promise: Promise<T> } {
  const state = { settled: false, promise };
  promise.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  return state;
}

async function openSqlite(t: ExecutionContext, file = path.join(tempDir(t), 'pipe.db')) {
  const store = await WorkerStore.open({ path: file, durability: 'full' });
  const registry = await Registry.open(store);
  const changes: RevisionChange[] = [];
  registry.subscribe((change) => changes.push(change));
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= registry.close().then(() => store.close()));
  t.teardown(close);
  return { store, registry, changes, file, close };
}

test('while a batch commits, the next is planned against the state after it and sent; a write to its host waits', async (t) => {
  let now = 10_000;
  const clock: Clock = { now: () => now, elapsed: () => now, every: () => () => undefined };
  const store = new MemoryStore();
  const registry = await Registry.open(store, { clock });
  const changes: RevisionChange[] = [];
  registry.subscribe((change) => changes.push(change));
  const held = holdCommits(store);

  const first = tracked(registry.syncHost(syncOf('a', [{ id: 'gpu0', descriptor: OTHER_GPU }]), ORIGIN));
  await held.untilSent(1);
  now = 4_000; // the clock goes back: the next batch's times must not
  const second = [
    tracked(registry.syncHost(syncOf('b', [{ id: 'gpu0', descriptor: OTHER_GPU }, { id: 'gpu1', descriptor: THIRD_GPU }]), ORIGIN)),
    tracked(registry.syncHost(syncOf('a', [{ id: 'gpu0', descriptor: OTHER_GPU }, 'gpu1']), ORIGIN)),
    tracked(registry.syncHost(syncOf('c'), ORIGIN)),
  ];
  await held.untilSent(2);

  const [n, next] = held.sent;
  t.deepEqual(revisionsOf(n), [1]);
  t.deepEqual(hostsOf(next), ['b', 'c'], 'the write to a, which the batch in flight writes, waits');
  t.deepEqual(revisionsOf(next), [2, 3], 'revisions continue after the batch in flight');
  t.is(next.baseRevision, 1, 'planned on the batch in flight');
  t.true(next.history.every((entry) => entry.time === 10_000), 'times never go backwards from the batch in flight');
  t.is(n.newDescriptors.length, 1);
  const other = n.newDescriptors[0];
  t.is(next.newDescriptors.length, 2, 'the third GPU and the default one are new');
  t.false(
    next.newDescriptors.some((d) => d.key === other.key || d.id === other.id),
    'a descriptor the batch in flight introduces is not introduced again',
  );
  t.is(next.deviceUpserts.find((d) => d.hostId === 'b' && d.deviceId === 'gpu0')!.descriptorId, other.id, 'it is used with its id');
  t.false(first.settled || second.some((w) => w.settled), 'nothing acknowledged before it is durable');
  t.is(registry.revision, 0, 'nothing applied');
  t.deepEqual(changes, []);

  held.release();
  const results = await Promise.all([first.promise, ...second.map((w) => w.promise)]);
  t.deepEqual(results.map((r) => r.revision), [1, 2, 4, 3]);
  t.deepEqual(changes.map((c) => c.revision), [1, 2, 3, 4], 'watchers see every revision once, in order');
  t.deepEqual(changes.map((c) => c.entries[0].hostId), ['a', 'b', 'c', 'a']);
  t.is(held.sent.length, 3);
  t.is(held.sent[2].baseRevision, 3, 'the third batch was planned behind the second');
  t.deepEqual(held.sent[2].newDescriptors, [], 'and reuses the descriptor the second introduced');
  t.is(registry.findHost('a')!.devices.size, 2, 'the later write to a is applied last');
  t.is(registry.stats.descriptors, 3);
  const view = await registry.read();
  const query = { hostId: undefined, labels: {}, hostLabels: {}, after: undefined, limit: 10 };
  const withOther = await view.listDevices({ ...query, descriptorIds: new Set([other.id]) });
  t.deepEqual(withOther.map((d) => d.name), ['hosts/a/devices/gpu0', 'hosts/b/devices/gpu0'], 'the live state counts both batches\' devices');
  const loaded = await store.load();
  t.is(loaded.revision, 4, 'and stored');
  t.is(loaded.descriptors.length, 3);
  t.true((await registry.verifyHistory(registry.headHash)).intact);
  await registry.close();
});

test('a trickle of writes waits for the batch in flight to be durable, then is sent before that batch is applied', async (t) => {
  const { registry, store, changes } = await openCore();
  const held = holdCommits(store, () => registry.revision);
  const first = [registry.syncHost(syncOf('a'), ORIGIN), registry.syncHost(syncOf('b'), ORIGIN), registry.syncHost(syncOf('c'), ORIGIN)];
  await held.untilSent(1);
  const late = tracked(registry.syncHost(syncOf('d'), ORIGIN));
  await turns();
  t.is(held.sent.length, 1, 'one write is not sent early as a batch of its own behind three');
  held.release();
  await held.untilSent(2);
  t.is(held.probed[1], 0, 'it was sent as soon as the first batch was durable, before that batch was applied');
  t.is(held.sent[1].baseRevision, 3, 'planned against the state after it');
  t.deepEqual((await Promise.all(first)).map((r) => r.revision), [1, 2, 3]);
  t.is((await late.promise).revision, 4);
  t.deepEqual(changes.map((c) => c.revision), [1, 2, 3, 4]);
  await registry.close();
});

test('many writes with nothing in flight are sent as two batches at once, the second planned behind the first', async (t) => {
  const { registry, store, changes } = await openCore();
  const held = holdCommits(store, () => registry.revision);
  const hosts = Array.from({ length: 20 }, (_, i) => `h${String(i).padStart(2, '0')}`);
  const writes = hosts.map((host) => registry.syncHost(syncOf(host), ORIGIN));
  await held.untilSent(2);
  t.deepEqual(held.sent.map(hostsOf), [hosts.slice(0, 10), hosts.slice(10)], 'two halves, in arrival order');
  t.deepEqual(held.sent.map((b) => b.baseRevision), [0, 10]);
  t.deepEqual(held.sent.map((b) => b.newDescriptors.length), [1, 0], 'the descriptor is stored once, by the first');
  t.deepEqual(held.probed, [0, 0], 'both sent before anything was durable');
  held.release();
  t.deepEqual((await Promise.all(writes)).map((r) => r.revision), hosts.map((_, i) => i + 1));
  t.deepEqual(changes.map((c) => c.revision), hosts.map((_, i) => i + 1));
  await registry.close();
});

test('when every write of the first half is refused, the second half is still sent', async (t) => {
  const { registry, store } = await openCore();
  const held = holdCommits(store);
  const refused = Array.from({ length: 8 }, (_, i) => registry.deleteHost(`ghost${i}`, undefined, ORIGIN));
  const kept = Array.from({ length: 8 }, (_, i) => registry.syncHost(syncOf(`h${i}`), ORIGIN));
  await held.untilSent(1);
  held.release();
  t.deepEqual((await Promise.allSettled(refused)).map((o) => o.status), Array(8).fill('rejected'));
  t.deepEqual((await Promise.all(kept)).map((r) => r.revision), [1, 2, 3, 4, 5, 6, 7, 8]);
  t.is(held.sent[0].baseRevision, 0);
  await registry.close();
});

test('a failed commit rejects its batch; the batch sent behind it is refused by the store and planned again, not rejected', async (t) => {
  const { registry, store, changes } = await openCore();
  await registry.syncHost(syncOf('kept'), ORIGIN);
  const held = holdCommits(store);
  const failure = new Error('disk on fire');
  store.failCommits(failure);
  const doomed = tracked(registry.syncHost(syncOf('doomed', [{ id: 'gpu0', descriptor: OTHER_GPU }]), ORIGIN));
  await held.untilSent(1);
  const behind = [
    tracked(registry.syncHost(syncOf('b', [{ id: 'gpu0', descriptor: OTHER_GPU }]), ORIGIN)),
    tracked(registry.setDraining('kept', true, ORIGIN)),
  ];
  await held.untilSent(2);
  t.is(held.sent[1].baseRevision, 2, 'planned on the batch in flight');
  t.deepEqual(held.sent[1].newDescriptors, [], 'its descriptor is the one the batch in flight introduces');
  held.release();

  t.is(await t.throwsAsync(doomed.promise), failure, 'the failed batch is rejected with the store error');
  const [b, drain] = await Promise.all(behind.map((w) => w.promise));
  t.true(held.answers[1] instanceof StaleBatchError, 'the store refused the batch planned on the failed one');
  t.is(held.sent.length, 3, 'and its writes were planned again, on the real state');
  t.is(held.sent[2].baseRevision, 1);
  t.deepEqual(revisionsOf(held.sent[2]), [2, 3]);
  t.is(held.sent[2].newDescriptors.length, 1, 'the descriptor the failed batch did not store is stored now');
  t.deepEqual([b.revision, drain.revision], [2, 3]);
  t.deepEqual(changes.map((c) => [c.revision, c.entries[0].hostId]), [[1, 'kept'], [2, 'b'], [3, 'kept']], 'no revision published twice or skipped');
  t.is(registry.findHost('doomed'), undefined);
  t.true(registry.findHost('kept')!.record.draining);
  t.is(registry.stats.descriptors, 2);
  const loaded = await store.load();
  t.is(loaded.revision, 3);
  t.deepEqual(loaded.hosts.map((h) => h.hostId), ['b', 'kept']);
  t.true((await registry.verifyHistory(registry.headHash)).intact);
  await registry.close();
});

test('a batch planned on a failed one is planned again, whatever the store answered it', async (t) => {
  const { registry, store } = await openCore();
  const held = holdCommits(store);
  const failure = new Error('disk on fire');
  store.failCommits(failure, 2); // the batch behind fails too, before the store looks at its base
  const doomed = registry.syncHost(syncOf('doomed'), ORIGIN);
  await held.untilSent(1);
  const behind = registry.syncHost(syncOf('b'), ORIGIN);
  await held.untilSent(2);
  held.release();
  t.is(await t.throwsAsync(doomed), failure);
  t.is(held.answers[1], failure);
  t.is((await behind).revision, 1, 'committed on the next try, as the first write');
  t.is(held.sent.length, 3);
  await registry.close();
});

test('at most two batches are in flight; close commits everything queued behind them', async (t) => {
  const { registry, store } = await openCore();
  const held = holdCommits(store);
  const a = registry.syncHost(syncOf('a'), ORIGIN);
  await held.untilSent(1);
  const b = registry.syncHost(syncOf('b'), ORIGIN);
  await held.untilSent(2);
  const c = registry.syncHost(syncOf('c'), ORIGIN);
  await turns();
  t.is(held.sent.length, 2, 'a third batch waits while two are in flight');
  const closing = registry.close();
  const refused = registry.syncHost(syncOf('later'), ORIGIN);
  held.release();
  await closing;
  t.deepEqual((await Promise.all([a, b, c])).map((r) => r.revision), [1, 2, 3], 'everything queued was committed by the time close() resolved');
  t.is(held.sent[2].baseRevision, 2);
  await t.throwsAsync(refused, { message: /shutting down/ });
  t.is((await store.load()).revision, 3);
});

test('with a follower (a store other servers write), one batch is in flight at a time', async (t) => {
  const memory = new SharedMemory();
  const { registry, store } = await openCore({ store: memory.open() });
  const held = holdCommits(store);
  const a = registry.syncHost(syncOf('a'), ORIGIN);
  await held.untilSent(1);
  const b = registry.syncHost(syncOf('b'), ORIGIN);
  await turns();
  t.is(held.sent.length, 1, 'the next batch waits: it is planned after catching up');
  held.release();
  t.deepEqual((await Promise.all([a, b])).map((r) => r.revision), [1, 2]);
  t.is(held.sent.length, 2);
  await registry.close();
});

test('with a follower, a write that loses to another server\'s commit every time fails UNAVAILABLE after losing 32 times, instead of being planned for ever', async (t) => {
  const memory = new SharedMemory();
  const a = await openCore({ store: memory.open() });
  const b = await openCore({ store: memory.open() });
  // Each time a sends a batch, b commits first: a's batch is stale every time.
  const commit = a.store.commit.bind(a.store);
  let racing = true;
  let won = 0;
  a.store.commit = async (batch: CommitBatch) => {
    if (racing && batch.baseRevision !== undefined) {
      await b.registry.syncHost(syncOf(`b-${won}`), ORIGIN);
      won++;
    }
    return commit(batch);
  };
  const error = await t.throwsAsync(a.registry.syncHost(syncOf('loser'), ORIGIN), { instanceOf: DomainError });
  t.is(error.reason, 'UNAVAILABLE');
  t.is(error.message, 'hosts/loser: the write was planned 32 times and each time another replica committed first; retry it');
  t.is(won, MAX_STALE_REPLANS, 'planned 32 times, each lost');
  t.is(a.registry.findHost('loser'), undefined, 'nothing of it was stored');
  // Once the others pause, the same write goes through, after everything b wrote.
  racing = false;
  const result = await a.registry.syncHost(syncOf('loser'), ORIGIN);
  t.is(result.revision, won + 1);
  t.is((await b.registry.verifyHistory(b.registry.headHash)).intact, true);
  await a.registry.close();
  await b.registry.close();
});

test('on SQLite: a batch sent behind one in flight reuses its new descriptor; claims, deletes and drains go with it; all durable, in order', async (t) => {
  const { store, registry, changes, file, close } = await openSqlite(t);
  await registry.syncHost(syncOf('h1', [{ id: 'gpu0', available: 2 }]), ORIGIN);
  await registry.syncHost(syncOf('gone'), ORIGIN);
  await registry.syncHost(syncOf('d'), ORIGIN);
  const held = holdCommits(store);
  const first = tracked(registry.syncHost(syncOf('a', [{ id: 'gpu0', descriptor: OTHER_GPU }]), ORIGIN));
  await held.untilSent(1);
  const claim = validateCreateClaim({ parent: 'hosts/h1', claim_id: 'vm1', devices: [{ device: 'gpu0' }], ttl_ms: 600_000 });
  const behind = [
    tracked(registry.syncHost(syncOf('b', [{ id: 'gpu0', descriptor: OTHER_GPU }]), ORIGIN)),
    tracked(registry.createClaim(claim, ORIGIN, ANYONE)),
    tracked(registry.deleteHost('gone', undefined, ORIGIN)),
    tracked(registry.setDraining('d', true, ORIGIN)),
  ];
  await held.untilSent(2);
  t.deepEqual(hostsOf(held.sent[1]), ['b', 'h1', 'gone', 'd'], 'every kind of write to another host goes in the next batch');
  t.deepEqual(held.sent[1].newDescriptors, [], 'the descriptor the batch in flight introduces is not introduced again');
  t.false(first.settled || behind.some((w) => w.settled), 'nothing acknowledged before it is durable');
  held.release();
  await first.promise;
  const results = await Promise.all(behind.map((w) => w.promise));
  t.deepEqual(results.map((r) => r.revision), [5, 6, 7, 8]);
  t.true(held.answers.every((answer) => !(answer instanceof Error)), 'SQLite took both batches');
  t.deepEqual(changes.map((c) => c.revision), [1, 2, 3, 4, 5, 6, 7, 8]);
  await close();

  const again = await openSqlite(t, file);
  t.is(again.registry.revision, 8, 'every revision is durable');
  const a = again.registry.findHost('a')!.devices.get('gpu0')!;
  const b = again.registry.findHost('b')!.devices.get('gpu0')!;
  t.is(a.entry, b.entry, 'one descriptor, stored once');
  t.is(again.registry.stats.descriptors, 2);
  t.is(again.registry.findHost('gone'), undefined);
  t.true(again.registry.findHost('d')!.record.draining);
  t.is(again.registry.getClaim('h1', 'vm1').revision, 6);
  t.true((await again.registry.verifyHistory(again.registry.headHash)).intact);
});

test('on SQLite: when a commit fails, the store refuses the batch sent behind it (StaleBatchError), which is planned again', async (t) => {
  const { store, registry, changes, file, close } = await openSqlite(t);
  await registry.syncHost(syncOf('kept'), ORIGIN);
  const held = holdCommits(store);
  const failure = new Error('disk on fire');
  held.failNth(1, failure);
  const doomed = tracked(registry.syncHost(syncOf('doomed', [{ id: 'gpu0', descriptor: OTHER_GPU }]), ORIGIN));
  await held.untilSent(1);
  const behind = tracked(registry.syncHost(syncOf('b', [{ id: 'gpu0', descriptor: OTHER_GPU }]), ORIGIN));
  await held.untilSent(2);
  t.is(held.sent[1].baseRevision, 2);
  t.false(behind.settled);
  held.release();

  t.is(await t.throwsAsync(doomed.promise), failure);
  t.is((await behind.promise).revision, 2, 'planned again on the real state: the next revision');
  const refusal = held.answers[1];
  t.true(refusal instanceof StaleBatchError, 'the SQLite store refused the batch planned on the failed one');
  t.is((refusal as StaleBatchError).head, 1, 'naming its head');
  t.is(held.sent.length, 3);
  t.deepEqual(changes.map((c) => [c.revision, c.entries[0].hostId]), [[1, 'kept'], [2, 'b']]);
  await close();

  const again = await openSqlite(t, file);
  t.is(again.registry.revision, 2);
  t.is(again.registry.findHost('doomed'), undefined, 'nothing of the failed batch is stored');
  t.truthy(again.registry.findHost('b'));
  t.is(again.registry.stats.descriptors, 2);
  t.true((await again.registry.verifyHistory(again.registry.headHash)).intact);
});
