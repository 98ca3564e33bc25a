// A standing FindTargets (WatchTargets, server/core/standing-query.ts) through openCore(): the
// baseline in rank order, the diffs each revision brings (targets entering, leaving, updated,
// with the host's state on leaving), the host filters, the followed source being re-judged or
// deleted, and cancel. The sink records what a client would receive. No server, no SQLite.

import test from 'ava';
import type { StandingQueryOptions, StandingQuerySink, TargetChange, TargetState } from '../server/core/standing-query.ts';
import { DomainError } from '../server/core/errors.ts';
import { validateCreateClaim } from '../server/core/claims.ts';
import { GPU, openCore, ORIGIN, syncOf, ANYONE } from './helpers/core.ts';
import { validateSyncHost } from '../server/core/resources.ts';

const NEWER = { ...GPU, software_version: '1.1.0' };
const MAJOR = { ...GPU, software_version: '2.0.0' };

const OPTIONS: StandingQueryOptions = {
  excludeHosts: new Set(),
  hostLabels: {},
  requireAvailable: false,
  includeSourceHost: false,
  includeUnreachable: false,
  includeDraining: false,
};

const target = (x: TargetState) =>
  `${x.device.name} ${x.hostState} free=${x.device.record.capacity?.available ?? '-'}${x.claimed ? ` claimed=${x.claimed}` : ''}`;
const change = (c: TargetChange) => (c.kind === 'REMOVED' ? `REMOVED ${c.name} ${c.hostState ?? 'gone'}` : `${c.kind} ${target(c.target)}`);

function recorder() {
  const events: string[] = [];
  const errors: unknown[] = [];
  let baseline: TargetState[] = [];
  const sink: StandingQuerySink = {
    initial(targets, revision) {
      baseline = [...targets];
      events.push(`initial@${revision}: ${targets.map(target).join(', ')}`);
    },
    changes(changes, revision) {
      events.push(`@${revision}: ${changes.map(change).sort().join(', ')}`);
    },
    fail(error) {
      errors.push(error);
    },
  };
  return { sink, events, errors, baseline: () => baseline };
}

async function fleet() {
  const rig = await openCore();
  const { registry } = rig;
  await registry.syncHost(syncOf('a', [{ id: 'gpu0', available: 2 }, { id: 'gpu1', available: 1 }]), ORIGIN); // 1
  await registry.syncHost(syncOf('b', [{ id: 'gpu0', available: 1 }, { id: 'gpu1', available: 0 }], { zone: 'x' }), ORIGIN); // 2
  await registry.syncHost(syncOf('c', [{ id: 'gpu0', descriptor: NEWER, available: 4 }]), ORIGIN); // 3
  await registry.syncHost(syncOf('d', [{ id: 'r0', descriptor: MAJOR }]), ORIGIN); // 4
  return rig;
}

async function watch(rig: Awaited<ReturnType<typeof fleet>>, options: Partial<StandingQueryOptions> = {}, inline = false) {
  const view = await rig.registry.read();
  const source = await view.resolveSource(inline ? { descriptor: GPU as never } : { name: 'hosts/a/devices/gpu0' }, 'source');
  const rec = recorder();
  const cancel = rig.registry.watchTargets(source, { ...OPTIONS, ...options }, rec.sink);
  return { ...rec, cancel };
}

test('the baseline: compatible targets in rank order, at the current revision', async (t) => {
  const rig = await fleet();
  const w = await watch(rig);
  t.deepEqual(w.events, ['initial@4: hosts/b/devices/gpu0 READY free=1, hosts/b/devices/gpu1 READY free=0, hosts/c/devices/gpu0 READY free=4']);
  t.deepEqual(w.baseline().map((x) => [x.claimed, x.cached.verdict.verdict]), [
    [0, 'VERDICT_COMPATIBLE'],
    [0, 'VERDICT_COMPATIBLE'],
    [0, 'VERDICT_COMPATIBLE'],
  ]);
  const sorted = [...w.baseline()].map((x) => x.sortKey);
  t.deepEqual(sorted, [...sorted].sort());
  w.cancel();
  await rig.registry.close();
});

test('filters: the source host when asked, exclusions, labels, require_available', async (t) => {
  const rig = await fleet();
  t.deepEqual((await watch(rig, { includeSourceHost: true })).events, [
    'initial@4: hosts/a/devices/gpu0 READY free=2, hosts/a/devices/gpu1 READY free=1, hosts/b/devices/gpu0 READY free=1, hosts/b/devices/gpu1 READY free=0, hosts/c/devices/gpu0 READY free=4',
  ]);
  t.deepEqual((await watch(rig, { excludeHosts: new Set(['b']) })).events, ['initial@4: hosts/c/devices/gpu0 READY free=4']);
  t.deepEqual((await watch(rig, { hostLabels: { zone: 'x' } })).events, ['initial@4: hosts/b/devices/gpu0 READY free=1, hosts/b/devices/gpu1 READY free=0']);
  t.deepEqual((await watch(rig, { requireAvailable: true })).events, ['initial@4: hosts/b/devices/gpu0 READY free=1, hosts/c/devices/gpu0 READY free=4']);
  t.deepEqual((await watch(rig, {}, true)).events, [
    'initial@4: hosts/a/devices/gpu0 READY free=2, hosts/a/devices/gpu1 READY free=1, hosts/b/devices/gpu0 READY free=1, hosts/b/devices/gpu1 READY free=0, hosts/c/devices/gpu0 READY free=4',
  ]);
  await rig.registry.close();
});

