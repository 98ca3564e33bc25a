// Concurrent past reads (server/core/point-in-time.ts): however many reads of distinct
// revisions arrive at once, at most four past views are built or kept at a time (fewer when
// the registry is too big for the device budget to hold four), reads of one revision share one
// build, the rest wait their turn in arrival order and are all answered correctly; a read whose
// signal aborts while it waits stops waiting and its view is never built.
// On the in-memory store with a manual clock; each history read is answered a few turns of the
// event loop later, as the SQLite store's worker answers, so that builds overlap.

import test from 'ava';
import type { DeviceListQuery } from '../server/core/live-state.ts';
import type { Registry } from '../server/core/registry.ts';
import type { PointInTime } from '../server/core/point-in-time.ts';
import { openCore, ORIGIN, syncOf, type CoreRig } from './helpers/core.ts';

const ALL: DeviceListQuery = { descriptorIds: undefined, hostId: undefined, labels: {}, hostLabels: {}, after: undefined, limit: 1000 };
/** Revision r (1..HOSTS) adds host h<r> with two devices: the registry at r holds 2r devices. */
const HOSTS = 30;

const pointInTimeOf = (registry: Registry) => (registry as unknown as { pointInTime: PointInTime }).pointInTime;

async function fleet(options: { pastViewCacheDevices?: number } = {}): Promise<CoreRig> {
  const rig = await openCore(options);
  for (let r = 1; r <= HOSTS; r++) await rig.registry.syncHost(syncOf(`h${r}`, ['gpu0', 'gpu1']), ORIGIN);
  return rig;
}

/**
 * Watches the builds: each history read is one build (30 revisions fit in one slice), answered
 * three turns later unless `held`; records their revisions in order, the most in flight at
 * once and the most views built or kept at once.
 */
function watchBuilds({ registry, store }: CoreRig) {
  const pointInTime = pointInTimeOf(registry);
  const watch = { started: [] as number[], inFlight: 0, mostInFlight: 0, mostHeld: 0, held: undefined as Promise<void> | undefined };
  const sample = () => {
    const { building, kept } = pointInTime.stats;
    watch.mostHeld = Math.max(watch.mostHeld, building + kept);
  };
  const readSlice = store.firstChangesAfter.bind(store);
  store.firstChangesAfter = async (query) => {
    watch.started.push(query.revision);
    watch.mostInFlight = Math.max(watch.mostInFlight, ++watch.inFlight);
    sample();
    try {
      if (watch.held) await watch.held;
      for (let turn = 0; turn < 3; turn++) await new Promise(setImmediate);
      return await readSlice(query);
    } finally {
      watch.inFlight--;
      sample();
    }
  };
  return { watch, sample };
}

test('concurrent past listings of 30 distinct revisions (and again 5 of them): each answered as of its revision, at most four views built or kept at once, built once each in arrival order', async (t) => {
  const rig = await fleet();
  const { watch, sample } = watchBuilds(rig);
  const revisions = [...Array(HOSTS).keys()]; // 0..29
  const listing = async (revision: number) => {
    const page = await (await rig.registry.read({ revision })).listDevices(ALL);
    sample();
    return page.length;
  };
  const counts = await Promise.all([...revisions, 0, 1, 2, 3, 29].map(listing));
  t.deepEqual(counts, [...revisions.map((r) => 2 * r), 0, 2, 4, 6, 58], 'every listing holds the devices of its revision');
  t.is(watch.mostInFlight, 4, 'four builds at once, never more');
  t.true(watch.mostHeld <= 4, `at most four views built or kept at once, not ${watch.mostHeld}`);
  t.deepEqual(watch.started, revisions, 'one build per revision, started in the order the reads arrived');
  t.like(pointInTimeOf(rig.registry).stats, { building: 0, waiting: 0 });
  t.true(pointInTimeOf(rig.registry).stats.kept <= 4);
});

test('past views of a registry too big for the device budget to hold two are built one at a time', async (t) => {
  // 60 devices now; a budget of 100 holds one view being built of that size, not two.
  const rig = await fleet({ pastViewCacheDevices: 100 });
  const { watch } = watchBuilds(rig);
  const revisions = [0, 5, 10, 15, 20, 25];
  const views = await Promise.all(revisions.map((revision) => rig.registry.viewAt(revision)));
  t.deepEqual(
    views.map((view) => view.deviceCount),
    revisions.map((r) => 2 * r),
  );
  t.is(watch.mostInFlight, 1);
  t.deepEqual(watch.started, revisions);
});

test('a read waiting for a place whose signal aborts stops waiting, and its view is never built; one another read still waits for is built', async (t) => {
  const rig = await fleet();
  const pointInTime = pointInTimeOf(rig.registry);
  const { watch } = watchBuilds(rig);
  let release!: () => void;
  watch.held = new Promise((resolve) => (release = resolve));
  const busy = [1, 2, 3, 4].map((revision) => pointInTime.viewAt(revision));
  const givenUp = new AbortController();
  const sharedAbort = new AbortController();
  const abandoned = pointInTime.viewAt(10, givenUp.signal);
  const sharedByAborted = pointInTime.viewAt(11, sharedAbort.signal);
  const shared = pointInTime.viewAt(11);
  t.like(pointInTime.stats, { building: 4, waiting: 2 });
  givenUp.abort(new Error('the call was cancelled'));
  sharedAbort.abort(new Error('deadline exceeded'));
  await t.throwsAsync(abandoned, { message: 'the call was cancelled' });
  await t.throwsAsync(sharedByAborted, { message: 'deadline exceeded' });
  t.like(pointInTime.stats, { building: 4, waiting: 1 }, 'revision 10 no longer waits; 11 still does for the read without a signal');
  await t.throwsAsync(pointInTime.viewAt(12, givenUp.signal), { message: 'the call was cancelled' }, 'an aborted signal waits for nothing');
  release();
  t.deepEqual((await Promise.all(busy)).map((view) => view.deviceCount), [2, 4, 6, 8]);
  t.is((await shared).deviceCount, 22);
  t.deepEqual(watch.started, [1, 2, 3, 4, 11], 'revisions 10 and 12 were never built');
  t.is((await pointInTime.viewAt(10)).deviceCount, 20, 'read again later, revision 10 is built');
});
