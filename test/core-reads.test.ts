// The core's read side without a server: one read path for now and the past (a ReadView),
// standing queries opened by the core (listen, then baseline), the verdict cache's bound, and
// the one ranking order as a comparator and as a sort key.

import test from 'ava';
import fc from 'fast-check';
import { DomainError } from '../server/core/errors.ts';
import { VerdictCache } from '../server/core/find-targets.ts';
import { compareRanked, rankSortKey, type RankKey } from '../server/core/rank.ts';
import type { TargetChange, TargetState } from '../server/core/standing-query.ts';
import { validateSyncHost } from '../server/core/resources.ts';
import { validateDescriptor } from '../server/core/validate.ts';
import { FIND, GPU, openCore, ORIGIN, QuietReplicasLog, syncOf } from './helpers/core.ts';
import { MemoryStore } from '../server/store/memory-store.ts';
import type { Registry } from '../server/core/registry.ts';

const NEWER = { ...GPU, software_version: '1.1.0' };
const ALL = { descriptorIds: undefined, hostId: undefined, labels: {}, hostLabels: {}, after: undefined, limit: 100 };

test('one read path: a view of now and a view of a past revision answer the same calls', async (t) => {
  const { registry, clock } = await openCore();
  await registry.syncHost(syncOf('a', [{ id: 'gpu0', available: 1 }]), ORIGIN); // 1
  clock.advance(1000);
  await registry.syncHost(syncOf('b', [{ id: 'gpu0', available: 2 }]), ORIGIN); // 2
  clock.advance(1000);
  await registry.syncHost(syncOf('a', [{ id: 'gpu0', descriptor: NEWER, available: 3 }]), ORIGIN); // 3

  const now = await registry.read();
  const then = await registry.read({ revision: 2 });
  const byTime = await registry.read({ time: clock.now() - 1000 });
  t.deepEqual([now.revision, then.revision, byTime.revision], [3, 2, 2]);

  t.is((await now.device('a', 'gpu0')).descriptor.softwareVersion.text, '1.1.0');
  t.is((await then.device('a', 'gpu0')).descriptor.softwareVersion.text, '1.0.0');
  t.deepEqual((await then.device('a', 'gpu0')).record.capacity, { total: 4, available: 1 });
  t.is((await then.resolve({ name: 'hosts/a/devices/gpu0' }, 'source')).device?.name, 'hosts/a/devices/gpu0');
  t.is((await now.resolve({ descriptor: GPU as never }, 'source')).device, undefined, 'an inline descriptor names no device');

  const names = async (view: typeof now) => (await view.listDevices(ALL)).map((d) => `${d.name}@${d.record.revision}`);
  t.deepEqual(await names(now), ['hosts/a/devices/gpu0@3', 'hosts/b/devices/gpu0@2']);
  t.deepEqual(await names(await registry.read({ revision: 1 })), ['hosts/a/devices/gpu0@1']);
  t.deepEqual(await now.listDevices({ ...ALL, descriptorIds: new Set() }), []);

  const source = await now.resolve({ descriptor: GPU as never }, 'source');
  const found = async (view: typeof now) => {
    const result = await view.findTargets(await view.resolveSource({ descriptor: GPU as never }, 'source'), FIND);
    return [result.revision, ...result.targets.map((target) => `${target.rank} ${target.device.name}`)];
  };
  t.deepEqual(await found(now), [3, '1 hosts/b/devices/gpu0', '2 hosts/a/devices/gpu0'], 'the exact match first');
  t.deepEqual(await found(then), [2, '1 hosts/b/devices/gpu0', '2 hosts/a/devices/gpu0'], 'equal rank: more free first');
  t.is((await now.findTargets(source, { ...FIND, limit: 1 })).targets.length, 1);

  const missing = await t.throwsAsync(then.device('c', 'gpu0'));
  t.true(missing instanceof DomainError && missing.reason === 'NOT_FOUND');
  t.regex(missing!.message, /did not exist at revision 2/);
  const future = await t.throwsAsync(registry.read({ revision: 4 }));
  t.true(future instanceof DomainError && future.reason === 'INVALID_ARGUMENT');
  await registry.compact(2);
  const gone = await t.throwsAsync(registry.read({ revision: 1 }));
  t.true(gone instanceof DomainError && gone.reason === 'REVISION_COMPACTED');
  t.is((await registry.read({ revision: 2 })).revision, 2, 'the checkpoint itself is readable');
  await registry.close();
});

