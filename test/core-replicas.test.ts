// Replicas in the core, without a database server: two or three registries over one shared
// memory store (SharedMemory: the PostgreSQL store's revision log, wake-ups and stale-batch
// refusal), on one manual clock. What the PostgreSQL suite checks with real servers
// (test/postgres/replicas.test.ts) is checked here on the write pipeline itself
// (server/core/group-commit.ts: follow, wake, catchUp, followAndFlush, the stale-batch
// re-plan): every registry publishes the same revisions in the same order, gap-free and once;
// a registry catches up before it plans, even when a wake-up was lost; a batch planned against
// an old head is planned again, so expected_revision is checked against what the others wrote.

import test from 'ava';
import { DomainError } from '../server/core/errors.ts';
import type { Registry, RevisionChange } from '../server/core/registry.ts';
import { historyQuery, type HistoryRecord } from '../server/core/store.ts';
import { nextChange, openCore, openReplicas, ORIGIN, syncOf, type CoreRig } from './helpers/core.ts';

/**
 * A published revision as a watcher sees it: an entry read back from the store also carries its
 * own hash, and leaves out an absent onBehalfOf rather than holding it undefined; a snapshot is
 * its fields (the writer's `before` of a device is the live device, which is its own record).
 */
function seen(change: RevisionChange) {
  const entries = change.entries.map(({ hash: _hash, onBehalfOf, ...entry }: HistoryRecord) => ({
    ...entry,
    before: structuredClone(entry.before),
    after: structuredClone(entry.after),
    ...(onBehalfOf && { onBehalfOf }),
  }));
  return { revision: change.revision, time: change.time, headHash: change.headHash, entries };
}

/** Resolves once `registry` has published `revision`. */
function reached(registry: Registry, revision: number): Promise<void> {
  if (registry.revision >= revision) return Promise.resolve();
  return new Promise((resolve) => {
    const unsubscribe = registry.subscribe((change) => {
      if (change.revision >= revision) {
        unsubscribe();
        resolve();
      }
    });
  });
}

/**
 * Runs `writes` so that every registry's batch reads the log before any commits: each store is
 * held until all batches are in flight, then released together. All but one batch per round
 * are then stale, and planned again after catching up.
 */
async function together<T>(rigs: readonly CoreRig[], writes: () => Promise<T>): Promise<T> {
  const releases = rigs.map((rig) => rig.store.pause());
  const done = writes();
  await new Promise(setImmediate);
  for (const release of releases) release();
  return done;
}

const commits = (rigs: readonly CoreRig[]) => rigs.reduce((sum, rig) => sum + rig.store.commits, 0);

test('writes spread over three registries: each publishes the same revisions, in order, gap-free, once; state and chain head agree', async (t) => {
  const { rigs } = await openReplicas(3);
  const [a, b, c] = rigs.map((rig) => rig.registry);
  await together(rigs, () => Promise.all([a.syncHost(syncOf('h1'), ORIGIN), b.syncHost(syncOf('h2'), ORIGIN), c.syncHost(syncOf('h3'), ORIGIN)]));
  t.true(commits(rigs) > 3, 'batches were refused as stale and committed again');
  await together(rigs, () =>
    Promise.all([
      a.syncHost(syncOf('h2', ['gpu0', 'gpu1']), ORIGIN),
      b.setDraining('h3', true, ORIGIN),
      c.syncHost(syncOf('h4'), ORIGIN),
      c.deleteHost('h1', undefined, ORIGIN).catch(() => undefined),
    ]),
  );
  const head = Math.max(...rigs.map((rig) => rig.registry.revision));
  await Promise.all([a, b, c].map((registry) => reached(registry, head)));
  t.true(head >= 6, `six changing writes, head ${head}`);
  const published = rigs.map((rig) => rig.changes.map(seen));
  t.deepEqual(
    published[0].map((change) => change.revision),
    Array.from({ length: head }, (_, i) => i + 1),
    'every revision once, in order, no gap',
  );
  t.deepEqual(published[1], published[0], 'the second registry published the same revisions');
  t.deepEqual(published[2], published[0], 'the third registry published the same revisions');
  for (const registry of [b, c]) {
    t.is(registry.headHash, a.headHash);
    t.deepEqual(
      ['h1', 'h2', 'h3', 'h4'].map((id) => registry.findHost(id)?.record),
      ['h1', 'h2', 'h3', 'h4'].map((id) => a.findHost(id)?.record),
    );
  }
  t.deepEqual([...b.findHost('h2')!.devices.keys()].sort(), ['gpu0', 'gpu1']);
  t.true(b.findHost('h3')!.record.draining);
  for (const rig of rigs) await rig.registry.close();
});

