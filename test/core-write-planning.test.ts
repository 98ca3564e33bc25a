// Write planning (server/core/write-planning.ts) as a user of the registry sees it: what a
// sync, a delete or a state change stores — the host and device records, their creation
// revision and times kept across updates, the history entries of each revision in order with
// who made the write and why — what a write that changes nothing still records (the sync
// time), which new descriptors are stored, and how an expected revision is checked. The core
// on the in-memory store with a manual clock.

import test from 'ava';
import { DomainError } from '../server/core/errors.ts';
import type { Registry } from '../server/core/registry.ts';
import { validateSyncHost } from '../server/core/resources.ts';
import { historyQuery, type HistoryRecord } from '../server/core/store.ts';
import { GPU, openCore, ORIGIN, settled, syncOf } from './helpers/core.ts';

const ALICE = { actor: 'alice', reason: 'boot', onBehalfOf: 'bob' };
const NEWER = { ...GPU, software_version: '1.1.0' };

/** A sync with device labels and capacities. */
function syncWith(
  name: string,
  devices: { id: string; available?: number; labels?: Record<string, string>; descriptor?: object }[],
  labels: Record<string, string> = {},
  budgets: object[] = [],
) {
  return validateSyncHost({
    name,
    labels,
    budgets: budgets as never,
    devices: devices.map((d) => ({
      device_id: d.id,
      descriptor: (d.descriptor ?? GPU) as never,
      labels: d.labels ?? {},
      ...(d.available !== undefined && { capacity: { total: 4, available: d.available } }),
    })),
  });
}

/** Every entry about a host and its devices, in history order. */
function historyOf(registry: Registry, hostId: string): Promise<HistoryRecord[]> {
  return registry.listHistory(historyQuery({ hostId, limit: 1000 }));
}

/** The entries of one revision, reduced to what tells them apart. */
async function entriesAt(registry: Registry, hostId: string, revision: number) {
  return (await historyOf(registry, hostId))
    .filter((e) => e.revision === revision)
    .map((e) => ({ seq: e.seq, deviceId: e.deviceId, change: e.change, before: snapshotOf(e.before), after: snapshotOf(e.after) }));
}

function snapshotOf(snapshot: HistoryRecord['before']): string | undefined {
  if (snapshot === undefined) return undefined;
  if (snapshot.kind === 'host') return `host@${snapshot.host.revision}`;
  if (snapshot.kind === 'device') return `${snapshot.device.deviceId}@${snapshot.device.revision}`;
  return snapshot.kind;
}

test('a first sync stores the host and each device, with one entry each: host first, then devices by id', async (t) => {
  const { registry, store, clock } = await openCore();
  const t0 = clock.now();
  const result = await registry.syncHost(syncWith('a', [{ id: 'gpu1', available: 2, labels: { pool: 'gold' } }, { id: 'gpu0' }], { rack: 'r1' }), ALICE);
  t.like(result, { revision: 1, changed: true, created: 2, updated: 0, deleted: 0 });
  const loaded = await store.load();
  t.deepEqual(loaded.hosts, [
    {
      hostId: 'a',
      labels: { rack: 'r1' },
      revision: 1,
      createRevision: 1,
      createTime: t0,
      updateTime: t0,
      lastSyncTime: t0,
      reachable: true,
      draining: false,
    },
  ]);
  t.false('budgets' in loaded.hosts[0], 'a host without budgets stores none');
  t.deepEqual(
    loaded.devices.map(({ descriptorId: _id, ...device }) => device),
    [
      { hostId: 'a', deviceId: 'gpu0', capacity: undefined, labels: {}, revision: 1, createRevision: 1, createTime: t0, updateTime: t0 },
      {
        hostId: 'a',
        deviceId: 'gpu1',
        capacity: { total: 4, available: 2 },
        labels: { pool: 'gold' },
        revision: 1,
        createRevision: 1,
        createTime: t0,
        updateTime: t0,
      },
    ],
  );
  t.is(loaded.descriptors.length, 1, 'one descriptor, shared by both devices');
  t.is(loaded.devices[0].descriptorId, loaded.descriptors[0].id);
  t.is(loaded.devices[1].descriptorId, loaded.descriptors[0].id);

  const history = await historyOf(registry, 'a');
  t.deepEqual(await entriesAt(registry, 'a', 1), [
    { seq: 0, deviceId: '', change: 'CREATED', before: undefined, after: 'host@1' },
    { seq: 1, deviceId: 'gpu0', change: 'CREATED', before: undefined, after: 'gpu0@1' },
    { seq: 2, deviceId: 'gpu1', change: 'CREATED', before: undefined, after: 'gpu1@1' },
  ]);
  for (const entry of history) t.like(entry, { time: t0, hostId: 'a', actor: 'alice', reason: 'boot', onBehalfOf: 'bob' });
  await registry.close();
});

