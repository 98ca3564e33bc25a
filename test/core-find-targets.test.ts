// FindTargets in the core (server/core/find-targets.ts) through openCore(): which devices are
// candidates, the counts a caller sees (candidates, compatible, rejected, distinct descriptors,
// hosts left out by state), the ranking order and its limit, the rejected list in why-not order
// and its own limit, require_available (capacity, claims-free units, shared budgets), the host
// filters (source host, exclusions, labels, unreachable, draining), the same answers from a view
// of a past revision, and the verdict cache's hits, misses and reset. No server, no SQLite.

import test from 'ava';
import { VerdictCache, verdictCost, type FindResult } from '../server/core/find-targets.ts';
import type { FindOptions } from '../server/core/registry.ts';
import { validateDescriptor } from '../server/core/validate.ts';
import { FIND, GPU, openCore, ORIGIN, settled, syncOf } from './helpers/core.ts';

const NEWER = { ...GPU, software_version: '1.1.0' };
/** Incompatible with GPU by one failed check (the major version). */
const MAJOR = { ...GPU, software_version: '2.0.0' };
/** Incompatible by two failed checks (the major version and an attribute GPU lacks). */
const FAR = { ...GPU, software_version: '2.0.0', attributes: { x: { string_value: 'y' } } };
const OTHER_TYPE = { ...GPU, type: 'nvidia-a10-8q' };


const TTL = 1000;

/**
 * a: the source host (gpu0 is the source; r3 incompatible). b (zone x): exact matches with 3, 3, 0 and unknown
 * free units. c (zone y): a compatible newer version. d: incompatible devices. e: draining.
 * f: draining and then unreachable (a NEWER and a GPU). u: unreachable (a GPU, a FAR). g: free units but a budget with none left.
 */
async function fleet() {
  const rig = await openCore({ leaseTtlMs: TTL });
  const { registry, clock } = rig;
  // f's NEWER device comes first: the NEWER descriptor is interned before GPU, so the rank order
  // is not the order the descriptors were first seen in.
  await registry.syncHost(syncOf('f', [{ id: 'a0', descriptor: NEWER, available: 1 }, { id: 'gpu0', available: 1 }]), ORIGIN);
  await registry.setDraining('f', true, ORIGIN);
  await registry.syncHost(syncOf('u', [{ id: 'gpu0', available: 1 }, { id: 'r9', descriptor: FAR }]), ORIGIN);
  clock.advance(TTL / 2);
  await registry.syncHost(syncOf('a', [{ id: 'gpu0', available: 2 }, { id: 'gpu1', available: 1 }, { id: 'r3', descriptor: MAJOR }]), ORIGIN);
  await registry.syncHost(
    syncOf('b', [{ id: 'gpu0', available: 3 }, { id: 'gpu1', available: 0 }, { id: 'gpu2' }, { id: 'gpu3', available: 3 }], { zone: 'x' }),
    ORIGIN,
  );
  await registry.syncHost(syncOf('c', [{ id: 'gpu0', descriptor: NEWER, available: 4 }], { zone: 'y' }), ORIGIN);
  await registry.syncHost(
    syncOf('d', [{ id: 'r1', descriptor: FAR }, { id: 'r2', descriptor: MAJOR }, { id: 'r0', descriptor: MAJOR }, { id: 'o', descriptor: OTHER_TYPE }]),
    ORIGIN,
  );
  await registry.syncHost(syncOf('e', [{ id: 'gpu0', available: 1 }, { id: 'r5', descriptor: MAJOR }]), ORIGIN);
  await registry.setDraining('e', true, ORIGIN);
  await registry.syncHost(
    syncOf('g', [{ id: 'gpu0', available: 2 }], {}, [{ budget_id: 'gm', total: 4, available: 0, consumption: { gpu0: 1 } }]),
    ORIGIN,
  );
  registry.startLeases();
  clock.advance(TTL / 2 + 100);
  await settled(registry, 'u');
  await settled(registry, 'f');
  return rig;
}

type Rig = Awaited<ReturnType<typeof fleet>>;

function summary(result: FindResult) {
  return {
    candidates: result.candidates,
    compatible: result.compatible,
    rejected: result.rejected,
    distinct: result.distinctDescriptors,
    leftOut: result.hostsLeftOut,
    targets: result.targets.map((x) => `${x.rank} ${x.device.name} ${x.cached.verdict.verdict}`),
    rejectedTargets: result.rejectedTargets.map((x) => `${x.rank} ${x.device.name}`),
  };
}

async function find(rig: Rig, options: Partial<FindOptions> = {}, revision?: number) {
  const view = revision === undefined ? await rig.registry.read() : await rig.registry.read({ revision });
  const source = await view.resolveSource({ name: 'hosts/a/devices/gpu0' }, 'source');
  return view.findTargets(source, { ...FIND, ...options });
}