test('on a store other servers compact, a past read that finds history gone is REVISION_COMPACTED before this server heard of the compaction', async (t) => {
  const store = new MemoryStore();
  let registry: Registry | undefined;
  // The others write nothing; one of them compacts the store behind this server's back.
  const log = new (class extends QuietReplicasLog {
    override async checkpoint() {
      return (await store.load()).checkpoint;
    }
  })(() => registry!);
  const rig = await openCore({ store, followLog: log });
  registry = rig.registry;
  for (let i = 0; i < 4; i++) await registry.syncHost(syncOf('a', [{ id: 'gpu0', available: i }]), ORIGIN); // 1 to 4
  const cached = await registry.read({ revision: 1 });
  t.is((await cached.listDevices(ALL)).length, 1, 'a past view, cached');

  await store.compact({ revision: 3, time: rig.clock.now(), actor: 'admin:elsewhere' });
  t.is(registry.oldestRevision, 1, 'not heard of yet');
  for (const [what, read] of [
    ['a device as of 2', async () => (await registry!.read({ revision: 2 })).device('a', 'gpu0')],
    ['the cached view as of 1', async () => (await registry!.read({ revision: 1 })).listDevices(ALL)],
  ] as const) {
    const gone = await t.throwsAsync(read(), undefined, what);
    t.true(gone instanceof DomainError && gone.reason === 'REVISION_COMPACTED', `${what}: ${gone?.message}`);
    t.regex(gone!.message, /oldest revision available is 3/, what);
  }
  t.is(registry.oldestRevision, 4, 'learned from the read');
  t.deepEqual((await (await registry.read({ revision: 3 })).device('a', 'gpu0')).record.capacity, { total: 4, available: 2 });
  await registry.close();
});

test('a standing query gets its baseline at the current revision, then the diffs of each revision, until cancelled', async (t) => {
  const { registry } = await openCore();
  await registry.syncHost(syncOf('source'), ORIGIN);
  await registry.syncHost(syncOf('a'), ORIGIN);
  const seen: string[] = [];
  const sink = {
    initial: (targets: readonly TargetState[], revision: number) => seen.push(`initial@${revision} ${targets.map((x) => x.device.name).join(',')}`),
    changes: (changes: readonly TargetChange[], revision: number) =>
      seen.push(`@${revision} ${changes.map((c) => `${c.kind} ${c.name}`).join(',')}`),
    fail: (error: unknown) => seen.push(`failed ${(error as DomainError).reason}`),
  };
  const options = { excludeHosts: new Set<string>(), hostLabels: {}, requireAvailable: false, includeSourceHost: false, includeUnreachable: false, includeDraining: false };
  const cancel = registry.watchTargets(registry.resolveCurrent({ name: 'hosts/source/devices/gpu0' }, 'source'), options, sink);
  t.deepEqual(seen, ['initial@2 hosts/a/devices/gpu0'], 'the baseline is handed over at once');
  await registry.syncHost(syncOf('b'), ORIGIN);
  await registry.setDraining('a', true, ORIGIN);
  t.deepEqual(seen.slice(1), ['@3 ADDED hosts/b/devices/gpu0', '@4 REMOVED hosts/a/devices/gpu0']);
  cancel();
  await registry.syncHost(syncOf('c'), ORIGIN);
  t.is(seen.length, 3, 'nothing after cancel');

  const followed: string[] = [];
  registry.watchTargets(registry.resolveCurrent({ name: 'hosts/source/devices/gpu0' }, 'source'), options, {
    initial: () => followed.push('initial'),
    changes: () => followed.push('changes'),
    fail: (error) => followed.push(`failed ${(error as DomainError).reason}`),
  });
  await registry.deleteHost('source', undefined, ORIGIN);
  await registry.syncHost(syncOf('d'), ORIGIN);
  t.deepEqual(followed, ['initial', 'failed NOT_FOUND'], 'a deleted source ends the query, which stops listening');
  await registry.close();
});