test("a registry follows another's write without writing itself: woken, it publishes the revision as the writer did", async (t) => {
  const { rigs } = await openReplicas(2);
  const [a, b] = rigs;
  const followed = nextChange(b.registry);
  await a.registry.syncHost(syncOf('h', ['gpu0'], { rack: 'r1' }), ORIGIN);
  const change = await followed;
  t.deepEqual(seen(change), seen(a.changes[0]));
  t.is(b.registry.revision, 1);
  t.deepEqual(b.registry.findHost('h')!.record, a.registry.findHost('h')!.record);
  t.is(b.registry.findDevice('h', 'gpu0')?.name, 'hosts/h/devices/gpu0');
  t.is(b.registry.headHash, a.registry.headHash);
  // A second revision, a change and a delete, follow the same way.
  const next = nextChange(b.registry);
  await a.registry.setDraining('h', true, ORIGIN);
  t.deepEqual(seen(await next), seen(a.changes[1]));
  const deleted = nextChange(b.registry);
  await a.registry.deleteHost('h', undefined, ORIGIN);
  t.deepEqual(seen(await deleted), seen(a.changes[2]));
  t.is(b.registry.findHost('h'), undefined);
  t.is(b.registry.findDevice('h', 'gpu0'), undefined);
  for (const rig of rigs) await rig.registry.close();
});

test('a lost wake-up: the next write of the registry catches up first; catchUp() catches up on demand', async (t) => {
  const { memory, rigs } = await openReplicas(2);
  const [a, b] = rigs;
  memory.dropWakeups = true;
  await a.registry.syncHost(syncOf('h1'), ORIGIN);
  await new Promise(setImmediate);
  t.is(b.registry.revision, 0, 'not woken: nothing followed yet');
  const own = await b.registry.syncHost(syncOf('h2'), ORIGIN);
  t.is(own.revision, 2, 'planned after catching up with revision 1');
  t.deepEqual(b.changes.map((change) => change.revision), [1, 2], 'the followed revision is published before its own');
  t.truthy(b.registry.findHost('h1'));

  await a.registry.setDraining('h1', true, ORIGIN);
  t.is(b.registry.revision, 2);
  await b.registry.catchUp();
  t.is(b.registry.revision, 3, 'catchUp() read the log although no wake-up came');
  t.true(b.registry.findHost('h1')!.record.draining);
  t.true(await b.registry.reachRevision(3, 1000));
  memory.dropWakeups = false;
  for (const rig of rigs) await rig.registry.close();
});

test('a batch planned against an old head is planned again: the late write to the same host becomes an update of the first', async (t) => {
  const { rigs, memory } = await openReplicas(2);
  const [a, b] = rigs;
  const [first, second] = await together(rigs, () =>
    Promise.all([a.registry.syncHost(syncOf('h', ['gpu0']), ORIGIN), b.registry.syncHost(syncOf('h', ['gpu0', 'gpu1']), ORIGIN)]),
  );
  t.deepEqual([first.revision, second.revision].sort(), [1, 2], 'one revision each');
  t.is(commits(rigs), 3, 'one batch was refused as stale and committed again');
  const history = await a.registry.listHistory(historyQuery({ hostId: 'h', limit: 100 }));
  const late = first.revision === 2 ? first : second;
  // The late write was planned again against the host the first created: it creates neither
  // the host nor gpu0 again, only adds or removes gpu1.
  t.deepEqual(
    history.map((entry) => [entry.revision, entry.deviceId, entry.change]),
    [
      [1, '', 'CREATED'],
      [1, 'gpu0', 'CREATED'],
      ...(first.revision === 1 ? [[1 + 1, 'gpu1', 'CREATED']] : [[1, 'gpu1', 'CREATED'], [2, 'gpu1', 'DELETED']]),
    ],
  );
  t.deepEqual([late.created, late.deleted], first.revision === 1 ? [1, 0] : [0, 1]);
  await Promise.all(rigs.map((rig) => reached(rig.registry, 2)));
  t.deepEqual(rigs[1].changes.map(seen), rigs[0].changes.map(seen));
  t.false(memory.dropWakeups);
  for (const rig of rigs) await rig.registry.close();
});

