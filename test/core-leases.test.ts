// Leases in the core, to the millisecond: a registry on the in-memory store with a manual
// clock. A lease lapses exactly one TTL after the last sync or keepalive — not a millisecond
// before, and not later — and the lapse is dated at the expiry even when it is noticed late
// (after a restart). Keepalives are persisted about once a second and survive a restart.

import test from 'ava';
import { ManualClock } from '../server/core/clock.ts';
import { DomainError } from '../server/core/errors.ts';
import { isLeaseExpiry, SHARED_LEASE_GRACE_MS } from '../server/core/leases.ts';
import { historyOf, nextChange, openCore, ORIGIN, QuietReplicasLog, settled, syncOf, type CoreRig } from './helpers/core.ts';

const TTL = 1000;

test('a synced host lapses exactly one TTL after its sync, dated at the expiry, by the server', async (t) => {
  const { registry, clock, changes } = await openCore({ leaseTtlMs: TTL });
  const start = clock.now();
  const synced = await registry.syncHost(syncOf('h'), ORIGIN);
  t.is(synced.host.leaseExpiry, start + TTL);
  registry.startLeases();

  clock.advanceTo(start + TTL - 1);
  await settled(registry, 'h');
  t.true(registry.findHost('h')!.record.reachable, 'one millisecond before the TTL: still READY');
  t.is(changes.length, 1);

  clock.advance(1);
  await settled(registry, 'h');
  const host = registry.findHost('h')!;
  t.false(host.record.reachable, 'at the TTL: UNREACHABLE');
  t.is(changes.length, 2);
  const [, lapse] = await historyOf(registry, 'h');
  t.like(lapse, { change: 'UPDATED', actor: 'devcompat', time: start + TTL, reason: `lease expired: no keepalive or sync for ${TTL} ms` });
  t.true(lapse.before?.kind === 'host' && lapse.before.host.reachable);
  t.true(lapse.after?.kind === 'host' && !lapse.after.host.reachable);
  t.is(host.record.updateTime, start + TTL);
  t.is(registry.findDevice('h', 'gpu0')?.name, 'hosts/h/devices/gpu0', 'a lapse deletes nothing');

  clock.advance(10 * TTL);
  await settled(registry, 'h');
  t.is(changes.length, 2, 'a lapsed host lapses once');
  await registry.close();
});

test('a keepalive moves the expiry to one TTL from the keepalive', async (t) => {
  const { registry, clock } = await openCore({ leaseTtlMs: TTL });
  const start = clock.now();
  await registry.syncHost(syncOf('h'), ORIGIN);
  registry.startLeases();
  clock.advanceTo(start + 600);
  t.deepEqual(registry.keepAlive('h'), { expireTime: start + 600 + TTL, state: 'READY' });

  clock.advanceTo(start + 600 + TTL - 1);
  await settled(registry, 'h');
  t.true(registry.findHost('h')!.record.reachable, 'renewed: READY past the first TTL');
  clock.advance(1);
  await settled(registry, 'h');
  t.false(registry.findHost('h')!.record.reachable);
  const [, lapse] = await historyOf(registry, 'h');
  t.is(lapse.time, start + 600 + TTL);
  await registry.close();
});

test('a sync renews the lease as a keepalive does', async (t) => {
  const { registry, clock } = await openCore({ leaseTtlMs: TTL });
  const start = clock.now();
  await registry.syncHost(syncOf('h'), ORIGIN);
  registry.startLeases();
  clock.advanceTo(start + 700);
  const again = await registry.syncHost(syncOf('h'), ORIGIN);
  t.false(again.changed, 'an unchanged sync is no revision, but renews the lease');
  t.is(again.host.leaseExpiry, start + 700 + TTL);
  clock.advanceTo(start + 700 + TTL - 1);
  await settled(registry, 'h');
  t.true(registry.findHost('h')!.record.reachable);
  clock.advance(1);
  await settled(registry, 'h');
  t.false(registry.findHost('h')!.record.reachable);
  await registry.close();
});

