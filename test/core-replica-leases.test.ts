// Leases on replicas, in the core: two registries over one shared memory store (SharedMemory)
// on one manual clock, to the millisecond. Only the holder of the lease duty expires a lease,
// SHARED_LEASE_GRACE_MS past its expiry, after reading the renewals the other replicas
// persisted; a sync another replica committed renews the lease as it is followed; the duty
// passes on when its holder dies. What test/postgres/leases.test.ts checks with servers on
// PostgreSQL, checked on server/core/leases.ts itself (followed, expireShared).

import test from 'ava';
import { SHARED_LEASE_GRACE_MS } from '../server/core/leases.ts';
import { isLeaseExpiry } from '../server/core/leases.ts';
import { historyQuery } from '../server/core/store.ts';
import { EMPTY_BATCH } from '../server/core/write-planning.ts';
import { nextChange, openReplicas, ORIGIN, settled, syncOf } from './helpers/core.ts';
import type { Registry } from '../server/core/registry.ts';

const TTL = 1000;
const GRACE = SHARED_LEASE_GRACE_MS;

async function lapses(registry: Registry, hostId: string) {
  return (await registry.listHistory(historyQuery({ hostId, deviceId: '', limit: 100 }))).filter(isLeaseExpiry);
}

test('kept alive through the replica without the duty, a host stays READY; silent, it lapses once, written by the duty holder, a grace after its last keepalive', async (t) => {
  const { rigs, clock } = await openReplicas(2, { leaseTtlMs: TTL });
  const [a, b] = rigs.map((rig) => rig.registry);
  t.true(rigs[0].store.log!.holdsLeaseDuty());
  const start = clock.now();
  await a.syncHost(syncOf('h'), ORIGIN);
  await b.catchUp();
  a.startLeases();
  b.startLeases();
  let last = start;
  for (let i = 1; i <= 10; i++) {
    last = start + i * 500;
    clock.advanceTo(last);
    t.deepEqual(b.keepAlive('h'), { expireTime: last + TTL, state: 'READY' });
    await settled(a, 'h');
    await settled(b, 'h');
  }
  t.true(a.findHost('h')!.record.reachable, 'renewed through the other replica: READY past TTL + grace');

  clock.advanceTo(last + TTL + GRACE - 1);
  await settled(a, 'h');
  t.true(a.findHost('h')!.record.reachable, 'a millisecond before the grace after the last keepalive ends: READY');
  const lapse = nextChange(a);
  const followed = nextChange(b);
  clock.advance(1);
  const change = await lapse;
  t.is(change.entries[0].time, last + TTL, 'dated at the expiry of the last keepalive');
  t.deepEqual((await followed).revision, change.revision, 'the other replica follows the lapse');
  t.false(b.findHost('h')!.record.reachable);

  clock.advance(10 * TTL);
  await settled(a, 'h');
  await settled(b, 'h');
  t.is((await lapses(a, 'h')).length, 1, 'lapsed once, not once per replica');
  await a.close();
  await b.close();
});

test('the replica without the duty expires nothing; when the holder dies, the next replica takes the duty and expires the lapsed host', async (t) => {
  const { rigs, clock } = await openReplicas(2, { leaseTtlMs: TTL });
  const [a, b] = rigs.map((rig) => rig.registry);
  const start = clock.now();
  await b.syncHost(syncOf('h'), ORIGIN);
  await a.catchUp();
  a.startLeases();
  b.startLeases();
  // The holder dies (its server and its connection to the store are gone) before the lapse.
  clock.advanceTo(start + TTL / 2);
  await a.close();
  await rigs[0].store.close();
  t.true(rigs[1].store.log!.holdsLeaseDuty(), 'the duty passed to the replica left');
  clock.advanceTo(start + TTL + GRACE - 1);
  await settled(b, 'h');
  t.true(b.findHost('h')!.record.reachable);
  const lapse = nextChange(b);
  clock.advance(1);
  const change = await lapse;
  t.is(change.entries[0].time, start + TTL);
  t.false(b.findHost('h')!.record.reachable);
  await b.close();
});

test('a lapse is not written by a replica without the duty, however late', async (t) => {
  const { rigs, clock } = await openReplicas(2, { leaseTtlMs: TTL });
  const [a, b] = rigs.map((rig) => rig.registry);
  await b.syncHost(syncOf('h'), ORIGIN);
  await a.catchUp();
  b.startLeases(); // the duty holder (a) checks nothing: its leases are not started
  clock.advance(20 * TTL);
  // A check that went on without the duty would read the persisted renewals and then queue the
  // lapse: the first write waits that read out, the second comes after such a lapse.
  await settled(b, 'h');
  await settled(b, 'h');
  t.true(b.findHost('h')!.record.reachable);
  t.deepEqual(await lapses(b, 'h'), []);
  await a.close();
  await b.close();
});

