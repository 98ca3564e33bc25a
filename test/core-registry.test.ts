// The Registry facade's own small logic, through openCore() (in-memory store, manual clock):
// waiting for a revision (true exactly when it is reached, false when the wait times out),
// the gauges a metrics scrape reads, free units now and in a past view, and a backup refused
// on a store with no file.

import test from 'ava';
import { validateCreateClaim } from '../server/core/claims.ts';
import { DomainError } from '../server/core/errors.ts';
import { nextChange, openCore, openReplicas, ORIGIN, syncOf, ANYONE } from './helpers/core.ts';

/** One turn of the event loop: lets timers armed before it fire (not a sleep of any length). */
const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

test('reachRevision: true at once for a revision already reached, false when the wait times out', async (t) => {
  const { registry } = await openCore();
  await registry.syncHost(syncOf('h1'), ORIGIN);
  const now = registry.revision;
  t.is(now, 1);
  t.true(await registry.reachRevision(now, 0));
  t.true(await registry.reachRevision(now - 1, 0));
  t.false(await registry.reachRevision(now + 1, 0));
  t.false(await registry.reachRevision(now + 1, -5), 'a negative timeout is no timeout');
  t.is(registry.revision, now);
});

test('reachRevision: resolves true when the awaited revision commits, not at an earlier one', async (t) => {
  const { registry } = await openCore();
  await registry.syncHost(syncOf('h1'), ORIGIN);
  const target = registry.revision + 2;
  let answer: boolean | undefined;
  const waiting = registry.reachRevision(target, 5_000).then((reached) => (answer = reached));
  await turn();
  t.is(answer, undefined, 'still waiting');
  await registry.syncHost(syncOf('h2'), ORIGIN);
  await turn();
  t.is(answer, undefined, 'one revision short: still waiting');
  await registry.syncHost(syncOf('h3'), ORIGIN);
  await turn();
  t.is(answer, true, 'resolved by the commit, not by the timeout');
  t.true(await waiting);
});

test('gauges count hosts by state, devices, claims, the revision and the verdict cache', async (t) => {
  const { registry } = await openCore();
  t.deepEqual(registry.gauges, {
    hosts: 0,
    devices: 0,
    descriptors: 0,
    claims: 0,
    hostStates: { READY: 0, DRAINING: 0, UNREACHABLE: 0 },
    revision: 0,
    verdictCache: { size: 0, hits: 0, misses: 0 },
  });
  await registry.syncHost(syncOf('h1', [{ id: 'gpu0', available: 2 }, 'gpu1']), ORIGIN);
  await registry.syncHost(syncOf('h2'), ORIGIN);
  await registry.syncHost(syncOf('h3'), ORIGIN);
  await registry.setDraining('h3', true, ORIGIN);
  await registry.createClaim(validateCreateClaim({ parent: 'hosts/h1', claim_id: 'c1', devices: [{ device: 'gpu0' }] }), ORIGIN, ANYONE);
  const gpu = registry.findDevice('h1', 'gpu0')!.entry.descriptor;
  registry.verdictFor(gpu, gpu);
  registry.verdictFor(gpu, gpu);
  const gauges = registry.gauges;
  t.deepEqual(gauges.hostStates, { READY: 2, DRAINING: 1, UNREACHABLE: 0 });
  t.is(gauges.hosts, 3);
  t.is(gauges.devices, 4);
  t.is(gauges.claims, 1);
  t.is(gauges.revision, registry.revision);
  t.deepEqual(gauges.verdictCache, { size: 1, hits: 1, misses: 1 });
  t.is(registry.stats.cachedVerdicts, 1);
});

test('free units: now with claims counted, in a past view without them', async (t) => {
  const { registry } = await openCore();
  await registry.syncHost(syncOf('h1', [{ id: 'gpu0', available: 3 }]), ORIGIN);
  await registry.createClaim(validateCreateClaim({ parent: 'hosts/h1', claim_id: 'c1', devices: [{ device: 'gpu0', count: 2 }] }), ORIGIN, ANYONE);
  const live = registry.findDevice('h1', 'gpu0')!;
  t.is(registry.claimedOn('h1', 'gpu0'), 2);
  t.is(registry.freeUnitsOf(live), 1, 'now: the claim holds 2 of 3');
  t.is(registry.freeUnitsOf(live, false), 1);
  t.is(registry.freeUnitsOf(live, true), 3, 'in a past view: the capacity of then alone');

  const at = { record: live.record, name: '', descriptor: live.entry.descriptor, budgets: [] };
  t.is(registry.freeUnitsAt(at, true), 1, 'the live record, read now: claims counted');
  t.is(registry.freeUnitsAt(at, false), 3, 'read at a past revision: no claims');

  await registry.syncHost(syncOf('h1', [{ id: 'gpu0', available: 4 }]), ORIGIN);
  t.not(registry.findDevice('h1', 'gpu0')!.record, live.record);
  t.is(registry.freeUnitsAt(at, true), 3, 'an older record of the device: its own capacity, no claims');
  t.deepEqual([...registry.budgetClaims(registry.getHost('h1'))], []);
});