test('a keepalive answered while a sync of the same host commits keeps its later expiry: the sync never shortens the lease', async (t) => {
  const { registry, clock, store } = await openCore({ leaseTtlMs: TTL });
  const start = clock.now();
  await registry.syncHost(syncOf('h'), ORIGIN);
  registry.startLeases();
  clock.advanceTo(start + 500);
  // The sync is planned now (its time is start + 500) and held in the store while a keepalive comes.
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const commit = store.commit.bind(store);
  store.commit = async (batch) => {
    await gate;
    return commit(batch);
  };
  const syncing = registry.syncHost(syncOf('h', ['gpu0', 'gpu1']), ORIGIN);
  await new Promise((resolve) => setImmediate(resolve));
  clock.advanceTo(start + 800);
  t.deepEqual(registry.keepAlive('h'), { expireTime: start + 800 + TTL, state: 'READY' });
  release();
  await syncing;
  store.commit = commit;
  t.is(registry.findHost('h')!.leaseExpiry, start + 800 + TTL, 'the expiry the keepalive was told');
  clock.advanceTo(start + 500 + TTL);
  await settled(registry, 'h');
  t.true(registry.findHost('h')!.record.reachable, 'READY past the sync\'s own expiry');
  clock.advanceTo(start + 800 + TTL);
  await settled(registry, 'h');
  t.false(registry.findHost('h')!.record.reachable, 'and lapses at the keepalive\'s');
  await registry.close();
});

test('a keepalive or a sync makes an UNREACHABLE host READY again, recorded as such', async (t) => {
  const { registry, clock } = await openCore({ leaseTtlMs: TTL });
  await registry.syncHost(syncOf('a'), ORIGIN);
  await registry.syncHost(syncOf('b'), ORIGIN);
  registry.startLeases();
  clock.advance(TTL);
  await settled(registry, 'a');
  await settled(registry, 'b');
  t.false(registry.findHost('a')!.record.reachable);
  t.false(registry.findHost('b')!.record.reachable);

  const lease = registry.keepAlive('a');
  t.deepEqual(lease, { expireTime: clock.now() + TTL, state: 'READY' }, 'the keepalive answers READY at once');
  await settled(registry, 'a');
  t.true(registry.findHost('a')!.record.reachable);
  const back = (await historyOf(registry, 'a')).at(-1)!;
  t.like(back, { actor: 'devcompat', reason: 'lease renewed by a keepalive', time: clock.now() });

  const synced = await registry.syncHost(syncOf('b'), ORIGIN);
  t.true(synced.changed, 'becoming READY is a change');
  t.true(synced.host.record.reachable);
  await registry.close();
});

test('a draining host renewed by a keepalive is DRAINING, not READY', async (t) => {
  const { registry, clock } = await openCore({ leaseTtlMs: TTL });
  await registry.syncHost(syncOf('h'), ORIGIN);
  await registry.setDraining('h', true, ORIGIN);
  t.deepEqual(registry.keepAlive('h'), { expireTime: clock.now() + TTL, state: 'DRAINING' });
  registry.startLeases();
  clock.advance(TTL);
  await settled(registry, 'h');
  t.deepEqual(registry.keepAlive('h'), { expireTime: clock.now() + TTL, state: 'DRAINING' }, 'unreachable and draining: back to DRAINING');
  await registry.close();
});

test('a keepalive that comes after a lapse was noticed but before it was written keeps the host READY', async (t) => {
  const { registry, clock, changes } = await openCore({ leaseTtlMs: TTL });
  await registry.syncHost(syncOf('h'), ORIGIN);
  registry.startLeases();
  clock.advance(TTL); // the lapse is queued in this call
  registry.keepAlive('h'); // before the queue is flushed
  await settled(registry, 'h');
  t.true(registry.findHost('h')!.record.reachable);
  t.is(changes.length, 1, 'the stale lapse was dropped: no revision');
  await registry.close();
});

test('keepalives for an unknown host are NOT_FOUND; a deleted host does not lapse', async (t) => {
  const { registry, clock, changes } = await openCore({ leaseTtlMs: TTL });
  const error = t.throws(() => registry.keepAlive('ghost'));
  t.true(error instanceof DomainError && error.reason === 'NOT_FOUND');
  await registry.syncHost(syncOf('h'), ORIGIN);
  await registry.syncHost(syncOf('other'), ORIGIN);
  registry.startLeases();
  await registry.deleteHost('h', undefined, ORIGIN);
  registry.keepAlive('other');
  clock.advance(TTL - 1);
  registry.keepAlive('other');
  clock.advance(TTL - 1);
  await settled(registry, 'other');
  t.deepEqual(
    changes.map((c) => c.entries.map((e) => `${e.change} ${e.hostId}/${e.deviceId}`)),
    [['CREATED h/', 'CREATED h/gpu0'], ['CREATED other/', 'CREATED other/gpu0'], ['DELETED h/gpu0', 'DELETED h/']],
  );
  await registry.close();
});