test('a re-sync records only what changed; creation revision and time are kept, update times move', async (t) => {
  const { registry, store, clock } = await openCore();
  const t0 = clock.now();
  await registry.syncHost(syncWith('a', [{ id: 'gpu0', available: 2 }, { id: 'gpu1' }, { id: 'gpu2', labels: { pool: 'gold' } }, { id: 'gpu3' }]), ORIGIN);
  clock.advance(1000);
  const t1 = clock.now();
  // gpu0: capacity; gpu1: unchanged; gpu2: labels; gpu3: removed; gpu4: new.
  const result = await registry.syncHost(
    syncWith('a', [{ id: 'gpu0', available: 1 }, { id: 'gpu1' }, { id: 'gpu2', labels: { pool: 'tin' } }, { id: 'gpu4' }]),
    ALICE,
  );
  t.like(result, { revision: 2, changed: true, created: 1, updated: 2, deleted: 1 });
  t.deepEqual(await entriesAt(registry, 'a', 2), [
    { seq: 0, deviceId: 'gpu0', change: 'UPDATED', before: 'gpu0@1', after: 'gpu0@2' },
    { seq: 1, deviceId: 'gpu2', change: 'UPDATED', before: 'gpu2@1', after: 'gpu2@2' },
    { seq: 2, deviceId: 'gpu4', change: 'CREATED', before: undefined, after: 'gpu4@2' },
    { seq: 3, deviceId: 'gpu3', change: 'DELETED', before: 'gpu3@1', after: undefined },
  ]);
  const loaded = await store.load();
  t.like(loaded.hosts[0], { revision: 2, createRevision: 1, createTime: t0, updateTime: t1, lastSyncTime: t1 });
  const devices = new Map(loaded.devices.map((d) => [d.deviceId, d]));
  t.deepEqual([...devices.keys()], ['gpu0', 'gpu1', 'gpu2', 'gpu4']);
  t.like(devices.get('gpu0'), { revision: 2, createRevision: 1, createTime: t0, updateTime: t1, capacity: { total: 4, available: 1 } });
  t.like(devices.get('gpu1'), { revision: 1, createRevision: 1, createTime: t0, updateTime: t0 });
  t.like(devices.get('gpu2'), { revision: 2, createRevision: 1, createTime: t0, updateTime: t1, labels: { pool: 'tin' } });
  t.like(devices.get('gpu4'), { revision: 2, createRevision: 2, createTime: t1, updateTime: t1 });

  // Capacity becoming unknown, and known again, are changes too.
  await registry.syncHost(syncWith('a', [{ id: 'gpu0' }, { id: 'gpu1' }, { id: 'gpu2', labels: { pool: 'tin' } }, { id: 'gpu4' }]), ORIGIN);
  t.deepEqual((await entriesAt(registry, 'a', 3)).map((e) => [e.deviceId, e.change]), [['gpu0', 'UPDATED']]);
  await registry.syncHost(syncWith('a', [{ id: 'gpu0' }, { id: 'gpu1', available: 4 }, { id: 'gpu2', labels: { pool: 'tin' } }, { id: 'gpu4' }]), ORIGIN);
  t.deepEqual((await entriesAt(registry, 'a', 4)).map((e) => [e.deviceId, e.change]), [['gpu1', 'UPDATED']]);
  // Same capacity total, other availability; same availability, other total.
  const capacityOf = (total: number, available: number) =>
    validateSyncHost({ name: 'c', labels: {}, budgets: [], devices: [{ device_id: 'gpu0', descriptor: GPU as never, capacity: { total, available } }] });
  await registry.syncHost(capacityOf(4, 1), ORIGIN);
  t.true((await registry.syncHost(capacityOf(4, 2), ORIGIN)).changed, 'availability changed');
  t.true((await registry.syncHost(capacityOf(5, 2), ORIGIN)).changed, 'total changed');
  t.false((await registry.syncHost(capacityOf(5, 2), ORIGIN)).changed, 'the same capacity again');
  await registry.close();
});

test('a device given another descriptor is updated, and the new descriptor stored once', async (t) => {
  const { registry, store } = await openCore();
  await registry.syncHost(syncOf('a', ['gpu0', 'gpu1']), ORIGIN);
  const result = await registry.syncHost(syncOf('a', [{ id: 'gpu0', descriptor: NEWER }, { id: 'gpu1', descriptor: NEWER }]), ORIGIN);
  t.like(result, { revision: 2, created: 0, updated: 2 });
  const loaded = await store.load();
  t.is(loaded.descriptors.length, 2);
  t.deepEqual(
    loaded.devices.map((d) => d.descriptorId),
    [loaded.descriptors[1].id, loaded.descriptors[1].id],
  );
  await registry.close();
});

