// A replica following the shared log (server/core/follower.ts), on registries over one shared
// memory store with a manual clock: after each kind of write another server makes (a new host,
// labels changed, a device dropped, a device-only change, a claim created and released, the
// draining mark, a host deleted) the follower's hosts, devices and claims equal the writer's,
// field for field, and it publishes the same revisions in order; more than a page of the log
// is followed to the head in one catch-up; a follower whose history another server compacted
// away says so once, with the exact reason.

import test from 'ava';
import { validateCreateClaim } from '../server/core/claims.ts';
import { ManualClock } from '../server/core/clock.ts';
import { Registry } from '../server/core/registry.ts';
import { SharedMemory } from '../server/store/memory-store.ts';
import { openReplicas, ORIGIN, syncOf, ANYONE } from './helpers/core.ts';

/** Everything a registry holds that a follower must reproduce. */
function snapshot(registry: Registry) {
  const hosts = registry.listHosts({ labels: {}, afterHostId: undefined, limit: 1000 }).map((host) => ({
    record: host.record,
    devices: [...host.devices.values()].map((device) => device.record).sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1)),
  }));
  const claims = registry.listClaims({ hostId: undefined, claimId: undefined, after: undefined, limit: 1000 });
  return { revision: registry.revision, headHash: registry.headHash, hosts, claims };
}

test('a follower reproduces every kind of write field for field, and publishes the same revisions in order', async (t) => {
  const { rigs } = await openReplicas(2);
  const [writer, follower] = rigs;
  const w = writer.registry;
  const claim = validateCreateClaim({ parent: 'hosts/h1', claim_id: 'mig-1', devices: [{ device: 'gpu0', count: 1 }], ttl_ms: 60_000 });
  const steps: [string, () => Promise<unknown>][] = [
    ['a new host', () => w.syncHost(syncOf('h1', [{ id: 'gpu0', available: 4 }, 'gpu1'], { zone: 'x' }), ORIGIN)],
    ['a second host', () => w.syncHost(syncOf('h2', ['gpu0']), ORIGIN)],
    ['labels changed, a device dropped', () => w.syncHost(syncOf('h1', [{ id: 'gpu0', available: 4 }], { zone: 'y' }), ORIGIN)],
    ['a device-only change', () => w.syncHost(syncOf('h1', [{ id: 'gpu0', available: 3 }], { zone: 'y' }), ORIGIN)],
    ['a claim created', () => w.createClaim(claim, ORIGIN, ANYONE)],
    ['a claim released', () => w.releaseClaim('h1', 'mig-1', ORIGIN, ANYONE)],
    ['a claim created again', () => w.createClaim({ ...claim, claimId: 'mig-2' }, ORIGIN, ANYONE)],
    ['draining', () => w.setDraining('h2', true, ORIGIN)],
    ['a host deleted', () => w.deleteHost('h2', undefined, ORIGIN)],
  ];
  for (const [what, write] of steps) {
    writer.clock.advance(1000);
    await write();
    await follower.registry.catchUp();
    t.deepEqual(snapshot(follower.registry), snapshot(w), what);
  }
  t.is(follower.registry.findDevice('h1', 'gpu1'), undefined);
  t.is(follower.registry.findHost('h2'), undefined);
  t.deepEqual(follower.registry.listClaims({ hostId: 'h1', claimId: undefined, after: undefined, limit: 10 }).map((c) => c.claimId), ['mig-2']);
  t.deepEqual(
    follower.changes.map((c) => [c.revision, c.headHash]),
    writer.changes.map((c) => [c.revision, c.headHash]),
  );
  t.deepEqual(follower.changes.map((c) => c.revision), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  for (const rig of rigs) await rig.registry.close();
});

test('more than a page of the log (500 revisions) is followed to the head in one catch-up', async (t) => {
  const { memory, rigs } = await openReplicas(2);
  const [writer, follower] = rigs;
  await writer.registry.syncHost(syncOf('h1'), ORIGIN);
  await follower.registry.catchUp();
  memory.dropWakeups = true;
  for (let i = 0; i < 520; i++) await writer.registry.setDraining('h1', i % 2 === 0, ORIGIN);
  t.is(writer.registry.revision, 521);
  t.is(follower.registry.revision, 1, 'no wake-up reached the follower');
  await follower.registry.catchUp();
  t.is(follower.registry.revision, 521);
  t.is(follower.changes.length, 521);
  t.deepEqual(snapshot(follower.registry), snapshot(writer.registry));
  memory.dropWakeups = false;
  for (const rig of rigs) await rig.registry.close();
});

test('history compacted past the follower: it cannot follow, says why once, and stays where it was', async (t) => {
  const memory = new SharedMemory();
  const clock = new ManualClock();
  const writerStore = memory.open();
  const writer = await Registry.open(writerStore, { clock, followLog: writerStore.log });
  const broken: string[] = [];
  const followerStore = memory.open();
  const follower = await Registry.open(followerStore, { clock, followLog: followerStore.log, onFollowBroken: (error) => broken.push(error.message) });
  await writer.syncHost(syncOf('h1'), ORIGIN);
  await follower.catchUp();
  memory.dropWakeups = true;
  for (const name of ['h2', 'h3', 'h4']) await writer.syncHost(syncOf(name), ORIGIN);
  await writer.compact(3);
  const expected =
    'this server holds revision 1, but another server compacted the history up to revision 3: ' +
    'it cannot follow the registry any more and must load it again (restart)';
  for (let i = 0; i < 2; i++) {
    const error = await t.throwsAsync(follower.catchUp());
    t.true(error.message.includes(expected), error.message);
  }
  t.deepEqual(broken, [expected], 'told once');
  t.is(follower.revision, 1);
  t.is(follower.findHost('h2'), undefined);
  memory.dropWakeups = false;
  await writer.close();
  await follower.close().catch(() => undefined);
});
