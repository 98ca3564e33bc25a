// Point-in-time reads (server/core/point-in-time.ts) through `registry.read(asOf)` and
// `registry.viewAt`: which revision `as_of_revision` / `as_of_time` resolve to and the exact
// errors above the head or below the compaction checkpoint, one device at the head and in the
// past (its record, budgets, NOT_FOUND messages), the materialized past registry (its hosts,
// a listing's order, page, cursor and filters) and the cache of the last four past views (a
// view whose reading failed, the store made to fail once, is not kept).
// On the in-memory store with a manual clock.

import test from 'ava';
import { DomainError } from '../server/core/errors.ts';
import type { DeviceListQuery } from '../server/core/live-state.ts';
import type { ReadView } from '../server/core/registry.ts';
import { PointInTime } from '../server/core/point-in-time.ts';
import { GPU, openCore, ORIGIN, syncOf } from './helpers/core.ts';

const OTHER = { ...GPU, type: 'nvidia-a10-8q' };
const ALL: DeviceListQuery = { descriptorIds: undefined, hostId: undefined, labels: {}, hostLabels: {}, after: undefined, limit: 100 };
const mem = (available: number) => ({ budget_id: 'mem', parent: 'card0', total: 8, available, consumption: { gpu2: 2 } });
const STEP = 1000;

/**
 * Revision 1 (t0): host b, gpu1 then gpu0, zone x. Revision 2 (t0+1s): host a, gpu2 and gpu10
 * (OTHER), zone y, budget mem 6 free. Revision 3 (t0+2s): host a again, zone z, gpu10 gone,
 * gpu3 new, mem 2 free. Revision 4 (t0+3s): host c, gpu0.
 */
async function history() {
  const rig = await openCore();
  const { registry, clock } = rig;
  const t0 = clock.now();
  await registry.syncHost(syncOf('b', ['gpu1', 'gpu0'], { zone: 'x' }), ORIGIN);
  clock.advance(STEP);
  await registry.syncHost(syncOf('a', [{ id: 'gpu2', available: 1 }, { id: 'gpu10', descriptor: OTHER }], { zone: 'y' }, [mem(6)]), ORIGIN);
  clock.advance(STEP);
  await registry.syncHost(syncOf('a', [{ id: 'gpu2', available: 3 }, 'gpu3'], { zone: 'z' }, [mem(2)]), ORIGIN);
  clock.advance(STEP);
  await registry.syncHost(syncOf('c', ['gpu0']), ORIGIN);
  return { ...rig, t0 };
}

/** Runs `call`, which must fail with a DomainError; returns its reason, message, violations and metadata. */
async function failure(call: () => Promise<unknown>) {
  try {
    await call();
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return { reason: error.reason, message: error.message, violations: error.violations.map((v) => `${v.field}: ${v.description}`), metadata: error.metadata };
  }
  throw new Error('expected a DomainError');
}

const names = async (view: ReadView, query: Partial<DeviceListQuery> = {}) => (await view.listDevices({ ...ALL, ...query })).map((d) => d.name);
const budgetsOf = (budgets: readonly { budgetId: string; total: number; available: number }[]) => budgets.map((b) => `${b.budgetId} ${b.available}/${b.total}`);

test('as_of_revision: up to the head; above it INVALID_ARGUMENT naming the field; an empty as-of is the head', async (t) => {
  const { registry } = await history();
  t.is((await registry.read({ revision: 4 })).revision, 4);
  t.is((await registry.read({ revision: 0 })).revision, 0);
  t.is((await registry.read({})).revision, 4);
  const above = await failure(() => registry.read({ revision: 5 }));
  t.is(above.reason, 'INVALID_ARGUMENT');
  t.deepEqual(above.violations, ['as_of_revision: is after the current revision 4']);
});

test('as_of_time: the revision in force at that time; before anything, revision 0', async (t) => {
  const { registry, t0 } = await history();
  t.is((await registry.read({ time: t0 + 1.5 * STEP })).revision, 2);
  t.is((await registry.read({ time: t0 + STEP })).revision, 2, 'a revision is in force from its own time');
  t.is((await registry.read({ time: t0 + 10 * STEP })).revision, 4);
  t.is((await registry.read({ time: t0 - 1 })).revision, 0);
});

