// Claims wired into the registry (claims-registry.ts): created, renewed, released, expired and
// consumed claims are history entries with actor and reason and events on the change feed;
// they survive a restart; two creates racing for the last unit never both win; a sync that
// reports fewer units uses claims up, and a same-state sync stays free. On the in-memory store
// with a manual clock (test/helpers/core.ts).

import test from 'ava';
import { validateCreateClaim } from '../server/core/claims.ts';
import { DomainError } from '../server/core/errors.ts';
import { historyQuery } from '../server/core/store.ts';
import { openCore, ORIGIN, syncOf, ANYONE } from './helpers/core.ts';

const spec = (claimId: string, devices: { device: string; count?: number }[], ttl_ms?: number) =>
  validateCreateClaim({ parent: 'hosts/h1', claim_id: claimId, devices, ttl_ms });

async function claimEntries(registry: Awaited<ReturnType<typeof openCore>>['registry']) {
  const all = await registry.listHistory(historyQuery({ hostId: 'h1', limit: 1000 }));
  return all.filter((e) => e.deviceId.startsWith('claims/'));
}

test('a claim is created once, retried safely, refused with another body, and recorded', async (t) => {
  const rig = await openCore();
  const { registry } = rig;
  await registry.syncHost(syncOf('h1', [{ id: 'gpu0', available: 2 }]), ORIGIN);
  const first = await registry.createClaim(spec('mig-1', [{ device: 'gpu0' }]), { actor: 'sched-a', reason: 'migrate vm1' }, ANYONE);
  t.true(first.created);
  t.is(first.claim.state, 'CLAIM_STATE_ACTIVE');
  t.is(first.claim.createRevision, first.revision);
  t.is(registry.claimedOn('h1', 'gpu0'), 1);
  const retry = await registry.createClaim(spec('mig-1', [{ device: 'gpu0' }]), ORIGIN, ANYONE);
  t.false(retry.created);
  t.is(retry.revision, first.revision, 'a retry writes nothing');
  t.is(registry.claimedOn('h1', 'gpu0'), 1);
  const other = await t.throwsAsync(registry.createClaim(spec('mig-1', [{ device: 'gpu0', count: 2 }]), ORIGIN, ANYONE));
  t.is((other as DomainError).reason, 'ALREADY_EXISTS');
  const [entry] = await claimEntries(registry);
  t.is(entry.change, 'CREATED');
  t.is(entry.actor, 'sched-a');
  t.is(entry.reason, 'migrate vm1');
  t.is(entry.after?.kind, 'claim');
  t.truthy(entry.hash);
  t.true(rig.changes.some((c) => c.entries.some((e) => e.deviceId === 'claims/mig-1')), 'the change feed carried it');
  t.true((await registry.verifyHistory(undefined)).intact, 'claim entries are chained');
});

test('two creates racing for the last unit: exactly one wins, the other is CAPACITY_EXHAUSTED naming the device', async (t) => {
  const { registry } = await openCore();
  await registry.syncHost(syncOf('h1', [{ id: 'gpu0', available: 1 }]), ORIGIN);
  const results = await Promise.allSettled([
    registry.createClaim(spec('a', [{ device: 'gpu0' }]), ORIGIN, ANYONE),
    registry.createClaim(spec('b', [{ device: 'gpu0' }]), ORIGIN, ANYONE),
  ]);
  t.is(results.filter((r) => r.status === 'fulfilled').length, 1);
  const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  t.is((lost.reason as DomainError).reason, 'CAPACITY_EXHAUSTED');
  t.regex((lost.reason as DomainError).message, /hosts\/h1\/devices\/gpu0/);
  t.is(registry.claimedOn('h1', 'gpu0'), 1);
});

test('all or none: one device short refuses the whole claim', async (t) => {
  const { registry } = await openCore();
  await registry.syncHost(syncOf('h1', [{ id: 'gpu0', available: 2 }, { id: 'vf0', available: 0 }]), ORIGIN);
  await t.throwsAsync(registry.createClaim(spec('x', [{ device: 'gpu0' }, { device: 'vf0' }]), ORIGIN, ANYONE), { message: /vf0/ });
  t.is(registry.claimedOn('h1', 'gpu0'), 0);
  t.deepEqual(registry.listClaims({ hostId: undefined, claimId: undefined, after: undefined, limit: 10 }), []);
});