test('each revision brings its diffs: targets entering, updated, leaving with the host state', async (t) => {
  const rig = await fleet();
  const { registry } = rig;
  const w = await watch(rig);
  await registry.syncHost(syncOf('h', [{ id: 'gpu0', available: 2 }, { id: 'r1', descriptor: MAJOR }]), ORIGIN); // 5
  await registry.syncHost(syncOf('b', [{ id: 'gpu0', available: 3 }, { id: 'gpu1', available: 0 }], { zone: 'x' }), ORIGIN); // 6
  await registry.syncHost(syncOf('d', [{ id: 'r0', descriptor: MAJOR }, { id: 'r2', descriptor: MAJOR }]), ORIGIN); // 7: nothing for us
  await registry.setDraining('b', true, ORIGIN); // 8
  await registry.setDraining('b', false, ORIGIN); // 9
  await registry.syncHost(syncOf('b', [{ id: 'gpu0', available: 3 }], { zone: 'x' }), ORIGIN); // 10
  await registry.syncHost(syncOf('a', [{ id: 'gpu0', available: 2 }, { id: 'gpu1', available: 0 }]), ORIGIN); // 11: the source's host, not the source
  await registry.deleteHost('h', undefined, ORIGIN); // 12
  t.deepEqual(w.events, [
    'initial@4: hosts/b/devices/gpu0 READY free=1, hosts/b/devices/gpu1 READY free=0, hosts/c/devices/gpu0 READY free=4',
    '@5: ADDED hosts/h/devices/gpu0 READY free=2',
    '@6: UPDATED hosts/b/devices/gpu0 READY free=3',
    '@8: REMOVED hosts/b/devices/gpu0 DRAINING, REMOVED hosts/b/devices/gpu1 DRAINING',
    '@9: ADDED hosts/b/devices/gpu0 READY free=3, ADDED hosts/b/devices/gpu1 READY free=0',
    '@10: REMOVED hosts/b/devices/gpu1 READY',
    '@12: REMOVED hosts/h/devices/gpu0 gone',
  ]);
  t.deepEqual(w.errors, []);
  w.cancel();
  await registry.close();
});

test('draining hosts stay in when asked for, with their state updated', async (t) => {
  const rig = await fleet();
  const w = await watch(rig, { includeDraining: true });
  await rig.registry.setDraining('c', true, rig.registry.revision ? ORIGIN : ORIGIN);
  t.deepEqual(w.events.slice(1), ['@5: UPDATED hosts/c/devices/gpu0 DRAINING free=4']);
  w.cancel();
  await rig.registry.close();
});

test('a change to the followed source re-judges every candidate; its deletion ends the query', async (t) => {
  const rig = await fleet();
  const { registry } = rig;
  const w = await watch(rig);
  await registry.syncHost(syncOf('a', [{ id: 'gpu0', descriptor: NEWER, available: 2 }, { id: 'gpu1', available: 1 }]), ORIGIN); // 5
  await registry.syncHost(syncOf('a', [{ id: 'gpu1', available: 1 }]), ORIGIN); // 6
  await registry.syncHost(syncOf('h', [{ id: 'gpu0', available: 2 }]), ORIGIN); // 7: after the end, not delivered
  t.is(w.events[0], 'initial@4: hosts/b/devices/gpu0 READY free=1, hosts/b/devices/gpu1 READY free=0, hosts/c/devices/gpu0 READY free=4');
  t.is(w.events[1], '@5: REMOVED hosts/b/devices/gpu0 READY, REMOVED hosts/b/devices/gpu1 READY, UPDATED hosts/c/devices/gpu0 READY free=4', 'the source is now 1.1.0: 1.0.0 targets are downgrades, c an exact match');
  t.is(w.events.length, 2);
  t.is(w.errors.length, 1);
  const error = w.errors[0] as DomainError;
  t.true(error instanceof DomainError);
  t.is(error.reason, 'NOT_FOUND');
  t.is(error.message, 'the source hosts/a/devices/gpu0 was deleted');
  t.deepEqual(error.metadata, { resource: 'hosts/a/devices/gpu0' });
  await registry.close();
});