test('below the compaction checkpoint: REVISION_COMPACTED with the exact message; the checkpoint itself can be read', async (t) => {
  const { registry, t0 } = await history();
  await registry.compact(2);
  const expected = {
    reason: 'REVISION_COMPACTED',
    message: 'revision 1 has been compacted: the oldest revision available is 2',
    violations: [],
    metadata: { revision: '1', oldest_revision: '2' },
  };
  t.deepEqual(await failure(() => registry.read({ revision: 1 })), expected);
  // A time before the checkpoint: the store no longer knows the revisions compacted away.
  for (const time of [t0 + 0.5 * STEP, t0 - 1]) {
    const error = await failure(() => registry.read({ time }));
    t.deepEqual([error.reason, error.metadata.oldest_revision], ['REVISION_COMPACTED', '2']);
  }
  t.is((await registry.read({ revision: 2 })).revision, 2);
  t.is((await registry.read({ time: t0 + STEP })).revision, 2);
  t.deepEqual(await names(await registry.read({ revision: 2 })), ['hosts/a/devices/gpu10', 'hosts/a/devices/gpu2', 'hosts/b/devices/gpu0', 'hosts/b/devices/gpu1']);
});

test('a device at the head: its live record and budgets; a missing one is "not found"', async (t) => {
  const { registry } = await history();
  const head = await registry.read({ revision: 4 });
  const gpu2 = await head.device('a', 'gpu2');
  t.is(gpu2.name, 'hosts/a/devices/gpu2');
  t.deepEqual(gpu2.record.capacity, { total: 4, available: 3 });
  t.is(gpu2.descriptor.type, 'nvidia-a10-4q');
  t.deepEqual(budgetsOf(gpu2.budgets), ['mem 2/8']);
  t.deepEqual((await head.device('c', 'gpu0')).budgets, []);
  for (const [hostId, deviceId] of [['a', 'gpu10'], ['zz', 'gpu0']]) {
    const name = `hosts/${hostId}/devices/${deviceId}`;
    t.deepEqual(await failure(() => head.device(hostId, deviceId)), { reason: 'NOT_FOUND', message: `${name} not found`, violations: [], metadata: { resource: name } });
  }
});

test('a device in the past: the record, descriptor and host budgets of then; one not there yet "did not exist"', async (t) => {
  const { registry } = await history();
  const past = await registry.read({ revision: 2 });
  const gpu2 = await past.device('a', 'gpu2');
  t.deepEqual(gpu2.record.capacity, { total: 4, available: 1 });
  t.deepEqual(budgetsOf(gpu2.budgets), ['mem 6/8'], 'the budgets of the host as it was');
  const gpu10 = await past.device('a', 'gpu10');
  t.is(gpu10.name, 'hosts/a/devices/gpu10');
  t.is(gpu10.descriptor.type, 'nvidia-a10-8q', 'a device deleted since: as it was before');
  const b = await past.device('b', 'gpu0');
  t.is(b.record.deviceId, 'gpu0');
  t.deepEqual(b.budgets, [], 'a host without budgets, unchanged since');
  for (const [hostId, deviceId] of [['a', 'gpu3'], ['c', 'gpu0'], ['zz', 'gpu0']]) {
    const name = `hosts/${hostId}/devices/${deviceId}`;
    t.deepEqual(await failure(() => past.device(hostId, deviceId)), { reason: 'NOT_FOUND', message: `${name} did not exist at revision 2`, violations: [], metadata: { resource: name } });
  }
});

test('resolveSource in the past: the device of the past view; one not there yet "did not exist" at that revision', async (t) => {
  const { registry } = await history();
  const past = await registry.read({ revision: 2 });
  const resolved = await past.resolveSource({ name: 'hosts/a/devices/gpu10' }, 'source');
  t.is(resolved.device?.name, 'hosts/a/devices/gpu10');
  t.is(resolved.descriptor.type, 'nvidia-a10-8q');
  for (const name of ['hosts/a/devices/gpu3', 'hosts/c/devices/gpu0']) {
    const error = await failure(() => past.resolveSource({ name }, 'source'));
    t.deepEqual([error.reason, error.message], ['NOT_FOUND', `${name} did not exist at revision 2`]);
  }
});