test('release and expiry end a claim with a DELETED entry saying how; renew moves the expiry', async (t) => {
  const { registry, clock } = await openCore();
  registry.startLeases();
  await registry.syncHost(syncOf('h1', [{ id: 'gpu0', available: 4 }]), ORIGIN);
  await registry.createClaim(spec('r', [{ device: 'gpu0' }], 10_000), ORIGIN, ANYONE);
  await registry.createClaim(spec('e', [{ device: 'gpu0' }], 10_000), ORIGIN, ANYONE);
  const released = await registry.releaseClaim('h1', 'r', { actor: 'sched', reason: 'migration done' }, ANYONE);
  t.is(released.claim.state, 'CLAIM_STATE_RELEASED');
  t.is(registry.claimedOn('h1', 'gpu0'), 1);
  clock.advance(5_000);
  const renewed = await registry.renewClaim('h1', 'e', undefined, ORIGIN, ANYONE);
  t.is(renewed.claim.expireTimeMs, clock.now() + 10_000);
  clock.advance(9_999);
  t.is(registry.claimedOn('h1', 'gpu0'), 1);
  const expiry = new Promise<void>((resolve) => {
    const stop = registry.subscribe((change) => {
      if (change.entries.some((e) => e.after?.kind === 'claim' && e.after.claim.state === 'CLAIM_STATE_EXPIRED')) {
        stop();
        resolve();
      }
    });
  });
  clock.advance(200);
  await expiry;
  t.is(registry.claimedOn('h1', 'gpu0'), 0);
  t.throws(() => registry.getClaim('h1', 'e'), { message: /hosts\/h1\/claims\/e/ });
  const ends = (await claimEntries(registry)).filter((e) => e.change === 'DELETED');
  t.deepEqual(
    ends.map((e) => [e.deviceId, e.after?.kind === 'claim' && e.after.claim.state, e.actor, e.reason]),
    [
      ['claims/r', 'CLAIM_STATE_RELEASED', 'sched', 'migration done'],
      ['claims/e', 'CLAIM_STATE_EXPIRED', 'devcompat', 'claim expired'],
    ],
  );
  await registry.close();
});

test('claims survive a restart, in creation order; a claim that lapsed meanwhile expires at start-up', async (t) => {
  const rig = await openCore();
  await rig.registry.syncHost(syncOf('h1', [{ id: 'gpu0', available: 3 }]), ORIGIN);
  await rig.registry.createClaim(spec('z-first', [{ device: 'gpu0' }], 60_000), ORIGIN, ANYONE);
  await rig.registry.createClaim(spec('a-second', [{ device: 'gpu0' }], 1_000), ORIGIN, ANYONE);
  const again = await rig.reopen();
  t.is(again.registry.claimedOn('h1', 'gpu0'), 2);
  t.is(again.registry.getClaim('h1', 'z-first').state, 'CLAIM_STATE_ACTIVE');
  // The oldest claim is used up first by a sync reporting one unit fewer.
  await again.registry.syncHost(syncOf('h1', [{ id: 'gpu0', available: 2 }]), ORIGIN);
  t.throws(() => again.registry.getClaim('h1', 'z-first'));
  t.is(again.registry.getClaim('h1', 'a-second').devices[0].remaining, 1);
  again.clock.advance(5_000);
  const third = await again.reopen();
  const expired = new Promise<void>((resolve) => third.registry.subscribe(() => resolve()));
  third.registry.startLeases();
  await expired;
  t.is(third.registry.claimedOn('h1', 'gpu0'), 0);
  await third.registry.close();
});

test('a sync reporting fewer units uses claims up, oldest first; a same-state sync is free', async (t) => {
  const { registry } = await openCore();
  await registry.syncHost(syncOf('h1', [{ id: 'gpu0', available: 4 }]), ORIGIN);
  await registry.createClaim(spec('old', [{ device: 'gpu0', count: 2 }]), ORIGIN, ANYONE);
  await registry.createClaim(spec('new', [{ device: 'gpu0' }]), ORIGIN, ANYONE);
  const same = await registry.syncHost(syncOf('h1', [{ id: 'gpu0', available: 4 }]), ORIGIN);
  t.false(same.changed);
  t.is(registry.claimedOn('h1', 'gpu0'), 3);
  await registry.syncHost(syncOf('h1', [{ id: 'gpu0', available: 3 }]), { actor: 'agent', reason: 'instance created' });
  t.is(registry.getClaim('h1', 'old').devices[0].remaining, 1);
  t.is(registry.claimedOn('h1', 'gpu0'), 2);
  // Two units fewer: the old claim's last unit, then the new claim's.
  await registry.syncHost(syncOf('h1', [{ id: 'gpu0', available: 1 }]), ORIGIN);
  t.throws(() => registry.getClaim('h1', 'old'));
  t.throws(() => registry.getClaim('h1', 'new'));
  t.is(registry.claimedOn('h1', 'gpu0'), 0);
  const ends = (await claimEntries(registry)).filter((e) => e.change === 'DELETED');
  t.deepEqual(
    ends.map((e) => [e.deviceId, e.after?.kind === 'claim' && e.after.claim.state]),
    [
      ['claims/old', 'CLAIM_STATE_CONSUMED'],
      ['claims/new', 'CLAIM_STATE_CONSUMED'],
    ],
  );
});