test('host labels changing is a host change: a host entry with before and after, no device entry', async (t) => {
  const { registry, store, clock } = await openCore();
  const t0 = clock.now();
  await registry.syncHost(syncOf('a', ['gpu0'], { rack: 'r1' }), ORIGIN);
  clock.advance(500);
  const result = await registry.syncHost(syncOf('a', ['gpu0'], { rack: 'r2' }), ALICE);
  t.like(result, { revision: 2, changed: true, created: 0, updated: 0, deleted: 0 });
  t.deepEqual(await entriesAt(registry, 'a', 2), [{ seq: 0, deviceId: '', change: 'UPDATED', before: 'host@1', after: 'host@2' }]);
  const entry = (await historyOf(registry, 'a')).find((e) => e.revision === 2 && e.deviceId === '')!;
  t.true(entry.before?.kind === 'host' && entry.before.host.labels.rack === 'r1');
  t.true(entry.after?.kind === 'host' && entry.after.host.labels.rack === 'r2');
  t.like((await store.load()).hosts[0], { labels: { rack: 'r2' }, createRevision: 1, createTime: t0, updateTime: t0 + 500 });
  await registry.close();
});

test('a sync that changes nothing gets no revision, yet its time is stored as the last sync', async (t) => {
  const { registry, store, clock } = await openCore();
  const t0 = clock.now();
  await registry.syncHost(syncOf('a', ['gpu0'], { rack: 'r1' }), ORIGIN);
  await registry.syncHost(syncOf('b'), ORIGIN);
  clock.advance(2000);
  const again = await registry.syncHost(syncOf('a', ['gpu0'], { rack: 'r1' }), ORIGIN);
  t.like(again, { revision: 2, changed: false, created: 0, updated: 0, deleted: 0 });
  const loaded = await store.load();
  t.is(loaded.revision, 2);
  t.like(loaded.hosts[0], { hostId: 'a', revision: 1, updateTime: t0, lastSyncTime: t0 + 2000 });
  t.like(loaded.hosts[1], { hostId: 'b', lastSyncTime: t0 }, 'the other host is not touched');
  t.is((await historyOf(registry, 'a')).length, 2);
  // A state write that changes nothing touches no sync time.
  clock.advance(1000);
  await registry.setDraining('b', false, ORIGIN);
  t.like((await store.load()).hosts[1], { hostId: 'b', lastSyncTime: t0 });
  await registry.close();
});

test('budgets: new ones are a host change, the same ones again are not, none stores none', async (t) => {
  const { registry, store } = await openCore();
  const mem = (available: number) => ({ budget_id: 'mem', parent: 'card0', total: 8, available, consumption: { gpu0: 2 } });
  await registry.syncHost(syncOf('a', ['gpu0'], {}, [mem(8)]), ORIGIN);
  t.deepEqual((await store.load()).hosts[0].budgets?.map((b) => [b.budgetId, b.available]), [['mem', 8]]);
  t.false((await registry.syncHost(syncOf('a', ['gpu0'], {}, [mem(8)]), ORIGIN)).changed, 'the same budgets again');
  const changed = await registry.syncHost(syncOf('a', ['gpu0'], {}, [mem(6)]), ORIGIN);
  t.like(changed, { revision: 2, changed: true });
  t.deepEqual((await entriesAt(registry, 'a', 2)).map((e) => [e.deviceId, e.change]), [['', 'UPDATED']]);
  t.deepEqual((await store.load()).hosts[0].budgets?.map((b) => [b.budgetId, b.available]), [['mem', 6]]);
  t.true((await registry.syncHost(syncOf('a', ['gpu0']), ORIGIN)).changed, 'budgets dropped');
  t.false('budgets' in (await store.load()).hosts[0]);
  await registry.close();
});