const EXACT = ['hosts/b/devices/gpu0', 'hosts/b/devices/gpu3', 'hosts/g/devices/gpu0', 'hosts/b/devices/gpu1', 'hosts/b/devices/gpu2'];

test('the default search: ranked compatible targets, counts, and the hosts left out by state', async (t) => {
  const rig = await fleet();
  t.true(rig.registry.findHost('e')!.record.reachable);
  t.false(rig.registry.findHost('u')!.record.reachable);
  const result = await find(rig);
  t.is(result.revision, rig.registry.revision);
  t.deepEqual(summary(result), {
    candidates: 9,
    compatible: 6,
    rejected: 3,
    distinct: 4,
    leftOut: { unreachable: 2, draining: 1 },
    targets: [
      ...EXACT.map((name, i) => `${i + 1} ${name} VERDICT_COMPATIBLE`),
      '6 hosts/c/devices/gpu0 VERDICT_COMPATIBLE',
    ],
    rejectedTargets: [],
  });
  await rig.registry.close();
});

test('the rejected list: nearest misses first, then by name, rank 0, bounded by its own limit', async (t) => {
  const rig = await fleet();
  const all = summary(await find(rig, { includeRejected: true }));
  t.deepEqual(all.rejectedTargets, ['0 hosts/d/devices/r0', '0 hosts/d/devices/r2', '0 hosts/d/devices/r1']);
  t.is(all.rejected, 3);
  t.is(all.candidates, 9);
  t.is(all.distinct, 4);
  t.is(all.targets.length, 6);
  t.deepEqual(summary(await find(rig, { includeRejected: true, rejectedLimit: 2 })).rejectedTargets, [
    '0 hosts/d/devices/r0',
    '0 hosts/d/devices/r2',
  ]);
  t.deepEqual(summary(await find(rig, { includeRejected: true, rejectedLimit: 0 })).rejectedTargets, []);
  const withDraining = summary(await find(rig, { includeRejected: true, includeDraining: true }));
  t.deepEqual(withDraining.rejectedTargets, ['0 hosts/d/devices/r0', '0 hosts/d/devices/r2', '0 hosts/e/devices/r5', '0 hosts/d/devices/r1']);
  t.is(withDraining.rejected, 4);
  await rig.registry.close();
});

test('the limit cuts the ranked list at any point, and the counts stay those of every candidate', async (t) => {
  const rig = await fleet();
  for (const limit of [0, 1, 4, 5, 6, 7]) {
    const result = summary(await find(rig, { limit }));
    t.deepEqual(
      result.targets.map((x) => x.split(' ')[1]),
      [...EXACT, 'hosts/c/devices/gpu0'].slice(0, limit),
      `limit ${limit}`,
    );
    t.deepEqual([result.candidates, result.compatible, result.rejected], [9, 6, 3]);
  }
  await rig.registry.close();
});

test('require_available keeps devices with a free unit: capacity known, above zero, budgets applied', async (t) => {
  const rig = await fleet();
  const result = summary(await find(rig, { requireAvailable: true }));
  t.deepEqual(result.targets, ['1 hosts/b/devices/gpu0 VERDICT_COMPATIBLE', '2 hosts/b/devices/gpu3 VERDICT_COMPATIBLE', '3 hosts/c/devices/gpu0 VERDICT_COMPATIBLE']);
  t.deepEqual([result.candidates, result.compatible, result.rejected, result.distinct], [3, 3, 0, 2]);
  await rig.registry.close();
});