test('a source change committed in one batch with later writes is re-judged at the batch\'s last revision, never showing a later write under its own revision', async (t) => {
  const rig = await fleet();
  const { registry } = rig;
  const w = await watch(rig);
  // One batch (written in the same tick): the source's capacity changes (5), host t registers a device (6), c changes (7).
  const [source, added, other] = await Promise.all([
    registry.syncHost(syncOf('a', [{ id: 'gpu0', available: 1 }, { id: 'gpu1', available: 1 }]), ORIGIN),
    registry.syncHost(syncOf('t', [{ id: 'gpu1', available: 3 }]), ORIGIN),
    registry.syncHost(syncOf('c', [{ id: 'gpu0', descriptor: NEWER, available: 2 }]), ORIGIN),
  ]);
  t.deepEqual([source.revision, added.revision, other.revision], [5, 6, 7], 'one batch, in order');
  // Every candidate is re-judged once, at 7: t's device is not shown under revision 5.
  t.deepEqual(w.events.slice(1), ['@7: ADDED hosts/t/devices/gpu1 READY free=3, UPDATED hosts/c/devices/gpu0 READY free=2']);
  // As of revision 5 there was no t: a diff labelled 5 must not hold it.
  await t.throwsAsync((await registry.read({ revision: 5 })).device('t', 'gpu1'), { message: /did not exist at revision 5/ });
  // Later batches are followed as before, each at its own revision.
  await registry.syncHost(syncOf('t', [{ id: 'gpu1', available: 0 }]), ORIGIN); // 8
  t.is(w.events.at(-1), '@8: UPDATED hosts/t/devices/gpu1 READY free=0');
  await registry.close();
});

test('cancel: no diff is delivered after it', async (t) => {
  const rig = await fleet();
  const w = await watch(rig);
  w.cancel();
  await rig.registry.syncHost(syncOf('h', [{ id: 'gpu0', available: 2 }]), ORIGIN);
  t.is(w.events.length, 1);
  await rig.registry.close();
});

test('claims: a claim re-judges the devices it holds, and on a host with budgets all its devices', async (t) => {
  const rig = await fleet();
  const { registry } = rig;
  await registry.syncHost(
    syncOf('g', [{ id: 'gpu0', available: 2 }, { id: 'gpu1', available: 2 }], {}, [
      { budget_id: 'gm', total: 4, available: 1, consumption: { gpu0: 1, gpu1: 1 } },
    ]),
    ORIGIN,
  ); // 5
  const all = await watch(rig);
  const free = await watch(rig, { requireAvailable: true });
  const claim = (parent: string, claimId: string, device: string) =>
    registry.createClaim(validateCreateClaim({ parent: `hosts/${parent}`, claim_id: claimId, devices: [{ device }] }), ORIGIN, ANYONE);
  await claim('b', 'c1', 'gpu0'); // 6
  await claim('g', 'c2', 'gpu0'); // 7
  await registry.releaseClaim('b', 'c1', ORIGIN, ANYONE); // 8
  t.deepEqual(all.events, [
    'initial@5: hosts/g/devices/gpu0 READY free=2, hosts/g/devices/gpu1 READY free=2, hosts/b/devices/gpu0 READY free=1, hosts/b/devices/gpu1 READY free=0, hosts/c/devices/gpu0 READY free=4',
    '@6: UPDATED hosts/b/devices/gpu0 READY free=1 claimed=1',
    '@7: UPDATED hosts/g/devices/gpu0 READY free=2 claimed=1',
    '@8: UPDATED hosts/b/devices/gpu0 READY free=1',
  ]);
  t.deepEqual(free.events, [
    'initial@5: hosts/g/devices/gpu0 READY free=2, hosts/g/devices/gpu1 READY free=2, hosts/b/devices/gpu0 READY free=1, hosts/c/devices/gpu0 READY free=4',
    '@6: REMOVED hosts/b/devices/gpu0 READY',
    '@7: REMOVED hosts/g/devices/gpu0 READY, REMOVED hosts/g/devices/gpu1 READY',
    '@8: ADDED hosts/b/devices/gpu0 READY free=1',
  ]);
  await registry.close();
});

test('a target leaving a host with a longer name carries that host state; a capacity change alone is an update', async (t) => {
  const rig = await fleet();
  const { registry } = rig;
  await registry.syncHost(syncOf('bx', [{ id: 'gpu0', available: 2 }]), ORIGIN); // 5
  const w = await watch(rig);
  await registry.setDraining('bx', true, ORIGIN); // 6
  // The total grows, the free units stay: the rank is the same, the capacity is not.
  const grown = validateSyncHost({
    name: 'c',
    labels: {},
    budgets: [],
    devices: [{ device_id: 'gpu0', descriptor: NEWER as never, capacity: { total: 8, available: 4 } }],
  });
  await registry.syncHost(grown, ORIGIN); // 7
  t.deepEqual(w.events, [
    'initial@5: hosts/bx/devices/gpu0 READY free=2, hosts/b/devices/gpu0 READY free=1, hosts/b/devices/gpu1 READY free=0, hosts/c/devices/gpu0 READY free=4',
    '@6: REMOVED hosts/bx/devices/gpu0 DRAINING',
    '@7: UPDATED hosts/c/devices/gpu0 READY free=4',
  ]);
  w.cancel();
  await registry.close();
});