test('ListClaims pages go in (host, claim id) order from their cursor, while hosts gain their first claim and lose their last between pages', async (t) => {
  const { registry } = await openCore();
  const claim = (host: string, id: string) =>
    registry.createClaim(validateCreateClaim({ parent: `hosts/${host}`, claim_id: id, devices: [{ device: 'gpu0' }] }), ORIGIN, ANYONE);
  for (const host of ['d', 'b', 'f', 'a']) {
    await registry.syncHost(syncOf(host, [{ id: 'gpu0', available: 4 }]), ORIGIN);
    await claim(host, 'm2');
    await claim(host, 'm1');
  }
  for (const host of ['c', 'e']) await registry.syncHost(syncOf(host, [{ id: 'gpu0', available: 4 }]), ORIGIN);
  const page = (after: { hostId: string; claimId: string } | undefined) =>
    registry.listClaims({ hostId: undefined, claimId: undefined, after, limit: 3 }).map((c) => `${c.hostId}/${c.claimId}`);
  t.deepEqual(page(undefined), ['a/m1', 'a/m2', 'b/m1']);
  // Between pages: c gains a claim (after the cursor: listed), a loses its last ones (before it).
  await claim('c', 'm9');
  await registry.releaseClaim('a', 'm1', ORIGIN, ANYONE);
  await registry.releaseClaim('a', 'm2', ORIGIN, ANYONE);
  t.deepEqual(page({ hostId: 'b', claimId: 'm1' }), ['b/m2', 'c/m9', 'd/m1']);
  // A cursor on a host that has no claim any more, or never had one, starts at the next host.
  await claim('e', 'm0');
  t.deepEqual(page({ hostId: 'd', claimId: 'm2' }), ['e/m0', 'f/m1', 'f/m2']);
  t.deepEqual(page({ hostId: 'a', claimId: 'zz' }), ['b/m1', 'b/m2', 'c/m9']);
  t.deepEqual(page({ hostId: 'f', claimId: 'm2' }), []);
});

// The wall clock may be stepped (NTP, a resumed VM): a claim lapses one TTL after its creation
// or renewal on the clock's elapsed time, as a lease does (test/core-leases.test.ts).
const HOUR = 3_600_000;

/** Resolves with the first revision that ends a claim as EXPIRED. */
function nextClaimExpiry(registry: Awaited<ReturnType<typeof openCore>>['registry']) {
  return new Promise<{ time: number; endTimeMs: number | undefined }>((resolve) => {
    const stop = registry.subscribe((change) => {
      for (const e of change.entries) {
        if (e.after?.kind === 'claim' && e.after.claim.state === 'CLAIM_STATE_EXPIRED') {
          stop();
          resolve({ time: e.time, endTimeMs: e.after.claim.endTimeMs });
        }
      }
    });
  });
}

test('a wall clock stepped an hour forward expires no claim early: the claim, one a sync used units of, holds its units until one TTL after its creation', async (t) => {
  const { registry, clock } = await openCore();
  registry.startLeases();
  await registry.syncHost(syncOf('h1', [{ id: 'gpu0', available: 4 }]), ORIGIN);
  await registry.createClaim(spec('mig', [{ device: 'gpu0', count: 2 }], 10_000), ORIGIN, ANYONE);
  await registry.createClaim(spec('rest', [{ device: 'gpu0', count: 2 }], 60_000), ORIGIN, ANYONE);
  clock.advance(1_000);
  clock.stepWallClock(HOUR); // NTP, or the server's VM resumed
  // The migration lands after the step: one unit used up, the claim keeps its TTL.
  await registry.syncHost(syncOf('h1', [{ id: 'gpu0', available: 3 }]), ORIGIN);
  clock.advance(8_999);
  t.is(registry.getClaim('h1', 'mig').devices[0].remaining, 1, 'an hour later on the wall clock, 9,999 ms after its creation: live');
  t.is(registry.claimedOn('h1', 'gpu0'), 3);
  const refused = await t.throwsAsync(registry.createClaim(spec('other', [{ device: 'gpu0' }]), ORIGIN, ANYONE));
  t.is((refused as DomainError).reason, 'CAPACITY_EXHAUSTED', 'the claimed units are not handed to another scheduler');
  const expiry = nextClaimExpiry(registry);
  clock.advance(100);
  const { time } = await expiry;
  t.is(time, clock.now(), 'expired one TTL after its creation, dated on the stepped clock');
  t.throws(() => registry.getClaim('h1', 'mig'));
  t.is(registry.getClaim('h1', 'rest').state, 'CLAIM_STATE_ACTIVE', 'the longer claim lives on');
  t.is(registry.claimedOn('h1', 'gpu0'), 2);
  await registry.close();
});