test('host filters: the source host only when asked, exclusions, labels', async (t) => {
  const rig = await fleet();
  const own = summary(await find(rig, { includeSourceHost: true }));
  t.deepEqual(own.targets.map((x) => x.split(' ')[1]), [
    'hosts/b/devices/gpu0',
    'hosts/b/devices/gpu3',
    'hosts/a/devices/gpu0',
    'hosts/g/devices/gpu0',
    'hosts/a/devices/gpu1',
    'hosts/b/devices/gpu1',
    'hosts/b/devices/gpu2',
    'hosts/c/devices/gpu0',
  ]);
  t.deepEqual([own.candidates, own.compatible, own.rejected], [12, 8, 4]);
  t.deepEqual(summary(await find(rig, { includeSourceHost: true, includeRejected: true })).rejectedTargets, [
    '0 hosts/a/devices/r3',
    '0 hosts/d/devices/r0',
    '0 hosts/d/devices/r2',
    '0 hosts/d/devices/r1',
  ]);
  t.deepEqual(summary(await find(rig, { excludeHosts: new Set(['nope']) })), summary(await find(rig)), 'an unknown host excluded changes nothing');
  const noB = summary(await find(rig, { excludeHosts: new Set(['b', 'd']) }));
  t.deepEqual(noB.targets.map((x) => x.split(' ')[1]), ['hosts/g/devices/gpu0', 'hosts/c/devices/gpu0']);
  t.deepEqual([noB.candidates, noB.compatible, noB.rejected, noB.distinct], [2, 2, 0, 2]);
  const someD = summary(await find(rig, { excludeHosts: new Set(['b']) }));
  t.deepEqual([someD.candidates, someD.compatible, someD.rejected, someD.distinct], [5, 2, 3, 4]);
  const zoneX = summary(await find(rig, { hostLabels: { zone: 'x' } }));
  t.deepEqual(zoneX.targets.map((x) => x.split(' ')[1]), ['hosts/b/devices/gpu0', 'hosts/b/devices/gpu3', 'hosts/b/devices/gpu1', 'hosts/b/devices/gpu2']);
  t.deepEqual([zoneX.candidates, zoneX.rejected, zoneX.distinct], [4, 0, 1]);
  t.deepEqual(zoneX.leftOut, { unreachable: 0, draining: 0 }, 'hosts the labels leave out are not counted as left out by state');
  const noneLeft = summary(await find(rig, { excludeHosts: new Set(['e', 'f', 'u']) }));
  t.deepEqual(noneLeft.leftOut, { unreachable: 0, draining: 0 });
  await rig.registry.close();
});

test('unreachable and draining hosts: left out and counted unless asked for; unreachable wins', async (t) => {
  const rig = await fleet();
  const unreachable = summary(await find(rig, { includeUnreachable: true }));
  t.deepEqual(unreachable.leftOut, { unreachable: 0, draining: 2 }, 'f is unreachable and draining: still left out, as draining');
  t.true(unreachable.targets.some((x) => x.includes('hosts/u/devices/gpu0')));
  t.false(unreachable.targets.some((x) => x.includes('hosts/f/')));
  t.deepEqual([unreachable.candidates, unreachable.rejected], [11, 4]);
  const draining = summary(await find(rig, { includeDraining: true }));
  t.deepEqual(draining.leftOut, { unreachable: 2, draining: 0 });
  t.true(draining.targets.some((x) => x.includes('hosts/e/devices/gpu0')));
  t.deepEqual([draining.candidates, draining.rejected], [11, 4]);
  const both = summary(await find(rig, { includeDraining: true, includeUnreachable: true, includeRejected: true }));
  t.deepEqual(both.leftOut, { unreachable: 0, draining: 0 });
  t.deepEqual([both.candidates, both.compatible, both.rejected], [15, 10, 5]);
  t.deepEqual(both.rejectedTargets, ['0 hosts/d/devices/r0', '0 hosts/d/devices/r2', '0 hosts/e/devices/r5', '0 hosts/d/devices/r1', '0 hosts/u/devices/r9']);
  t.is(both.rejectedTargets.length, 5);
  await rig.registry.close();
});

test('a view of a past revision gives the same answers as the view of now had', async (t) => {
  const rig = await fleet();
  const head = rig.registry.revision;
  const before: unknown[] = [];
  const variants: Partial<FindOptions>[] = [
    {},
    { includeRejected: true },
    { requireAvailable: true },
    { includeSourceHost: true, limit: 3 },
    { includeUnreachable: true },
    { includeDraining: true, includeRejected: true, rejectedLimit: 2 },
    { excludeHosts: new Set(['b']), hostLabels: {} },
    { hostLabels: { zone: 'y' } },
  ];
  for (const options of variants) before.push(summary(await find(rig, options)));
  // A later revision: a new incompatible device, a new compatible descriptor, one of another type.
  await rig.registry.syncHost(
    syncOf('z', [{ id: 'o', descriptor: OTHER_TYPE }, { id: 'm', descriptor: MAJOR }, { id: 'n', descriptor: { ...GPU, software_version: '1.2.0' } }]),
    ORIGIN,
  );
  t.true(rig.registry.revision > head);
  const misses = rig.registry.gauges.verdictCache.misses;
  for (const [i, options] of variants.entries()) {
    const past = await find(rig, options, head);
    t.is(past.revision, head);
    t.deepEqual(summary(past), before[i], JSON.stringify(options));
  }
  t.is(rig.registry.gauges.verdictCache.misses, misses, 'the past view judges only descriptors it has devices of');
  t.deepEqual(summary(await find(rig)).rejected, 4, 'now: z/m is rejected too');
  await rig.registry.close();
});