test('the verdict cache is bounded: at its limit it starts over, and answers stay the same', (t) => {
  const cache = new VerdictCache(2);
  const d = (version: string) => validateDescriptor({ ...GPU, software_version: version } as never);
  const [v1, v2, v3] = [d('1.0.0'), d('1.1.0'), d('1.2.0')];
  const first = cache.verdictFor(v1, v2);
  t.is(cache.verdictFor(v1, v2), first, 'a hit is the cached object');
  cache.verdictFor(v1, v3);
  t.is(cache.size, 2);
  const third = cache.verdictFor(v2, v3);
  t.is(cache.size, 1, 'the limit reached: the cache was reset');
  t.not(cache.verdictFor(v1, v2), first, 'recomputed after the reset');
  t.deepEqual(cache.verdictFor(v1, v2).verdict, first.verdict);
  t.is(cache.verdictFor(v2, v3), third);
});

test('rankSortKey orders targets exactly as compareRanked does', (t) => {
  const key: fc.Arbitrary<RankKey> = fc.record({
    verdictClass: fc.integer({ min: 0, max: 2 }),
    exact: fc.boolean(),
    distance: fc.tuple(fc.nat(20), fc.nat(20), fc.nat(20)),
  });
  const candidate = fc.record({
    key,
    available: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
    name: fc.constantFrom('hosts/a/devices/0', 'hosts/a/devices/1', 'hosts/b/devices/0', 'hosts/B/devices/0'),
  });
  fc.assert(
    fc.property(candidate, candidate, (a, b) => {
      const byKey = Math.sign(compareRanked(a, b));
      const sa = rankSortKey(a.key, a.available, a.name);
      const sb = rankSortKey(b.key, b.available, b.name);
      t.is(Math.sign(sa < sb ? -1 : sa > sb ? 1 : 0), byKey);
    }),
    { numRuns: 500, seed: 8 },
  );
});

test('listing devices by label after a restart, then as labels change: the label index follows every change', async (t) => {
  const sync = (name: string, pools: Record<string, string>) =>
    validateSyncHost({
      name,
      labels: {},
      budgets: [],
      devices: Object.entries(pools).map(([id, pool]) => ({ device_id: id, descriptor: GPU as never, labels: { pool } })),
    });
  const first = await openCore();
  await first.registry.syncHost(sync('a', { gpu0: 'gold', gpu1: 'tin' }), ORIGIN);
  await first.registry.syncHost(sync('b', { gpu0: 'gold' }), ORIGIN);
  const { registry } = await first.reopen(); // loaded from the store, no label query yet
  const pool = async (value: string) =>
    (await (await registry.read()).listDevices({ ...ALL, labels: { pool: value } })).map((device) => device.name);
  // A change before the first label query, then queries, then changes after it.
  await registry.syncHost(sync('c', { gpu0: 'gold' }), ORIGIN);
  t.deepEqual(await pool('gold'), ['hosts/a/devices/gpu0', 'hosts/b/devices/gpu0', 'hosts/c/devices/gpu0']);
  t.deepEqual(await pool('tin'), ['hosts/a/devices/gpu1']);
  await registry.syncHost(sync('a', { gpu0: 'tin' }), ORIGIN); // gpu0 moves to tin, gpu1 is removed
  t.deepEqual(await pool('gold'), ['hosts/b/devices/gpu0', 'hosts/c/devices/gpu0']);
  t.deepEqual(await pool('tin'), ['hosts/a/devices/gpu0']);
});