test('expected_revision is checked against what the other registries wrote, even before a wake-up', async (t) => {
  const { memory, rigs } = await openReplicas(2);
  const [a, b] = rigs;
  await a.registry.syncHost(syncOf('h'), ORIGIN);
  await b.registry.catchUp();
  t.is(b.registry.findHost('h')!.record.revision, 1);
  memory.dropWakeups = true;
  await a.registry.setDraining('h', true, ORIGIN);
  const refused = await t.throwsAsync(b.registry.deleteHost('h', 1, ORIGIN), { instanceOf: DomainError });
  t.regex(refused.message, /hosts\/h is at revision 2, not the expected 1/);
  t.truthy(a.registry.findHost('h'), 'nothing deleted');
  const synced = await b.registry.syncHost({ ...syncOf('h', ['gpu0', 'gpu1']), expectedRevision: 2 }, ORIGIN);
  t.is(synced.revision, 3);
  await a.registry.catchUp();
  const deleted = await a.registry.deleteHost('h', 3, ORIGIN);
  t.deepEqual(deleted, { revision: 4, devicesDeleted: 2 });
  for (const rig of rigs) await rig.registry.close();
});

test('a write to one host deferred to the next batch is committed on a replica too', async (t) => {
  const { rigs } = await openReplicas(2);
  const [, b] = rigs;
  const [created, drained, again] = await Promise.all([
    b.registry.syncHost(syncOf('h'), ORIGIN),
    b.registry.setDraining('h', true, ORIGIN),
    b.registry.syncHost(syncOf('h', ['gpu0', 'gpu1']), ORIGIN),
  ]);
  t.deepEqual([created.revision, drained.revision, again.revision], [1, 2, 3]);
  t.is(b.store.commits, 3, 'one batch each: a host is written once per batch');
  for (const rig of rigs) await rig.registry.close();
});

test('catchUp() called while a batch is in flight resolves after it, with what the others wrote meanwhile', async (t) => {
  const { memory, rigs } = await openReplicas(2);
  const [a, b] = rigs;
  memory.dropWakeups = true;
  const release = b.store.pause();
  const write = b.registry.syncHost(syncOf('hb'), ORIGIN);
  await new Promise(setImmediate); // the batch is in flight: its read of the log waits for the store
  await a.registry.syncHost(syncOf('ha'), ORIGIN);
  const caughtUp = b.registry.catchUp();
  release();
  const own = await write;
  await caughtUp;
  t.is(b.registry.revision, 2);
  t.truthy(b.registry.findHost('ha'));
  t.is(own.revision, b.registry.findHost('hb')!.record.revision);
  t.deepEqual(b.changes.map((change) => change.revision), [1, 2]);
  for (const rig of rigs) await rig.registry.close();
});

test('a commit the store refuses (not stale) fails its writes on a replica, is not retried, and publishes nothing', async (t) => {
  const { rigs } = await openReplicas(2);
  const [a, b] = rigs;
  b.store.failCommits(new Error('disk full'));
  await t.throwsAsync(b.registry.syncHost(syncOf('h'), ORIGIN), { message: 'disk full' });
  t.is(b.store.commits, 1, 'not retried');
  t.is(b.registry.findHost('h'), undefined);
  t.deepEqual(b.changes, []);
  const later = await b.registry.syncHost(syncOf('h'), ORIGIN);
  t.is(later.revision, 1);
  await a.registry.catchUp();
  t.truthy(a.registry.findHost('h'));
  for (const rig of rigs) await rig.registry.close();
});

test('a replica whose store cannot be read fails its queued writes and its catch-up at once, and stays usable to close', async (t) => {
  const { rigs } = await openReplicas(2);
  const [a, b] = rigs;
  await a.registry.syncHost(syncOf('h'), ORIGIN);
  await b.registry.catchUp();
  await b.store.close(); // its database connection is gone for good
  await t.throwsAsync(b.registry.syncHost(syncOf('h2'), ORIGIN), { message: 'the store is closed' });
  await t.throwsAsync(b.registry.catchUp(), { message: 'the store is closed' });
  await t.throwsAsync(Promise.all([b.registry.setDraining('h', true, ORIGIN), b.registry.syncHost(syncOf('h3'), ORIGIN)]), {
    message: 'the store is closed',
  });
  t.is(b.registry.revision, 1);
  await b.registry.close();
  await a.registry.close();
});

test('a registry on a store of its own: catchUp() resolves at once, with nothing to follow', async (t) => {
  const { registry, store } = await openCore();
  t.is(store.log, undefined);
  await registry.syncHost(syncOf('h'), ORIGIN);
  await registry.catchUp();
  t.is(registry.revision, 1);
  t.true(await registry.reachRevision(1, 10));
  await registry.close();
});