test('renewed expiries are persisted about once a second, and on close', async (t) => {
  const { registry, clock, store } = await openCore({ leaseTtlMs: 10 * TTL });
  const start = clock.now();
  await registry.syncHost(syncOf('h'), ORIGIN);
  registry.startLeases();
  clock.advance(300);
  registry.keepAlive('h');
  const commitsBefore = store.commits;
  clock.advance(699);
  await settled(registry, 'h');
  t.deepEqual([...(await store.load()).leaseExpiries], [], 'not before the second is up');
  t.true(store.commits > commitsBefore);
  clock.advance(1);
  await settled(registry, 'h');
  t.deepEqual([...(await store.load()).leaseExpiries], [['h', start + 300 + 10 * TTL]]);

  clock.advance(100);
  registry.keepAlive('h');
  await registry.close();
  t.deepEqual([...(await store.load()).leaseExpiries], [['h', start + 1100 + 10 * TTL]], 'close writes the last renewal');
});

test('after a restart, a lease that ran out while the server was down lapses at start, dated at its expiry', async (t) => {
  const first = await openCore({ leaseTtlMs: TTL });
  const start = first.clock.now();
  await first.registry.syncHost(syncOf('h'), ORIGIN);
  await first.registry.syncHost(syncOf('renewed'), ORIGIN);
  first.registry.startLeases();
  first.clock.advance(400);
  first.registry.keepAlive('renewed');
  await first.registry.close();

  first.clock.advance(5 * TTL); // the server is down
  const second = await first.reopen({ leaseTtlMs: TTL });
  t.true(second.registry.findHost('h')!.record.reachable, 'not expired before leases start');
  second.registry.startLeases();
  await settled(second.registry, 'h');
  await settled(second.registry, 'renewed');
  const lapseOf = async (hostId: string) => (await historyOf(second.registry, hostId)).at(-1)!;
  t.like(await lapseOf('h'), { time: start + TTL, actor: 'devcompat' });
  t.like(await lapseOf('renewed'), { time: start + 400 + TTL, actor: 'devcompat' }, 'the persisted renewal dates it');
  t.is(second.registry.revision, 4);
  await second.registry.close();
});

test('after a crash before any lease was persisted, leases run one TTL from the last sync', async (t) => {
  const first = await openCore({ leaseTtlMs: TTL });
  const start = first.clock.now();
  await first.registry.syncHost(syncOf('h'), ORIGIN);
  first.clock.advance(200);
  await first.registry.syncHost(syncOf('h'), ORIGIN); // unchanged: only its last sync time moves
  // No close: the first registry stops as a crash would, its lease never written.
  first.clock.advance(5 * TTL);
  const second = await openCore({ leaseTtlMs: TTL, store: first.store, clock: first.clock });
  t.deepEqual([...(await first.store.load()).leaseExpiries], []);
  t.is(second.registry.findHost('h')!.leaseExpiry, start + 200 + TTL);
  second.registry.startLeases();
  await settled(second.registry, 'h');
  t.like((await historyOf(second.registry, 'h')).at(-1), { time: start + 200 + TTL, actor: 'devcompat' });
  await second.registry.close();
});

test('after a crash, a sync acknowledged after the last persisted renewal dates the lease, not the older renewal', async (t) => {
  const first = await openCore({ leaseTtlMs: 10 * TTL });
  const start = first.clock.now();
  await first.registry.syncHost(syncOf('h'), ORIGIN);
  first.registry.startLeases();
  first.clock.advance(300);
  first.registry.keepAlive('h');
  first.clock.advance(700);
  await settled(first.registry, 'h');
  t.deepEqual([...(await first.store.load()).leaseExpiries], [['h', start + 300 + 10 * TTL]], 'the renewal is on disk');
  first.clock.advance(2000);
  await first.registry.syncHost(syncOf('h'), ORIGIN); // acknowledged: its time is durable, its expiry not yet
  // No close: a crash before the next persist. The first registry's timers stay behind on its own clock.
  const second = await openCore({ leaseTtlMs: 10 * TTL, store: first.store, clock: new ManualClock(first.clock.now()) });
  t.is(second.registry.findHost('h')!.leaseExpiry, start + 3000 + 10 * TTL);
  second.registry.startLeases();
  second.clock.advanceTo(start + 300 + 10 * TTL + 100);
  await settled(second.registry, 'h');
  t.true(second.registry.findHost('h')!.record.reachable, 'READY past the older renewal');
  second.clock.advanceTo(start + 3000 + 10 * TTL);
  await settled(second.registry, 'h');
  t.like((await historyOf(second.registry, 'h')).at(-1), { time: start + 3000 + 10 * TTL, actor: 'devcompat' });
  await second.registry.close();
});