test('a past listing: (host, device) order, the exact page size, the cursor, host and label filters of then', async (t) => {
  const { registry } = await history();
  const past = await registry.read({ revision: 2 });
  const all = ['hosts/a/devices/gpu10', 'hosts/a/devices/gpu2', 'hosts/b/devices/gpu0', 'hosts/b/devices/gpu1'];
  t.deepEqual(await names(past), all);
  t.deepEqual(await names(await registry.read({ revision: 1 })), ['hosts/b/devices/gpu0', 'hosts/b/devices/gpu1']);
  for (const limit of [1, 2, 3, 4]) t.deepEqual(await names(past, { limit }), all.slice(0, limit), `limit ${limit}`);
  t.deepEqual(await names(past, { after: { hostId: 'a', deviceId: 'gpu10' } }), all.slice(1));
  t.deepEqual(await names(past, { after: { hostId: 'a', deviceId: 'gpu2' } }), all.slice(2));
  t.deepEqual(await names(past, { after: { hostId: 'a', deviceId: 'gpu20' } }), all.slice(2));
  t.deepEqual(await names(past, { after: { hostId: 'b', deviceId: 'gpu0' } }), all.slice(3));
  t.deepEqual(await names(past, { after: { hostId: 'a', deviceId: '' } }), all);
  t.deepEqual(await names(past, { after: { hostId: 'a0', deviceId: 'zzz' } }), all.slice(2));
  t.deepEqual(await names(past, { after: { hostId: 'b', deviceId: 'gpu1' } }), []);
  t.deepEqual(await names(past, { after: { hostId: 'a', deviceId: 'gpu10' }, limit: 2 }), all.slice(1, 3));
  t.deepEqual(await names(past, { hostId: 'b' }), all.slice(2));
  t.deepEqual(await names(past, { hostId: 'c' }), []);
  t.deepEqual(await names(past, { hostLabels: { zone: 'y' } }), all.slice(0, 2), 'host a was in zone y then');
  t.deepEqual(await names(past, { hostLabels: { zone: 'z' } }), []);
  const other = (await past.device('a', 'gpu10')).record.descriptorId;
  t.deepEqual(await names(past, { descriptorIds: new Set([other]) }), ['hosts/a/devices/gpu10']);
  t.deepEqual(await names(past, { labels: { none: 'x' } }), []);
});

test('a past view holds the hosts of then; four views are kept, the least recently read goes first', async (t) => {
  const { registry } = await history();
  const views = [];
  for (const revision of [0, 1, 2, 3]) views.push(await registry.viewAt(revision));
  for (const [revision, view] of views.entries()) t.is(await registry.viewAt(revision), view, `revision ${revision} kept`);
  await registry.viewAt(4);
  t.not(await registry.viewAt(0), views[0], 'the oldest view was dropped for the fifth');
  for (const revision of [2, 3]) t.is(await registry.viewAt(revision), views[revision]);
  t.deepEqual([...(await registry.viewAt(1)).hosts.keys()].sort(), ['b']);
  t.deepEqual([...(await registry.viewAt(2)).hosts.keys()].sort(), ['a', 'b']);
  t.deepEqual((await registry.viewAt(2)).hosts.get('a')?.record.labels, { zone: 'y' });
});

test('a past view whose reading failed is not kept: the next read of that revision tries again', async (t) => {
  const { registry, store } = await history();
  const real = store.firstChangesAfter.bind(store);
  store.firstChangesAfter = () => Promise.reject(new Error('the store is unreachable'));
  await t.throwsAsync(registry.viewAt(2), { message: 'the store is unreachable' });
  store.firstChangesAfter = real;
  t.deepEqual([...(await registry.viewAt(2)).hosts.keys()].sort(), ['a', 'b']);
});

test('a past view is read a slice of history at a time: writes made meanwhile commit between slices, and the view is the registry as it was', async (t) => {
  const rig = await openCore({ pastViewSliceRevisions: 2 });
  const { registry, store } = rig;
  // Revisions 1-10: hosts h0..h9 with gpu0; revisions 11-20: each again with gpu1 too, another label.
  for (let i = 0; i < 10; i++) await registry.syncHost(syncOf(`h${i}`, ['gpu0'], { round: '1' }), ORIGIN);
  for (let i = 0; i < 10; i++) await registry.syncHost(syncOf(`h${i}`, ['gpu0', 'gpu1'], { round: '2' }), ORIGIN);
  const calls: string[] = [];
  const readSlice = store.firstChangesAfter.bind(store);
  const commit = store.commit.bind(store);
  // Each slice answered on a later turn of the event loop, as the SQLite store's worker answers.
  store.firstChangesAfter = async (query) => {
    calls.push(`slice ${query.revision}-${query.through}`);
    await new Promise(setImmediate);
    return readSlice(query);
  };
  store.commit = (batch) => {
    calls.push('commit');
    return commit(batch);
  };
  const reading = registry.viewAt(3);
  // Written while the view is read: h0 changes again, h99 appears.
  const written = Promise.all([registry.syncHost(syncOf('h0', ['gpu2'], { round: '3' }), ORIGIN), registry.syncHost(syncOf('h99'), ORIGIN)]);
  const view = await reading;
  await written;
  const slices = calls.filter((call) => call.startsWith('slice'));
  // The 17 revisions after 3 up to the read's start (20), two at a time; then what was written meanwhile, in one call.
  t.deepEqual(slices.slice(0, 9), ['slice 3-5', 'slice 5-7', 'slice 7-9', 'slice 9-11', 'slice 11-13', 'slice 13-15', 'slice 15-17', 'slice 17-19', 'slice 19-21'], calls.join(', '));
  t.deepEqual(slices.slice(9), ['slice 21-undefined'], calls.join(', '));
  const firstCommit = calls.indexOf('commit');
  t.true(firstCommit > 0 && calls.slice(firstCommit).some((call) => call.startsWith('slice 1')), `the writes committed between slices, not after the whole reading: ${calls.join(', ')}`);
  t.is(registry.revision, 22);
  t.is(view.revision, 3);
  t.deepEqual([...view.hosts.keys()].sort(), ['h0', 'h1', 'h2']);
  for (const id of ['h0', 'h1', 'h2']) {
    t.deepEqual(view.hosts.get(id)?.record.labels, { round: '1' }, `${id} as it was at revision 3`);
    t.deepEqual([...view.hosts.get(id)!.devices.keys()], ['gpu0']);
  }
  const again = await (await rig.reopen()).registry.viewAt(3);
  t.deepEqual([...again.hosts.keys()].sort(), ['h0', 'h1', 'h2'], 'the same view built again after the writes');
});