test('a search with no candidates is empty, and an inline source has no host to leave out', async (t) => {
  const rig = await fleet();
  const view = await rig.registry.read();
  const none = await view.findTargets(await view.resolveSource({ descriptor: { ...GPU, type: 'nvidia-a10-2q' } as never }, 'source'), FIND);
  t.deepEqual(summary(none), { candidates: 0, compatible: 0, rejected: 0, distinct: 0, leftOut: { unreachable: 0, draining: 0 }, targets: [], rejectedTargets: [] });
  const inline = summary(await view.findTargets(await view.resolveSource({ descriptor: GPU as never }, 'source'), FIND));
  t.deepEqual([inline.candidates, inline.compatible, inline.rejected], [12, 8, 4], "an inline descriptor's search includes host a");
  await rig.registry.close();
});

test('the verdict cache: each pair of descriptors evaluated once, hits and misses counted', async (t) => {
  const rig = await fleet();
  const before = rig.registry.gauges.verdictCache;
  await find(rig, { includeRejected: true });
  const first = rig.registry.gauges.verdictCache;
  t.deepEqual(
    { size: first.size - before.size, misses: first.misses - before.misses, hits: first.hits - before.hits },
    { size: 4, misses: 4, hits: 0 },
    'four distinct candidate descriptors: GPU, NEWER, MAJOR, FAR',
  );
  await find(rig, { includeRejected: true, includeDraining: true });
  const second = rig.registry.gauges.verdictCache;
  t.deepEqual(
    { size: second.size, misses: second.misses, hits: second.hits - first.hits },
    { size: first.size, misses: first.misses, hits: 4 },
  );
  await rig.registry.close();
});

test('the verdict cache is bounded in bytes too: large descriptors start it over before their estimate passes the budget, and one larger than the budget is answered but not kept', (t) => {
  const withAttributes = (tag: string, count: number) =>
    validateDescriptor({
      ...GPU,
      attributes: Object.fromEntries(Array.from({ length: count }, (_, i) => [`a${i}`, { string_value: `${tag}-${i}-`.padEnd(250, 'x') }])),
    } as never);
  const target = withAttributes('target', 8);
  const budget = 60_000;
  const cache = new VerdictCache(1000, budget);
  const sizes: number[] = [];
  for (let i = 0; i < 40; i++) {
    const source = withAttributes(`s${i}`, 8);
    const cached = cache.verdictFor(source, target);
    t.is(cache.verdictFor(source, target), cached, 'kept until the next start-over');
    t.true(cache.bytes <= budget, `estimate ${cache.bytes} within the budget`);
    sizes.push(cache.size);
  }
  t.true(Math.max(...sizes) < 40, `started over by bytes, not by count (sizes ${sizes.join(',')})`);
  const fit = Math.floor(budget / verdictCost(withAttributes('s10', 8), target));
  t.true(Math.max(...sizes) >= fit - 1, `but not before the budget was used: held up to ${Math.max(...sizes)}, ${fit} fit`);
  t.true(sizes.includes(1), 'and refilled after starting over');
  const huge = withAttributes('huge', 100);
  t.true(verdictCost(huge, target) > budget);
  const answered = cache.verdictFor(huge, target);
  t.not(cache.verdictFor(huge, target), answered, 'too large to keep: evaluated again');
  t.deepEqual(cache.verdictFor(huge, target).verdict, answered.verdict);
  t.true(cache.bytes <= budget);
});

test('the verdict cache starts over at its limit, counting every lookup', (t) => {
  const cache = new VerdictCache(3);
  const d = (version: string) => validateDescriptor({ ...GPU, software_version: version } as never);
  const [v1, v2, v3] = [d('1.0.0'), d('1.1.0'), d('1.2.0')];
  const a = cache.verdictFor(v1, v2);
  t.is(cache.verdictFor(v1, v2), a);
  const b = cache.verdictFor(v1, v3);
  const c = cache.verdictFor(v2, v3);
  t.deepEqual([cache.size, cache.hits, cache.misses], [3, 1, 3]);
  t.is(cache.verdictFor(v1, v3), b, 'below the limit nothing is dropped');
  t.is(cache.verdictFor(v2, v3), c);
  const d4 = cache.verdictFor(v3, v1);
  t.deepEqual([cache.size, cache.hits, cache.misses], [1, 3, 4], 'the fourth pair: the cache was reset, then holds it');
  t.is(cache.verdictFor(v3, v1), d4);
  t.not(cache.verdictFor(v1, v2), a, 'recomputed after the reset');
  t.deepEqual([cache.size, cache.hits, cache.misses], [2, 4, 5]);
  t.is(cache.verdictFor(v3, v1), d4, 'a source with two targets keeps both');
  t.deepEqual(cache.verdictFor(v1, v2).verdict, a.verdict);
});