test('renewals the store refused to persist are written at the next persist', async (t) => {
  const { registry, clock, store } = await openCore({ leaseTtlMs: 10 * TTL });
  const start = clock.now();
  await registry.syncHost(syncOf('h'), ORIGIN);
  registry.startLeases();
  clock.advance(300);
  registry.keepAlive('h');
  store.failCommits(new Error('disk full'), 1);
  clock.advance(700);
  await settled(registry, 'h');
  t.deepEqual([...(await store.load()).leaseExpiries], [], 'the first persist was refused');
  clock.advance(1000);
  await settled(registry, 'h');
  t.deepEqual([...(await store.load()).leaseExpiries], [['h', start + 300 + 10 * TTL]], 'written by the next one, with no keepalive since');
  await registry.close();
});

test('after a restart within the TTL, a renewed lease is kept to the millisecond', async (t) => {
  const first = await openCore({ leaseTtlMs: 4 * TTL });
  const start = first.clock.now();
  await first.registry.syncHost(syncOf('h'), ORIGIN);
  first.registry.startLeases();
  first.clock.advance(1500);
  first.registry.keepAlive('h');
  const second = await first.reopen({ leaseTtlMs: 4 * TTL });
  t.is(second.registry.findHost('h')!.leaseExpiry, start + 1500 + 4 * TTL);
  second.registry.startLeases();
  second.clock.advanceTo(start + 1500 + 4 * TTL - 1);
  await settled(second.registry, 'h');
  t.true(second.registry.findHost('h')!.record.reachable);
  second.clock.advance(1);
  await settled(second.registry, 'h');
  t.false(second.registry.findHost('h')!.record.reachable);
  await second.registry.close();
});

test('closing stops the lease timers', async (t) => {
  const { registry, clock } = await openCore({ leaseTtlMs: TTL });
  registry.startLeases();
  t.is(clock.pendingTasks, 3, 'the lease check, the lease persistence and the claim expiry check');
  await registry.close();
  t.is(clock.pendingTasks, 0);
});

// What the lease checks must NOT do: write when nothing lapsed, write twice, write empty lease
// batches, bring a lapsed host back without a keepalive. A needless write is a store commit the
// user pays for (and, before planning drops it, a change a watcher could see).

test('a READY host within its lease, and a keepalive on a READY host, cause no write', async (t) => {
  const { registry, clock, store } = await openCore({ leaseTtlMs: 10 * TTL });
  await registry.syncHost(syncOf('h'), ORIGIN);
  registry.startLeases();
  const commits = store.commits;
  clock.advance(999); // nine lease checks, before the first persist
  registry.keepAlive('h');
  t.is(store.commits, commits, 'no lease check and no keepalive wrote anything');
  await settled(registry, 'h');
  t.is(store.commits, commits + 1, 'only the settling write itself was committed');
  await registry.close();
});

test('with a TTL under 400 ms, leases are checked every quarter of the TTL', async (t) => {
  const ttl = 120;
  const { registry, clock } = await openCore({ leaseTtlMs: ttl });
  const start = clock.now();
  await registry.syncHost(syncOf('h'), ORIGIN);
  registry.startLeases();
  clock.advanceTo(start + ttl); // checks at 30, 60, 90, 120 ms (not at 100 ms)
  await settled(registry, 'h');
  t.false(registry.findHost('h')!.record.reachable);
  t.like((await historyOf(registry, 'h')).at(-1), { time: start + ttl, actor: 'devcompat' });
  await registry.close();
});

/** A core whose one host `h` has lapsed (its lapse committed and settled). */
async function withLapsedHost() {
  const rig = await openCore({ leaseTtlMs: TTL });
  await rig.registry.syncHost(syncOf('h'), ORIGIN);
  rig.registry.startLeases();
  rig.clock.advance(TTL);
  await settled(rig.registry, 'h');
  await settled(rig.registry, 'h');
  return rig;
}

test('a lapsed host stays UNREACHABLE until a keepalive, which makes it READY with one write', async (t) => {
  const { registry, store, changes } = await withLapsedHost();
  t.false(registry.findHost('h')!.record.reachable, 'nothing but a keepalive or sync brings it back');
  t.is(changes.length, 2);

  const commits = store.commits;
  registry.keepAlive('h');
  registry.keepAlive('h'); // the second finds the READY write queued: no second write
  await settled(registry, 'h');
  await settled(registry, 'h');
  t.true(registry.findHost('h')!.record.reachable);
  t.is(changes.length, 3);
  t.is(store.commits, commits + 3, 'one READY write and the two settling writes, nothing else');
  await registry.close();
});