test('a past view ends however fast writes come: slices up to the revision of the read\'s start, then what was written meanwhile in one call', async (t) => {
  const rig = await openCore({ pastViewSliceRevisions: 1 });
  const { registry, store } = rig;
  for (let i = 0; i < 6; i++) await registry.syncHost(syncOf(`h${i}`, ['gpu0'], { round: '1' }), ORIGIN);
  const slices: string[] = [];
  const readSlice = store.firstChangesAfter.bind(store);
  let written = 0;
  const writes: Promise<unknown>[] = [];
  // Every slice answered lets three more writes in (more revisions than a slice reads): chasing the head would never end.
  store.firstChangesAfter = async (query) => {
    slices.push(`${query.revision}-${query.through}`);
    if (slices.length > 50) throw new Error('the read chased the head');
    for (let i = 0; i < 3; i++) writes.push(registry.syncHost(syncOf(`w${written++}`), ORIGIN));
    await new Promise(setImmediate);
    return readSlice(query);
  };
  const view = await registry.viewAt(2);
  store.firstChangesAfter = readSlice;
  await Promise.all(writes);
  t.deepEqual(slices.slice(0, 4), ['2-3', '3-4', '4-5', '5-6'], 'one revision a call up to 6, the revision of the read\'s start');
  t.is(slices.length, 5);
  t.regex(slices[4], /^6-undefined$/, 'then the rest in one call');
  t.deepEqual([...view.hosts.keys()].sort(), ['h0', 'h1'], 'the registry at revision 2, none of the writes made during the read');
  t.throws(() => new PointInTime(store, undefined as never, undefined as never, 0), { message: 'a past view\'s slice must be a whole number of revisions from 1, not 0' });
});

test('past views are kept least recently read first, within a device budget beyond the last one read: a view read again costs no history read until it is dropped', async (t) => {
  const { registry, store } = await openCore({ pastViewCacheDevices: 4 });
  // Revision r (1-6) adds host h<r> with one device: the view at r holds r devices.
  for (let i = 1; i <= 6; i++) await registry.syncHost(syncOf(`h${i}`), ORIGIN);
  // Each view built reads history after its revision, first of all in one slice (6 revisions < 64).
  const built: number[] = [];
  const readSlice = store.firstChangesAfter.bind(store);
  store.firstChangesAfter = (query) => {
    built.push(query.revision);
    return readSlice(query);
  };
  const view = async (revision: number) => (await registry.viewAt(revision)).hosts.size;
  t.is(await view(3), 3);
  t.is(await view(2), 2); // 3 + 2 devices > 4: the view at 3 is dropped, the one read last kept
  t.is(await view(1), 1); // 2 + 1: both kept
  t.is(await view(2), 2); // kept: not read again
  t.deepEqual(built, [3, 2, 1]);
  t.is(await view(3), 3); // dropped earlier: read again; 1 + 2 + 3 > 4 drops 1, then 2
  t.is(await view(2), 2);
  t.deepEqual(built, [3, 2, 1, 3, 2]);
  t.is(await view(5), 5); // more than the budget alone: kept, as the one read last, and alone
  t.is(await view(5), 5);
  t.is(await view(3), 3);
  t.deepEqual(built, [3, 2, 1, 3, 2, 5, 3]);
  // At most four views whatever their size.
  const roomy = await openCore({ pastViewCacheDevices: 1_000 });
  for (let i = 1; i <= 6; i++) await roomy.registry.syncHost(syncOf(`h${i}`), ORIGIN);
  const roomyBuilt: number[] = [];
  const roomyRead = roomy.store.firstChangesAfter.bind(roomy.store);
  roomy.store.firstChangesAfter = (query) => {
    roomyBuilt.push(query.revision);
    return roomyRead(query);
  };
  for (const revision of [1, 2, 3, 4, 5, 1, 2]) await roomy.registry.viewAt(revision);
  t.deepEqual(roomyBuilt, [1, 2, 3, 4, 5, 1, 2], 'the fifth view dropped the least recently read (1), and reading 1 again dropped 2');
});