test('a sync keeps the draining mark and makes an unreachable host reachable again', async (t) => {
  const { registry, store, clock } = await openCore({ leaseTtlMs: 1000 });
  await registry.syncHost(syncOf('a'), ORIGIN);
  await registry.setDraining('a', true, ORIGIN);
  const resync = await registry.syncHost(syncOf('a', ['gpu0', 'gpu1']), ORIGIN);
  t.true(resync.host.record.draining, 'a sync does not clear the draining mark');
  t.true((await store.load()).hosts[0].draining);

  registry.startLeases();
  clock.advance(1000);
  await registry.setDraining('a', true, ORIGIN); // queued after the lapse
  t.false(registry.findHost('a')!.record.reachable);
  const revision = registry.revision;
  const back = await registry.syncHost(syncOf('a', ['gpu0', 'gpu1']), ORIGIN);
  t.like(back, { revision: revision + 1, changed: true, created: 0, updated: 0 });
  t.true(back.host.record.reachable);
  t.true(back.host.record.draining);
  const entries = await entriesAt(registry, 'a', revision + 1);
  t.deepEqual(entries.map((e) => [e.deviceId, e.change]), [['', 'UPDATED']]);
  await registry.close();
});

test('an expected revision: a mismatch is refused naming both revisions; 0 means "does not exist yet"', async (t) => {
  const { registry } = await openCore();
  const created = await registry.syncHost({ ...syncOf('a'), expectedRevision: 0 }, ORIGIN);
  t.is(created.revision, 1, 'expected 0 creates a host that does not exist');
  await registry.syncHost(syncOf('b'), ORIGIN); // 2
  const error = await t.throwsAsync(registry.syncHost({ ...syncOf('a', ['gpu0', 'gpu1']), expectedRevision: 2 }, ORIGIN), {
    instanceOf: DomainError,
  });
  t.is(error?.reason, 'REVISION_MISMATCH');
  t.is(error?.message, 'hosts/a is at revision 1, not the expected 2: re-read it and retry');
  t.deepEqual(error?.metadata, { resource: 'hosts/a', current_revision: '1', expected_revision: '2' });
  const again = await t.throwsAsync(registry.syncHost({ ...syncOf('c'), expectedRevision: 5 }, ORIGIN), { instanceOf: DomainError });
  t.is(again?.message, 'hosts/c is at revision 0, not the expected 5: re-read it and retry');
  const ok = await registry.syncHost({ ...syncOf('a', ['gpu0', 'gpu1']), expectedRevision: 1 }, ORIGIN);
  t.like(ok, { revision: 3, created: 1 });

  const refused = await t.throwsAsync(registry.deleteHost('a', 1, ORIGIN), { instanceOf: DomainError });
  t.is(refused?.reason, 'REVISION_MISMATCH');
  t.truthy(registry.findHost('a'), 'nothing deleted');
  t.deepEqual(await registry.deleteHost('a', 3, ORIGIN), { revision: 4, devicesDeleted: 2 });
  await registry.close();
});

test('a delete records each device, then the host, with what they were; nothing after', async (t) => {
  const { registry, store, clock } = await openCore();
  await registry.syncHost(syncOf('a', ['gpu1', 'gpu0']), ORIGIN);
  await registry.syncHost(syncOf('b'), ORIGIN);
  clock.advance(700);
  const missing = await t.throwsAsync(registry.deleteHost('ghost', undefined, ORIGIN), { instanceOf: DomainError });
  t.is(missing?.reason, 'NOT_FOUND');
  t.regex(missing!.message, /hosts\/ghost/);
  t.deepEqual(await registry.deleteHost('a', undefined, ALICE), { revision: 3, devicesDeleted: 2 });
  t.deepEqual(await entriesAt(registry, 'a', 3), [
    { seq: 0, deviceId: 'gpu0', change: 'DELETED', before: 'gpu0@1', after: undefined },
    { seq: 1, deviceId: 'gpu1', change: 'DELETED', before: 'gpu1@1', after: undefined },
    { seq: 2, deviceId: '', change: 'DELETED', before: 'host@1', after: undefined },
  ]);
  for (const entry of (await historyOf(registry, 'a')).filter((e) => e.revision === 3)) {
    t.like(entry, { time: clock.now(), actor: 'alice', reason: 'boot', onBehalfOf: 'bob' });
  }
  const loaded = await store.load();
  t.deepEqual(loaded.hosts.map((h) => h.hostId), ['b']);
  t.deepEqual(loaded.devices.map((d) => d.hostId), ['b']);
  await registry.close();
});