test('a keepalive while the lapse is being committed makes the host READY again at once, recorded', async (t) => {
  const { registry, clock, store, changes } = await openCore({ leaseTtlMs: TTL });
  await registry.syncHost(syncOf('h'), ORIGIN);
  registry.startLeases();
  const commit = store.commit.bind(store);
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let entered!: () => void;
  const inCommit = new Promise<void>((resolve) => (entered = resolve));
  store.commit = async (batch) => {
    if (batch.history.length === 0) return commit(batch); // the lease persist, due at the same time
    store.commit = commit;
    entered();
    await held;
    return commit(batch);
  };
  clock.advance(TTL); // the lapse is planned and its commit starts
  await inCommit;
  t.deepEqual(registry.keepAlive('h'), { expireTime: clock.now() + TTL, state: 'READY' }, 'still READY in memory');
  release();
  await settled(registry, 'h');
  await settled(registry, 'h');
  t.true(registry.findHost('h')!.record.reachable);
  t.deepEqual(
    changes.map((c) => c.entries.map((e) => `${e.change} ${e.hostId} ${e.reason}`)),
    [
      ['CREATED h ', 'CREATED h '],
      [`UPDATED h lease expired: no keepalive or sync for ${TTL} ms`],
      ['UPDATED h lease renewed by a keepalive'],
    ],
  );
  await registry.close();
});

test('a deleted host\'s renewed lease is not persisted; with nothing renewed, nothing is written', async (t) => {
  const { registry, clock, store } = await openCore({ leaseTtlMs: 10 * TTL });
  await registry.syncHost(syncOf('h'), ORIGIN);
  await registry.syncHost(syncOf('other'), ORIGIN);
  registry.startLeases();
  clock.advance(1000);
  await settled(registry, 'h');
  t.deepEqual([...(await store.load()).leaseExpiries.keys()].sort(), ['h', 'other']);

  const commits = store.commits;
  clock.advance(1000); // nothing renewed since: the persist timer writes nothing
  await settled(registry, 'other');
  t.is(store.commits, commits + 1, 'only the settling write');

  registry.keepAlive('h');
  await registry.deleteHost('h', undefined, ORIGIN);
  clock.advance(1000);
  await settled(registry, 'other');
  t.deepEqual([...(await store.load()).leaseExpiries.keys()], ['other'], 'the deleted host has no lease');
  await registry.close();
});

test('hosts synced at different times each lapse at their own expiry, though checks skip the hosts while none is due', async (t) => {
  const { registry, clock } = await openCore({ leaseTtlMs: TTL });
  const start = clock.now();
  await registry.syncHost(syncOf('a'), ORIGIN);
  registry.startLeases();
  clock.advanceTo(start + 300);
  await registry.syncHost(syncOf('b'), ORIGIN);
  clock.advanceTo(start + 500);
  registry.keepAlive('a'); // a now runs to start + 500 + TTL, after b
  clock.advanceTo(start + 300 + TTL - 1);
  await settled(registry, 'b');
  t.true(registry.findHost('b')!.record.reachable);
  clock.advanceTo(start + 300 + TTL);
  await settled(registry, 'b');
  t.false(registry.findHost('b')!.record.reachable, 'b lapsed at its expiry');
  t.true(registry.findHost('a')!.record.reachable, 'a was renewed');
  await registry.syncHost(syncOf('c'), ORIGIN); // c runs to start + 300 + 2 TTL
  clock.advanceTo(start + 500 + TTL);
  await settled(registry, 'a');
  t.false(registry.findHost('a')!.record.reachable, 'a lapsed at its renewed expiry');
  t.true(registry.findHost('c')!.record.reachable);
  clock.advanceTo(start + 300 + 2 * TTL);
  await settled(registry, 'c');
  t.false(registry.findHost('c')!.record.reachable, 'c, synced after the last scan, lapsed at its expiry');
  // Now no host is READY: a check finds nothing due; a host synced after it still lapses.
  clock.advance(TTL);
  await settled(registry, 'c');
  await registry.syncHost(syncOf('d'), ORIGIN);
  clock.advance(TTL);
  await settled(registry, 'd');
  t.false(registry.findHost('d')!.record.reachable, 'd, synced when no lease was due, lapsed at its expiry');
  await registry.close();
});