test('a backup is refused on a store with no file, naming why', async (t) => {
  const { registry } = await openCore();
  const error = await t.throwsAsync(registry.backup('/nonexistent/copy.db'), { instanceOf: DomainError });
  t.is(error.reason, 'FAILED_PRECONDITION');
  t.is(
    error.message,
    "this server's store has no file to back up (in memory; on PostgreSQL use the database's own backups, or devcompat store copy)",
  );
});

test('the facade answers lookups of hosts, descriptors, claims and errors exactly', async (t) => {
  const { registry } = await openCore({ leaseTtlMs: 1234 });
  t.is(registry.leaseTtlMs, 1234);
  t.is(registry.followLag(), undefined, 'the only writer of its store is never behind');
  await registry.refreshCheckpoint();
  t.is(registry.oldestRevision, 1);
  await registry.syncHost(syncOf('h1', [{ id: 'gpu0', available: 2 }]), ORIGIN);
  await registry.syncHost(syncOf('h2', ['gpu0'], { rack: 'r2' }), ORIGIN);

  t.deepEqual(registry.listHosts({ labels: {}, afterHostId: undefined, limit: 10 }).map((h) => h.record.hostId), ['h1', 'h2']);
  t.deepEqual(registry.listHosts({ labels: { rack: 'r2' }, afterHostId: undefined, limit: 10 }).map((h) => h.record.hostId), ['h2']);
  t.is(registry.getHost('h2').record.hostId, 'h2');

  const entry = registry.findDevice('h1', 'gpu0')!.entry;
  t.is(registry.descriptorById(entry.id), entry.descriptor);
  t.deepEqual(
    registry.matchingDescriptorIds({ vendor: 'nvidia', deviceApi: 'vfio-pci', type: 'nvidia-a10-4q', versionMatches: undefined }),
    new Set([entry.id]),
  );
  t.deepEqual([...registry.candidateEntries(entry.descriptor)].map((e) => e.id), [entry.id]);

  await registry.createClaim(validateCreateClaim({ parent: 'hosts/h1', claim_id: 'c1', devices: [{ device: 'gpu0' }] }), ORIGIN, ANYONE);
  const claim = registry.getClaim('h1', 'c1');
  t.is(claim.claimId, 'c1');
  t.is(claim.hostId, 'h1');
  t.deepEqual(registry.listClaims({ hostId: 'h1', claimId: undefined, after: undefined, limit: 10 }).map((c) => c.claimId), ['c1']);
  const book = registry.claimBookOf('h1');
  t.is(book.hostId, 'h1');
  t.deepEqual([...book.claims.keys()], ['c1']);

  const past = await registry.viewAt(1);
  t.is(past.revision, 1);

  const compacted = registry.compacted(3, 7);
  t.is(compacted.reason, 'REVISION_COMPACTED');
  t.is(compacted.message, 'revision 3 has been compacted: the oldest revision available is 7');
});

test('a replica follows the other server\'s claims and compaction, and reports its lag', async (t) => {
  const { rigs } = await openReplicas(2);
  const [a, b] = rigs.map((rig) => rig.registry);
  await a.syncHost(syncOf('h1', [{ id: 'gpu0', available: 2 }]), ORIGIN);
  await a.createClaim(validateCreateClaim({ parent: 'hosts/h1', claim_id: 'c1', devices: [{ device: 'gpu0' }] }), ORIGIN, ANYONE);
  await a.syncHost(syncOf('h2'), ORIGIN);
  await a.compact(2);
  await b.catchUp();
  t.is(b.revision, a.revision);
  t.deepEqual(b.listClaims({ hostId: 'h1', claimId: undefined, after: undefined, limit: 10 }).map((c) => c.claimId), ['c1']);
  t.is(b.claimedOn('h1', 'gpu0'), 1);
  t.is(b.checkpoint.revision, a.checkpoint.revision);
  t.is(b.oldestRevision, 3);
  t.deepEqual(b.followLag(), { lagMs: 0, revisionsBehind: 0 });
  for (const registry of [a, b]) await registry.close();
});

test('a replica applies another server\'s write on its own, without being asked to catch up', async (t) => {
  const { rigs } = await openReplicas(2);
  const [a, b] = rigs.map((rig) => rig.registry);
  const seen = nextChange(b);
  await a.syncHost(syncOf('h1'), ORIGIN);
  const change = await seen;
  t.is(change.revision, 1);
  t.is(b.revision, 1);
  t.truthy(b.findHost('h1'));
  for (const registry of [a, b]) await registry.close();
});