test('a state change records the host before and after, dated now; the same state again records nothing', async (t) => {
  const { registry, store, clock } = await openCore();
  const t0 = clock.now();
  await registry.syncHost(syncOf('a'), ORIGIN);
  clock.advance(300);
  const drained = await registry.setDraining('a', true, ALICE);
  t.like(drained, { revision: 2, changed: true });
  t.deepEqual(await entriesAt(registry, 'a', 2), [{ seq: 0, deviceId: '', change: 'UPDATED', before: 'host@1', after: 'host@2' }]);
  const entry = (await historyOf(registry, 'a')).find((e) => e.revision === 2 && e.deviceId === '')!;
  t.like(entry, { time: t0 + 300, actor: 'alice', reason: 'boot', onBehalfOf: 'bob' });
  t.true(entry.before?.kind === 'host' && !entry.before.host.draining);
  t.true(entry.after?.kind === 'host' && entry.after.host.draining && entry.after.host.reachable);
  t.like((await store.load()).hosts[0], { revision: 2, draining: true, reachable: true, updateTime: t0 + 300, lastSyncTime: t0, createTime: t0 });
  t.like(await registry.setDraining('a', true, ORIGIN), { revision: 2, changed: false });
  const missing = await t.throwsAsync(registry.setDraining('ghost', true, ORIGIN), { instanceOf: DomainError });
  t.is(missing?.reason, 'NOT_FOUND');
  await registry.close();
});

test('only descriptors that a committed change uses are stored', async (t) => {
  const { registry, store } = await openCore();
  await registry.syncHost(syncOf('a'), ORIGIN);
  const outcomes = await Promise.allSettled([
    // Refused: its new descriptor must not be stored.
    registry.syncHost({ ...syncOf('a', [{ id: 'gpu0', descriptor: NEWER }]), expectedRevision: 7 }, ORIGIN),
    registry.syncHost(syncOf('b'), ORIGIN),
  ]);
  t.deepEqual(outcomes.map((o) => o.status), ['rejected', 'fulfilled']);
  t.is((await store.load()).descriptors.length, 1);
  t.is(registry.stats.descriptors, 1);
  // Two writes of one batch introducing the same descriptor store it once.
  await Promise.all([
    registry.syncHost(syncOf('c', [{ id: 'gpu0', descriptor: NEWER }]), ORIGIN),
    registry.syncHost(syncOf('d', [{ id: 'gpu0', descriptor: NEWER }]), ORIGIN),
  ]);
  const loaded = await store.load();
  t.is(loaded.descriptors.length, 2);
  t.is(new Set(loaded.devices.map((d) => d.descriptorId)).size, 2);
  await registry.close();
});

test('the change feed carries each revision\'s entries with host and device snapshots, as history lists them', async (t) => {
  const { registry, changes } = await openCore();
  await registry.syncHost(syncWith('a', [{ id: 'gpu0', available: 1 }, { id: 'gpu1' }]), ORIGIN); // 1
  await registry.syncHost(syncWith('a', [{ id: 'gpu0', available: 2 }]), ORIGIN); // 2: gpu0 updated, gpu1 deleted
  await registry.setDraining('a', true, ORIGIN); // 3
  await registry.deleteHost('a', undefined, ORIGIN); // 4
  const published = changes.map((change) => ({
    revision: change.revision,
    entries: change.entries.map((e) => [e.deviceId, e.change, e.before?.kind, e.after?.kind]),
  }));
  t.deepEqual(published, [
    { revision: 1, entries: [['', 'CREATED', undefined, 'host'], ['gpu0', 'CREATED', undefined, 'device'], ['gpu1', 'CREATED', undefined, 'device']] },
    { revision: 2, entries: [['gpu0', 'UPDATED', 'device', 'device'], ['gpu1', 'DELETED', 'device', undefined]] },
    { revision: 3, entries: [['', 'UPDATED', 'host', 'host']] },
    { revision: 4, entries: [['gpu0', 'DELETED', 'device', undefined], ['', 'DELETED', 'host', undefined]] },
  ]);
  const missing = await t.throwsAsync(registry.setDraining('a', false, ORIGIN), { instanceOf: DomainError });
  t.is(missing?.reason, 'NOT_FOUND');
  t.regex(missing!.message, /hosts\/a\b/, 'the refusal names the host');
  await registry.close();
});

test('persisting renewed leases writes the expiries and nothing else: no host, device, history or revision', async (t) => {
  const { registry, clock, store } = await openCore({ leaseTtlMs: 10_000 });
  await registry.syncHost(syncWith('a', [{ id: 'gpu0' }]), ORIGIN);
  const before = await store.load();
  registry.startLeases();
  clock.advance(300);
  registry.keepAlive('a');
  clock.advance(700); // the once-a-second persist
  await settled(registry, 'a');
  const after = await store.load();
  t.deepEqual([...after.leaseExpiries], [['a', clock.now() - 700 + 10_000]]);
  t.deepEqual(after.hosts, before.hosts);
  t.deepEqual(after.devices, before.devices);
  t.deepEqual(after.descriptors, before.descriptors);
  t.is(after.revision, before.revision);
  t.is((await historyOf(registry, 'a')).length, 2);
  await registry.close();
});