test('a READY write the store refuses is retried by the next keepalive, not in a loop against the store', async (t) => {
  const { registry, store, changes } = await withLapsedHost();
  t.false(registry.findHost('h')!.record.reachable);

  store.failCommits(new Error('disk full'), 1);
  const commits = store.commits;
  t.is(registry.keepAlive('h').state, 'READY', 'the agent is told READY: its lease is renewed');
  await settled(registry, 'h');
  await settled(registry, 'h');
  t.false(registry.findHost('h')!.record.reachable, 'the refused write is not written behind the agent\'s back');
  t.is(store.commits, commits + 3, 'the refused READY write and the two settling writes: no retry storm');

  registry.keepAlive('h');
  await settled(registry, 'h');
  t.true(registry.findHost('h')!.record.reachable);
  t.deepEqual(
    changes.slice(1).map((c) => c.entries.map((e) => `${e.hostId} ${e.reason}`)),
    [[`h lease expired: no keepalive or sync for ${TTL} ms`], ['h lease renewed by a keepalive']],
  );
  await registry.close();
});

test('isLeaseExpiry (the lease-expiry metric) counts lapses only, not other host or device changes', async (t) => {
  const { registry, clock, changes } = await openCore({ leaseTtlMs: TTL });
  await registry.syncHost(syncOf('h'), ORIGIN); // created: no host before
  await registry.setDraining('h', true, ORIGIN); // reachable before and after
  registry.startLeases();
  clock.advance(TTL);
  await settled(registry, 'h'); // the lapse
  await registry.setDraining('h', false, ORIGIN); // UNREACHABLE before and after
  registry.keepAlive('h'); // UNREACHABLE before, READY after
  await settled(registry, 'h');
  await registry.syncHost(syncOf('h', ['gpu0', 'gpu1']), ORIGIN); // a device added
  await registry.deleteHost('h', undefined, ORIGIN); // no host after
  const entries = changes.flatMap((c) => c.entries);
  t.deepEqual(
    entries.map((e) => `${e.change} ${e.hostId}/${e.deviceId} ${isLeaseExpiry(e)}`),
    [
      'CREATED h/ false',
      'CREATED h/gpu0 false',
      'UPDATED h/ false',
      'UPDATED h/ true',
      'UPDATED h/ false',
      'UPDATED h/ false',
      'CREATED h/gpu1 false',
      'DELETED h/gpu0 false',
      'DELETED h/gpu1 false',
      'DELETED h/ false',
    ],
  );
  await registry.close();
});

test('a keepalive of one host does not delay another host\'s lapse', async (t) => {
  const { registry, clock } = await openCore({ leaseTtlMs: TTL });
  const start = clock.now();
  await registry.syncHost(syncOf('a'), ORIGIN);
  await registry.syncHost(syncOf('b'), ORIGIN);
  registry.startLeases();
  clock.advanceTo(start + TTL / 2);
  registry.keepAlive('a'); // a now runs to 1.5 TTL; b still to 1 TTL, and nothing else is written
  clock.advanceTo(start + TTL);
  await settled(registry, 'a');
  t.false(registry.findHost('b')!.record.reachable, 'b lapsed at its own expiry');
  t.true(registry.findHost('a')!.record.reachable);
  await registry.close();
});

test('a lapsed host is written once: later checks leave it alone until it comes back', async (t) => {
  const { registry, clock, store } = await openCore({ leaseTtlMs: TTL });
  await registry.syncHost(syncOf('h'), ORIGIN);
  registry.startLeases();
  clock.advance(TTL);
  await settled(registry, 'h');
  t.false(registry.findHost('h')!.record.reachable);
  const commits = store.commits;
  clock.advance(TTL); // ten checks, and a persist with nothing renewed
  await settled(registry, 'h');
  t.is(store.commits, commits + 1, 'only the settling write');
  await registry.close();
});

// Replicas over one shared store (server/core/leases.ts, expireShared): only the duty holder
// expires, SHARED_LEASE_GRACE_MS past the expiry, after reading the renewals other replicas
// persisted. The checks skip their scan until a lease is due, and the grace is part of "due":
// a host lapsed but in its grace, or one the holder could not expire yet, must still make the
// following checks run.

async function openReplica() {
  let rig: CoreRig | undefined;
  const log = new QuietReplicasLog(() => rig!.registry);
  rig = await openCore({ leaseTtlMs: TTL, followLog: log });
  return { ...rig, log };
}