test('a sync committed by another replica renews the lease as the duty holder follows it, before that replica persisted anything', async (t) => {
  const { rigs, clock } = await openReplicas(2, { leaseTtlMs: TTL });
  const [a, b] = rigs.map((rig) => rig.registry);
  const start = clock.now();
  await a.syncHost(syncOf('h'), ORIGIN);
  a.startLeases(); // b's leases are not started: it persists no renewal
  clock.advanceTo(start + 1500);
  const followed = nextChange(a);
  await b.syncHost(syncOf('h', ['gpu0'], { rack: 'r2' }), ORIGIN);
  await followed;
  t.is(a.findHost('h')!.leaseExpiry, start + 1500 + TTL, 'the followed sync renewed the lease');
  clock.advanceTo(start + 1500 + TTL + GRACE - 1);
  await settled(a, 'h');
  t.true(a.findHost('h')!.record.reachable, 'past the first lease and its grace: READY');
  const lapse = nextChange(a);
  clock.advance(1);
  const change = await lapse;
  t.is(change.entries[0].time, start + 1500 + TTL, 'dated at the expiry the followed sync set');
  await a.close();
  await b.close();
});

test("a host synced through another replica does not delay the lapse of the duty holder's other hosts", async (t) => {
  const { rigs, clock } = await openReplicas(2, { leaseTtlMs: TTL });
  const [a, b] = rigs.map((rig) => rig.registry);
  const start = clock.now();
  await a.syncHost(syncOf('x'), ORIGIN);
  a.startLeases();
  clock.advanceTo(start + TTL + GRACE - 500);
  const followed = nextChange(a);
  await b.syncHost(syncOf('y'), ORIGIN);
  await followed;
  clock.advanceTo(start + TTL + GRACE);
  // The check at the end of x's grace reads the persisted renewals, then queues x's lapse: a
  // write to y waits that read out, and a write to x after it comes after the lapse.
  await settled(a, 'y');
  await settled(a, 'x');
  t.false(a.findHost('x')!.record.reachable, 'x lapses at the end of its grace, not once y is due');
  const [lapse] = await lapses(a, 'x');
  t.is(lapse.time, start + TTL + GRACE - 500, "dated at its expiry, moved up to y's revision (revision times never go back)");
  t.true(a.findHost('y')!.record.reachable);
  await a.close();
  await b.close();
});

test('an older renewal another replica persisted does not shorten a lease renewed here since', async (t) => {
  const { rigs, clock } = await openReplicas(2, { leaseTtlMs: TTL });
  const [a, b] = rigs.map((rig) => rig.registry);
  const start = clock.now();
  await a.syncHost(syncOf('h'), ORIGIN);
  a.startLeases();
  clock.advanceTo(start + 800);
  a.keepAlive('h');
  clock.advanceTo(start + 1100); // a persisted start + 1800 at start + 1000
  await settled(a, 'h');
  // The other replica persists a renewal it received earlier (a keepalive at the start).
  await rigs[1].store.commit({ ...EMPTY_BATCH, leases: [{ hostId: 'h', expireTime: start + TTL }] });
  clock.advanceTo(start + 1800 + GRACE - 1);
  await settled(a, 'h');
  t.true(a.findHost('h')!.record.reachable);
  t.is(a.findHost('h')!.leaseExpiry, start + 1800);
  const lapse = nextChange(a);
  clock.advance(1);
  const change = await lapse;
  t.is(change.entries[0].time, start + 1800, 'dated at the expiry of the keepalive received here');
  await a.close();
  await b.close();
});

test('a host deleted through another replica is followed: its lease is forgotten, the other hosts still lapse', async (t) => {
  const { rigs, clock } = await openReplicas(2, { leaseTtlMs: TTL });
  const [a, b] = rigs.map((rig) => rig.registry);
  const start = clock.now();
  await a.syncHost(syncOf('gone'), ORIGIN);
  await a.syncHost(syncOf('kept'), ORIGIN);
  a.startLeases();
  await b.catchUp();
  const followed = nextChange(a);
  await b.deleteHost('gone', undefined, ORIGIN);
  await followed;
  t.is(a.findHost('gone'), undefined);
  const lapse = nextChange(a);
  clock.advanceTo(start + TTL + GRACE);
  const change = await lapse;
  t.is(change.entries[0].hostId, 'kept');
  clock.advance(10 * TTL);
  await settled(a, 'kept');
  t.is(a.revision, 4, 'the deleted host never lapses');
  await a.close();
  await b.close();
});

test('a host deleted and created again while the duty holder reads the renewals is not expired: the lapse was of the old one', async (t) => {
  const { memory, rigs, clock } = await openReplicas(2, { leaseTtlMs: TTL });
  const [a, b] = rigs.map((rig) => rig.registry);
  const start = clock.now();
  await a.syncHost(syncOf('h'), ORIGIN);
  a.startLeases();
  await b.catchUp();
  // Another replica deletes the host and creates it again; this one has not followed yet.
  memory.dropWakeups = true;
  clock.advanceTo(start + 100);
  await b.deleteHost('h', undefined, ORIGIN);
  await b.syncHost(syncOf('h'), ORIGIN);
  // Its catch-up is held in the store, and the check at the end of the old host's grace
  // reads the renewals after it: by then the host is the new one, whose lease runs.
  const release = rigs[0].store.pause();
  const caughtUp = a.catchUp();
  await new Promise(setImmediate);
  clock.advanceTo(start + TTL + GRACE);
  release();
  await caughtUp;
  await settled(a, 'h');
  await settled(a, 'h');
  t.true(a.findHost('h')!.record.reachable, 'the new host keeps its lease');
  t.is(a.findHost('h')!.record.createRevision, 3);
  t.deepEqual(await lapses(a, 'h'), []);
  memory.dropWakeups = false;
  await a.close();
  await b.close();
});