test('a wall clock stepped an hour back keeps no claim past its TTL: it expires on time, ended when its expiry is written', async (t) => {
  const { registry, clock } = await openCore();
  registry.startLeases();
  await registry.syncHost(syncOf('h1', [{ id: 'gpu0', available: 1 }]), ORIGIN);
  await registry.createClaim(spec('mig', [{ device: 'gpu0' }], 10_000), ORIGIN, ANYONE);
  const created = clock.now();
  clock.advance(5_000);
  clock.stepWallClock(-HOUR);
  clock.advance(4_999);
  t.is(registry.claimedOn('h1', 'gpu0'), 1);
  const expiry = nextClaimExpiry(registry);
  clock.advance(100);
  const { time, endTimeMs } = await expiry;
  t.is(registry.claimedOn('h1', 'gpu0'), 0, 'free at the TTL, though the wall clock is an hour short of the expiry');
  t.is(endTimeMs, time, 'ended when its expiry was written, not at an expiry the wall clock has not reached');
  t.is(time, created, 'dated no earlier than the revision before it: revision times never go back');
  const again = await registry.createClaim(spec('next', [{ device: 'gpu0' }], 10_000), ORIGIN, ANYONE);
  t.true(again.created);
  // Dated at the revision's time, which does not go back with the clock: its stated expiry is
  // ahead of the wall clock, but it too holds its unit for one TTL, no longer.
  t.is(again.claim.expireTimeMs, again.claim.createTimeMs + 10_000);
  clock.advance(9_950);
  t.is(registry.claimedOn('h1', 'gpu0'), 1);
  const second = nextClaimExpiry(registry);
  clock.advance(100);
  await second;
  t.is(registry.claimedOn('h1', 'gpu0'), 0, 'one TTL after its creation');
  await registry.close();
});

test('a renewal after the wall clock stepped back holds the claim one TTL from the renewal, though it states the expiry it had', async (t) => {
  const { registry, clock } = await openCore();
  registry.startLeases();
  await registry.syncHost(syncOf('h1', [{ id: 'gpu0', available: 1 }]), ORIGIN);
  const created = await registry.createClaim(spec('mig', [{ device: 'gpu0' }], 10_000), ORIGIN, ANYONE);
  clock.stepWallClock(-HOUR);
  clock.advance(6_000);
  // Revision times stand still until the wall clock catches up: the renewal is dated as the
  // creation was, so its stated expiry is the same.
  const renewed = await registry.renewClaim('h1', 'mig', undefined, ORIGIN, ANYONE);
  t.is(renewed.claim.expireTimeMs, created.claim.expireTimeMs);
  clock.advance(9_900);
  t.is(registry.claimedOn('h1', 'gpu0'), 1, '15.9 s after its creation, 9.9 s after its renewal: held');
  const expiry = nextClaimExpiry(registry);
  clock.advance(200);
  await expiry;
  t.is(registry.claimedOn('h1', 'gpu0'), 0, 'one TTL after the renewal');
  await registry.close();
});

test('after a restart, a claim expiry persisted by a clock that ran ahead counts for one TTL, not an hour', async (t) => {
  const first = await openCore();
  await first.registry.syncHost(syncOf('h1', [{ id: 'gpu0', available: 1 }]), ORIGIN);
  first.clock.stepWallClock(HOUR); // the wall clock runs an hour ahead...
  await first.registry.createClaim(spec('mig', [{ device: 'gpu0' }], 10_000), ORIGIN, ANYONE);
  first.clock.stepWallClock(-HOUR); // ...and is set right while the server is down
  const second = await first.reopen();
  second.registry.startLeases();
  second.clock.advance(9_900);
  t.is(second.registry.claimedOn('h1', 'gpu0'), 1);
  const expiry = nextClaimExpiry(second.registry);
  second.clock.advance(200);
  await expiry;
  t.is(second.registry.claimedOn('h1', 'gpu0'), 0, 'expired one TTL after the restart');
  await second.registry.close();
});