test('replicas: a lease lapses a grace after its expiry, dated at the expiry; the checks in the grace do not skip the one after it', async (t) => {
  const { registry, clock } = await openReplica();
  const start = clock.now();
  await registry.syncHost(syncOf('h'), ORIGIN);
  registry.startLeases();
  clock.advanceTo(start + TTL);
  await settled(registry, 'h');
  t.true(registry.findHost('h')!.record.reachable, 'at the TTL, in the grace: still READY');
  clock.advanceTo(start + TTL + SHARED_LEASE_GRACE_MS - 1);
  await settled(registry, 'h');
  t.true(registry.findHost('h')!.record.reachable, 'a millisecond before the grace ends: still READY');
  const lapse = nextChange(registry);
  clock.advance(1);
  const change = await lapse;
  t.false(registry.findHost('h')!.record.reachable, 'at the end of the grace: UNREACHABLE');
  t.is(change.entries[0].time, start + TTL, 'dated at the expiry, not at the end of the grace');
  await registry.close();
});

test('replicas: a lapse the holder could not expire (no duty yet) is expired by the first check once it holds the duty', async (t) => {
  const { registry, clock, log, changes } = await openReplica();
  const start = clock.now();
  log.holdsDuty = false;
  await registry.syncHost(syncOf('h'), ORIGIN);
  registry.startLeases();
  clock.advanceTo(start + TTL + SHARED_LEASE_GRACE_MS + 5 * TTL);
  // No write of this test's may come between (a write lowers the earliest expiry itself): a
  // check without the duty decides at once, so one turn of the event loop is enough to see it.
  await new Promise(setImmediate);
  t.true(registry.findHost('h')!.record.reachable, 'another replica holds the duty: this one expires nothing');
  t.is(changes.length, 1);
  log.holdsDuty = true;
  const lapse = nextChange(registry);
  clock.advance(100);
  await lapse;
  t.false(registry.findHost('h')!.record.reachable, 'the next check (100 ms) expired it');
  t.is(changes.length, 2);
  await registry.close();
});

test('replicas: a renewal another replica persisted keeps the host READY, and it lapses a grace after the renewed expiry', async (t) => {
  const { registry, clock, log } = await openReplica();
  const start = clock.now();
  await registry.syncHost(syncOf('h'), ORIGIN);
  registry.startLeases();
  // Another replica answered a keepalive half a TTL before this one's check (below).
  const renewed = start + TTL + SHARED_LEASE_GRACE_MS + TTL / 2;
  log.persisted.set('h', renewed);
  clock.advanceTo(start + TTL + SHARED_LEASE_GRACE_MS);
  await settled(registry, 'h');
  t.true(registry.findHost('h')!.record.reachable, 'renewed elsewhere: READY');
  t.is(registry.findHost('h')!.leaseExpiry, renewed);
  clock.advanceTo(renewed + SHARED_LEASE_GRACE_MS - 1);
  await settled(registry, 'h');
  t.true(registry.findHost('h')!.record.reachable, 'within the renewed lease and its grace: READY');
  const lapse = nextChange(registry);
  clock.advance(1);
  const change = await lapse;
  t.false(registry.findHost('h')!.record.reachable);
  t.is(change.entries[0].time, renewed, 'dated at the renewed expiry');
  await registry.close();
});

const HOUR = 3_600_000;

test('a wall clock stepped an hour forward lapses no lease early: a renewed host stays READY, a silent one lapses one TTL after its keepalive, dated on the new clock', async (t) => {
  const { registry, clock } = await openCore({ leaseTtlMs: TTL });
  await registry.syncHost(syncOf('kept'), ORIGIN);
  await registry.syncHost(syncOf('silent'), ORIGIN);
  registry.startLeases();
  clock.advance(400);
  registry.keepAlive('kept');
  registry.keepAlive('silent');
  clock.stepWallClock(HOUR); // NTP, or the server's VM resumed
  clock.advance(TTL - 1);
  await settled(registry, 'kept');
  await settled(registry, 'silent');
  t.true(registry.findHost('kept')!.record.reachable, 'an hour later on the wall clock, but only 999 ms since the keepalive');
  t.true(registry.findHost('silent')!.record.reachable);
  t.deepEqual(registry.keepAlive('kept'), { expireTime: clock.now() + TTL, state: 'READY' }, 'the expiry it is told is on the new wall clock');
  const lapseSeen = nextChange(registry);
  clock.advance(1);
  const lapse = await lapseSeen;
  t.false(registry.findHost('silent')!.record.reachable, 'one TTL after its keepalive: UNREACHABLE');
  t.is(lapse.entries[0].hostId, 'silent');
  t.is(lapse.entries[0].time, clock.now(), 'dated when it lapsed, read on the stepped clock');
  clock.advance(TTL - 2);
  await settled(registry, 'kept');
  t.true(registry.findHost('kept')!.record.reachable);
  await registry.close();
});

test('a wall clock stepped an hour back keeps no dead host READY: it lapses one TTL after its last keepalive, not an hour later', async (t) => {
  const { registry, clock } = await openCore({ leaseTtlMs: TTL });
  const synced = clock.now();
  await registry.syncHost(syncOf('h'), ORIGIN);
  registry.startLeases();
  clock.advance(300);
  registry.keepAlive('h');
  clock.stepWallClock(-HOUR);
  clock.advance(TTL - 1);
  await settled(registry, 'h');
  t.true(registry.findHost('h')!.record.reachable);
  const lapseSeen = nextChange(registry);
  clock.advance(1);
  const lapse = await lapseSeen;
  t.false(registry.findHost('h')!.record.reachable, 'lapsed at the TTL, though the wall clock is an hour short of the expiry it was told');
  t.is(lapse.entries[0].time, synced, 'dated no earlier than the revision before it: revision times never go back');
  t.is(registry.keepAlive('h').expireTime, clock.now() + TTL, 'a keepalive renews it on the new wall clock');
  await registry.close();
});

test('a lapse queued just before a keepalive is dropped even when the wall clock is stepped back between them', async (t) => {
  const { registry, clock, changes } = await openCore({ leaseTtlMs: TTL });
  await registry.syncHost(syncOf('h'), ORIGIN);
  registry.startLeases();
  clock.advance(TTL); // the check queues the lapse
  clock.stepWallClock(-HOUR);
  registry.keepAlive('h'); // before the lapse is planned
  await settled(registry, 'h');
  t.true(registry.findHost('h')!.record.reachable);
  t.is(changes.length, 1, 'no lapse and no READY written: the renewal came first');
  await registry.close();
});

test('after a restart, an expiry persisted by a clock that ran ahead counts for one TTL: a dead host does not stay READY until it', async (t) => {
  const first = await openCore({ leaseTtlMs: TTL });
  await first.registry.syncHost(syncOf('h'), ORIGIN);
  first.registry.startLeases();
  first.clock.stepWallClock(HOUR); // the wall clock runs an hour ahead...
  first.registry.keepAlive('h');
  await first.registry.close();
  t.deepEqual([...(await first.store.load()).leaseExpiries], [['h', first.clock.now() + TTL]]);
  first.clock.stepWallClock(-HOUR); // ...and is set right while the server is down
  const second = await first.reopen({ leaseTtlMs: TTL });
  t.is(second.registry.findHost('h')!.leaseExpiry, second.clock.now() + TTL, 'told one TTL from the restart');
  second.registry.startLeases();
  second.clock.advance(TTL - 1);
  await settled(second.registry, 'h');
  t.true(second.registry.findHost('h')!.record.reachable);
  second.clock.advance(1);
  await settled(second.registry, 'h');
  t.false(second.registry.findHost('h')!.record.reachable, 'lapsed one TTL after the restart, not an hour later');
  await second.registry.close();
});

test('replicas: a renewal persisted by a replica whose clock runs an hour ahead counts for one TTL from when it is read', async (t) => {
  const { registry, clock, log } = await openReplica();
  await registry.syncHost(syncOf('h'), ORIGIN);
  registry.startLeases();
  log.persisted.set('h', clock.now() + HOUR);
  clock.advance(TTL + SHARED_LEASE_GRACE_MS);
  await settled(registry, 'h');
  t.true(registry.findHost('h')!.record.reachable, 'renewed elsewhere: READY');
  const readAt = clock.now();
  t.is(registry.findHost('h')!.leaseExpiry, readAt + TTL, 'worth one TTL from the read, not an hour');
  clock.advance(TTL + SHARED_LEASE_GRACE_MS - 1);
  await settled(registry, 'h');
  t.true(registry.findHost('h')!.record.reachable);
  const lapseSeen = nextChange(registry);
  clock.advance(1);
  const lapse = await lapseSeen;
  t.false(registry.findHost('h')!.record.reachable, 'lapsed a TTL and a grace after the read');
  t.is(lapse.entries[0].time, readAt + TTL);
  await registry.close();
});
