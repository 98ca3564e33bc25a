// The claim state machine and capacity accounting (server/core/claims.ts), pure: create all
// or none, idempotent retries, CAPACITY_EXHAUSTED naming the device, TTL and expiry, renew,
// release, syncs that use claims up oldest first, shared budgets across sibling types, and a
// property test that random claims, releases, renewals, expiries and syncs never let claimed
// units exceed what a device or a budget has.

import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import type { Budget } from '../server/core/budgets.ts';
import { validateBudgets } from '../server/core/budgets.ts';
import {
  CLAIM_TTL,
  applySync,
  createClaim,
  emptyBook,
  expireClaims,
  freeState,
  freeUnits,
  hostUsage,
  parseClaimName,
  releaseClaim,
  renewClaim,
  unitsOf,
  validateCreateClaim,
  type ClaimBook,
  type ClaimCaller,
  type HostCapacity,
} from '../server/core/claims.ts';
import { DomainError, Violations, type ErrorReason } from '../server/core/errors.ts';
import type { Capacity } from '../server/core/model.ts';

const T0 = Date.UTC(2026, 0, 1);
/** A caller without authentication (or an admin): it may act on any claim. */
const ANYONE: ClaimCaller = { identity: 'sched-a', actsForAnyone: true };

function host(devices: Record<string, Capacity | undefined>, budgets: Budget[] = []): HostCapacity {
  return { devices: new Map(Object.entries(devices)), budgets };
}

function spec(claimId: string, devices: Record<string, number>, ttlMs?: number) {
  return validateCreateClaim({
    parent: 'hosts/h1',
    claim_id: claimId,
    devices: Object.entries(devices).map(([device, count]) => ({ device, count })),
    ttl_ms: ttlMs,
  });
}

function domainError(t: ExecutionContext, fn: () => unknown, reason: ErrorReason): DomainError {
  const error = t.throws(fn);
  t.true(error instanceof DomainError, String(error));
  t.is((error as DomainError).reason, reason, (error as Error).message);
  return error as DomainError;
}

const gpuHost = host({ gpu: { total: 2, available: 2 }, vf: { total: 1, available: 1 } });

test('a claim takes every device or none: the device that ran out is named and nothing is held', (t) => {
  const first = createClaim(emptyBook('h1'), gpuHost, spec('m1', { vf: 1 }), ANYONE, T0);
  t.true(first.created);
  t.is(first.claim.expireTimeMs, T0 + CLAIM_TTL.defaultMs, 'the default TTL is five minutes');
  const error = domainError(t, () => createClaim(first.book, gpuHost, spec('m2', { gpu: 2, vf: 1 }), ANYONE, T0), 'CAPACITY_EXHAUSTED');
  t.is(error.metadata.device, 'hosts/h1/devices/vf');
  t.is(error.metadata.free, '0');
  t.regex(error.message, /hosts\/h1\/devices\/vf: 1 unit\(s\) requested, 0 free/);
  // The failed claim reserved nothing: both gpu units are still free.
  t.is(freeUnits(gpuHost, freeState(gpuHost, first.book), 'gpu'), 2);
});

test('the same claim id and body returns the same claim; another body is ALREADY_EXISTS', (t) => {
  const first = createClaim(emptyBook('h1'), gpuHost, spec('m1', { gpu: 1 }), ANYONE, T0);
  const retry = createClaim(first.book, gpuHost, spec('m1', { gpu: 1 }), ANYONE, T0 + 1000);
  t.false(retry.created);
  t.is(retry.claim, first.claim, 'the retry gets the claim as it was created');
  t.is(hostUsage(retry.book, []).claimedByDevice.get('gpu'), 1, 'a retry holds no second unit');
  domainError(t, () => createClaim(first.book, gpuHost, spec('m1', { gpu: 2 }), ANYONE, T0), 'ALREADY_EXISTS');
  domainError(t, () => createClaim(first.book, gpuHost, spec('m1', { gpu: 1 }, 60_000), ANYONE, T0), 'ALREADY_EXISTS');
  // Device names may be full resource names or bare ids: the body is the same.
  const byName = validateCreateClaim({ parent: 'hosts/h1', claim_id: 'm1', devices: [{ device: 'hosts/h1/devices/gpu' }] });
  t.false(createClaim(first.book, gpuHost, byName, ANYONE, T0).created);
});

test('a claim belongs to its creator: another caller may not renew, release or retry it; an admin-like caller and the owner may', (t) => {
  const alice: ClaimCaller = { identity: 'scheduler:alice', actsForAnyone: false };
  const bob: ClaimCaller = { identity: 'scheduler:bob', actsForAnyone: false };
  const first = createClaim(emptyBook('h1'), gpuHost, spec('m1', { gpu: 1 }), alice, T0);
  t.is(first.claim.owner, 'scheduler:alice');
  const renew = domainError(t, () => renewClaim(first.book, 'm1', undefined, bob, T0 + 1), 'PERMISSION_DENIED');
  t.is(renew.message, 'scheduler:bob may not renew hosts/h1/claims/m1: it is held by scheduler:alice (only its owner or an admin may)');
  t.deepEqual(renew.metadata, { resource: 'hosts/h1/claims/m1', owner: 'scheduler:alice' });
  domainError(t, () => releaseClaim(first.book, 'm1', bob, T0 + 1), 'PERMISSION_DENIED');
  const retry = domainError(t, () => createClaim(first.book, gpuHost, spec('m1', { gpu: 1 }), bob, T0 + 1), 'ALREADY_EXISTS');
  t.is(retry.metadata.owner, 'scheduler:alice', 'the same body from another caller is not its retry');
  t.false(createClaim(first.book, gpuHost, spec('m1', { gpu: 1 }), alice, T0 + 1).created, 'the owner\'s retry is answered');
  t.is(renewClaim(first.book, 'm1', undefined, alice, T0 + 1).claim.expireTimeMs, T0 + 1 + CLAIM_TTL.defaultMs);
  const admin: ClaimCaller = { identity: 'admin:ops', actsForAnyone: true };
  const released = releaseClaim(first.book, 'm1', admin, T0 + 2);
  t.is(released.claim.state, 'CLAIM_STATE_RELEASED');
  t.is(released.claim.owner, 'scheduler:alice', 'an admin ends the claim; it stays the owner\'s in its record');
  // A claim stored before claims had owners ('' owner) is anyone's to end.
  const legacy: ClaimBook = { hostId: 'h1', claims: new Map([['m1', { ...first.claim, owner: '' }]]) };
  t.is(releaseClaim(legacy, 'm1', bob, T0 + 3).claim.state, 'CLAIM_STATE_RELEASED');
});

test('a device not on the host is NOT_FOUND; a device that reports no capacity is one unit, free unless claimed', (t) => {
  domainError(t, () => createClaim(emptyBook('h1'), gpuHost, spec('m1', { nic: 1 }), ANYONE, T0), 'NOT_FOUND');
  const noCapacity = host({ ap: undefined });
  t.is(unitsOf(undefined), 1);
  const first = createClaim(emptyBook('h1'), noCapacity, spec('m1', { ap: 1 }), ANYONE, T0);
  const error = domainError(t, () => createClaim(first.book, noCapacity, spec('m2', { ap: 1 }), ANYONE, T0), 'CAPACITY_EXHAUSTED');
  t.is(error.metadata.device, 'hosts/h1/devices/ap');
  // A sync that still reports no capacity does not use the claim up: it ends by release or expiry.
  t.is(applySync(first.book, noCapacity, noCapacity, T0).book, first.book);
});

test('claims expire at their TTL, dated at the expiry; renewing moves the expiry; a lapsed claim is NOT_FOUND', (t) => {
  const first = createClaim(emptyBook('h1'), gpuHost, spec('m1', { gpu: 2 }, 10_000), ANYONE, T0);
  t.is(first.claim.expireTimeMs, T0 + 10_000);
  const renewed = renewClaim(first.book, 'm1', undefined, ANYONE, T0 + 9_000);
  t.is(renewed.claim.expireTimeMs, T0 + 19_000);
  t.deepEqual(expireClaims(renewed.book, T0 + 18_999).ended, [], 'still live before its expiry');
  const expired = expireClaims(renewed.book, T0 + 30_000);
  t.is(expired.ended.length, 1);
  t.is(expired.ended[0].state, 'CLAIM_STATE_EXPIRED');
  t.is(expired.ended[0].endTimeMs, T0 + 19_000, 'dated at the expiry, not at the check');
  t.is(expired.book.claims.size, 0);
  // Every transition expires in passing: the lapsed claim neither holds units nor renews.
  const again = createClaim(renewed.book, gpuHost, spec('m2', { gpu: 2 }), ANYONE, T0 + 20_000);
  t.true(again.created);
  t.deepEqual(again.ended.map((c) => [c.claimId, c.state]), [['m1', 'CLAIM_STATE_EXPIRED']]);
  domainError(t, () => renewClaim(renewed.book, 'm1', undefined, ANYONE, T0 + 19_000), 'NOT_FOUND');
  const longer = renewClaim(first.book, 'm1', CLAIM_TTL.maxMs, ANYONE, T0);
  t.is(longer.claim.ttlMs, CLAIM_TTL.maxMs);
});

test('a sync uses up live claims only: a claim lapsed but not yet ended expires first, and is not taken as the consumed one', (t) => {
  const vf = (available: number) => host({ vf: { total: 2, available } });
  const a = createClaim(emptyBook('h1'), vf(2), spec('a', { vf: 1 }, 1_000), ANYONE, T0);
  const b = createClaim(a.book, vf(2), spec('b', { vf: 1 }, 300_000), ANYONE, T0 + 500);
  // b's migration lands: the agent reports one unit fewer, after a's TTL ran out but before the expiry pass ended it.
  const sync = applySync(b.book, vf(2), vf(1), T0 + 1_050);
  t.deepEqual(
    sync.ended.map((c) => [c.claimId, c.state, c.endTimeMs]),
    [
      ['a', 'CLAIM_STATE_EXPIRED', T0 + 1_000],
      ['b', 'CLAIM_STATE_CONSUMED', T0 + 1_050],
    ],
  );
  t.is(sync.book.claims.size, 0);
  t.is(freeUnits(vf(1), freeState(vf(1), sync.book), 'vf'), 1, 'the unit the lapsed claim held is free');
  // A lapsed claim ends even when the sync uses nothing up.
  const quiet = applySync(b.book, vf(2), vf(2), T0 + 1_050);
  t.deepEqual(quiet.ended.map((c) => [c.claimId, c.state]), [['a', 'CLAIM_STATE_EXPIRED']]);
  t.deepEqual([...quiet.book.claims.keys()], ['b']);
});

test('any placement fits one claim: up to 32 devices, up to 32 units of one device, 32 units in all; past that, the field is named', (t) => {
  const devices = (n: number, count = 1) => Array.from({ length: n }, (_, i) => ({ device: `vf${i}`, count }));
  t.is(validateCreateClaim({ parent: 'hosts/h1', claim_id: 'vm', devices: devices(32) }).devices.length, 32);
  t.is(validateCreateClaim({ parent: 'hosts/h1', claim_id: 'vm', devices: [{ device: 'gpu', count: 32 }] }).devices[0].count, 32);
  const violations = (input: Parameters<typeof validateCreateClaim>[0]) => {
    const error = t.throws(() => validateCreateClaim(input)) as DomainError;
    return error.violations.map((v) => `${v.field}: ${v.description}`);
  };
  t.deepEqual(violations({ parent: 'hosts/h1', claim_id: 'vm', devices: devices(33) }), ['devices: at most 32 devices per claim, got 33']);
  t.deepEqual(violations({ parent: 'hosts/h1', claim_id: 'vm', devices: [{ device: 'gpu', count: 33 }] }), ['devices[0].count: must be from 1 to 32']);
  t.deepEqual(violations({ parent: 'hosts/h1', claim_id: 'vm', devices: [...devices(2, 16), { device: 'gpu', count: 1 }] }), ['devices: at most 32 units per claim, got 33']);
});

test('a host holds at most 256 live claims: the next is CAPACITY_EXHAUSTED naming the host; a retry, a release or an expiry makes room', (t) => {
  const big = host({ vf: { total: 1_000_000, available: 1_000_000 } });
  let book = emptyBook('h1');
  for (let i = 0; i < 256; i++) book = createClaim(book, big, spec(`m${i}`, { vf: 1 }, i === 0 ? 1_000 : 60_000), ANYONE, T0).book;
  const full = domainError(t, () => createClaim(book, big, spec('one-more', { vf: 1 }), ANYONE, T0 + 1), 'CAPACITY_EXHAUSTED');
  t.is(full.message, 'hosts/h1 holds 256 live claims, the most one host may hold: release one or let one expire, or place the VM elsewhere');
  t.deepEqual(full.metadata, { host: 'hosts/h1', live_claims: '256', limit: '256' });
  t.false(createClaim(book, big, spec('m5', { vf: 1 }, 60_000), ANYONE, T0 + 1).created, 'a retry of a held claim is still answered');
  t.true(createClaim(releaseClaim(book, 'm7', ANYONE, T0 + 1).book, big, spec('one-more', { vf: 1 }), ANYONE, T0 + 2).created, 'after a release');
  t.true(createClaim(book, big, spec('one-more', { vf: 1 }), ANYONE, T0 + 1_000).created, 'once m0 has lapsed');
});

test('releasing frees the units at once; releasing twice is NOT_FOUND', (t) => {
  const first = createClaim(emptyBook('h1'), gpuHost, spec('m1', { gpu: 2 }), ANYONE, T0);
  domainError(t, () => createClaim(first.book, gpuHost, spec('m2', { gpu: 1 }), ANYONE, T0), 'CAPACITY_EXHAUSTED');
  const released = releaseClaim(first.book, 'm1', ANYONE, T0 + 5);
  t.is(released.claim.state, 'CLAIM_STATE_RELEASED');
  t.is(released.claim.endTimeMs, T0 + 5);
  t.true(createClaim(released.book, gpuHost, spec('m2', { gpu: 1 }), ANYONE, T0 + 6).created);
  domainError(t, () => releaseClaim(released.book, 'm1', ANYONE, T0 + 7), 'NOT_FOUND');
});

test('a sync reporting fewer available units uses up that many claimed units, oldest claim first', (t) => {
  const before = host({ vf: { total: 4, available: 3 } });
  let book = emptyBook('h1');
  book = createClaim(book, before, spec('old', { vf: 1 }), ANYONE, T0).book;
  book = createClaim(book, before, spec('mid', { vf: 1 }), ANYONE, T0 + 1).book;
  book = createClaim(book, before, spec('new', { vf: 1 }), ANYONE, T0 + 2).book;
  t.is(freeUnits(before, freeState(before, book), 'vf'), 0);
  // The same state again costs nothing and changes nothing.
  t.is(applySync(book, before, before, T0 + 3).book, book);
  // The first migration completed: the agent reports one unit fewer.
  const after = host({ vf: { total: 4, available: 2 } });
  const sync = applySync(book, before, after, T0 + 10);
  t.deepEqual(sync.ended.map((c) => [c.claimId, c.state, c.endTimeMs]), [['old', 'CLAIM_STATE_CONSUMED', T0 + 10]]);
  t.deepEqual([...sync.book.claims.keys()], ['mid', 'new']);
  t.is(freeUnits(after, freeState(after, sync.book), 'vf'), 0, 'the unit is not counted twice: still 0 free, not -1');
  // A claim of two units loses them one at a time; it stays ACTIVE while it holds any.
  const two = createClaim(emptyBook('h1'), before, spec('pair', { vf: 2 }), ANYONE, T0);
  const partly = applySync(two.book, before, after, T0 + 1);
  t.deepEqual(partly.updated.map((c) => c.devices[0].remaining), [1]);
  // Whatever the book held (claims loaded at start-up against an older figure), a sync leaves
  // claims no more units than the host reports.
  const stale = applySync(book, before, host({ vf: { total: 4, available: 1 } }), T0 + 11);
  t.deepEqual([...stale.book.claims.keys()], ['new'], 'two units fewer than before: the two oldest are used up');
  const lower = applySync(book, host({ vf: { total: 4, available: 2 } }), host({ vf: { total: 4, available: 1 } }), T0 + 11);
  t.deepEqual([...lower.book.claims.keys()], ['new'], 'one fewer than the sync before said, but three claimed of one: two used up');
  // A device that disappears uses up every claim on it.
  const gone = applySync(partly.book, after, host({}), T0 + 2);
  t.deepEqual(gone.ended.map((c) => c.state), ['CLAIM_STATE_CONSUMED']);
});

test('shared budgets: two claims on sibling types can never together exceed the parent', (t) => {
  const violations = new Violations();
  const budgets = validateBudgets(
    [{ budget_id: '0000:00:02.0/gm', parent: '0000:00:02.0', total: 1024, available: 512, consumption: { v54: 256, v58: 128 } }],
    new Set(['v54', 'v58']),
    violations,
  );
  t.true(violations.empty);
  const gvt = host({ v54: { total: 2, available: 2 }, v58: { total: 8, available: 4 } }, budgets);
  const first = createClaim(emptyBook('h1'), gvt, spec('m1', { v54: 1 }), ANYONE, T0);
  // 256 of 512 left: two V5_8 instances fit, a third does not, though the type has 4 free.
  t.is(freeUnits(gvt, freeState(gvt, first.book), 'v58'), 2);
  const second = createClaim(first.book, gvt, spec('m2', { v58: 2 }), ANYONE, T0);
  const error = domainError(t, () => createClaim(second.book, gvt, spec('m3', { v58: 1 }), ANYONE, T0), 'CAPACITY_EXHAUSTED');
  t.is(error.metadata.device, 'hosts/h1/devices/v58');
  // Within one claim, siblings compete too: one of each needs 384 of the 512.
  domainError(t, () => createClaim(emptyBook('h1'), gvt, spec('m4', { v54: 2, v58: 1 }), ANYONE, T0), 'CAPACITY_EXHAUSTED');
  // A sync that reports less of the budget left than the claims draw uses claims up, oldest first.
  const shrunk = host({ v54: { total: 2, available: 2 }, v58: { total: 8, available: 4 } }, [{ ...budgets[0], available: 256 }]);
  const sync = applySync(second.book, gvt, shrunk, T0 + 1);
  t.deepEqual(sync.ended.map((c) => c.claimId), ['m1']);
  t.is(hostUsage(sync.book, shrunk.budgets).claimedByBudget.get('0000:00:02.0/gm'), 256);
});

test('bad claim requests name every offending field', (t) => {
  const error = domainError(
    t,
    () =>
      validateCreateClaim({
        parent: 'hosts/Bad Host',
        claim_id: '',
        devices: [{ device: 'hosts/other/devices/x' }, { device: 'gpu', count: 33 }, { device: 'vf' }, { device: 'vf' }],
        ttl_ms: 999,
      }),
    'INVALID_ARGUMENT',
  );
  t.deepEqual(
    error.violations.map((v) => v.field),
    ['parent', 'claim_id', 'ttl_ms', 'devices[0].device', 'devices[1].count', 'devices[3].device'],
  );
  t.regex(error.violations.find((v) => v.field === 'ttl_ms')!.description, /1000 to 3600000/);
  t.deepEqual(parseClaimName('hosts/h1/claims/mig-42', 'name'), { hostId: 'h1', claimId: 'mig-42' });
  domainError(t, () => parseClaimName('hosts/h1/devices/x', 'name'), 'INVALID_ARGUMENT');
  const budgetViolations = new Violations();
  validateBudgets([{ budget_id: 'b', total: 5, available: 6, consumption: { nope: 0 } }, { budget_id: 'b', consumption: {} }], new Set(['vf']), budgetViolations);
  t.deepEqual(budgetViolations.list.map((v) => v.field), [
    'budgets[0].available',
    'budgets[0].consumption["nope"]',
    'budgets[0].consumption["nope"]',
    'budgets[1].budget_id',
    'budgets[1].consumption',
  ]);
});

// ---------------------------------------------------------------------------------------
// Property: whatever happens, claims hold no more than devices and budgets have.

type Op =
  | { kind: 'create'; id: number; devices: [number, number][]; ttl: number }
  | { kind: 'release'; id: number }
  | { kind: 'renew'; id: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'sync'; available: number[]; budget: number; perUnit: [number, number] };

const DEVICES = ['d0', 'd1', 'd2'];
const TOTAL = [4, 2, 1];

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('create' as const),
      id: fc.integer({ min: 0, max: 5 }),
      devices: fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 3 })), { minLength: 1, maxLength: 3, selector: ([d]) => d }),
      ttl: fc.constantFrom(1_000, 5_000, 60_000),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const), id: fc.integer({ min: 0, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('renew' as const), id: fc.integer({ min: 0, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 8_000 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('sync' as const),
      available: fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 1 })),
      budget: fc.integer({ min: 0, max: 8 }),
      perUnit: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    }),
  },
);

function capacityOf(available: readonly number[], budget: number, perUnit: readonly [number, number]): HostCapacity {
  // d2 reports no capacity when its figure is 1: one unit either way, both paths exercised.
  const devices: Record<string, Capacity | undefined> = {};
  DEVICES.forEach((id, i) => (devices[id] = i === 2 && available[i] === 1 ? undefined : { total: TOTAL[i], available: Math.min(available[i], TOTAL[i]) }));
  const budgets: Budget[] = [{ budgetId: 'parent', parent: 'p', total: 8, available: budget, consumption: new Map([['d0', perUnit[0]], ['d1', perUnit[1]]]) }];
  return host(devices, budgets);
}

function overcommit(book: ClaimBook, capacity: HostCapacity): string | undefined {
  const usage = hostUsage(book, capacity.budgets);
  for (const [deviceId, claimed] of usage.claimedByDevice) {
    const units = capacity.devices.has(deviceId) ? unitsOf(capacity.devices.get(deviceId)) : 0;
    if (claimed > units) return `${deviceId}: ${claimed} claimed of ${units}`;
  }
  for (const budget of capacity.budgets) {
    const drawn = usage.claimedByBudget.get(budget.budgetId) ?? 0;
    if (drawn > budget.available) return `${budget.budgetId}: ${drawn} drawn of ${budget.available}`;
  }
  return undefined;
}

test('property: random claims, releases, renewals, expiries and syncs never exceed capacity or budgets', (t) => {
  let successes = 0;
  let exhausted = 0;
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), (ops) => {
      let capacity = capacityOf([4, 2, 1], 8, [2, 3]);
      let book = emptyBook('h1');
      let now = T0;
      for (const op of ops) {
        const before = book;
        try {
          if (op.kind === 'create') {
            const devices = Object.fromEntries(op.devices.map(([d, n]) => [DEVICES[d], n]));
            const outcome = createClaim(book, capacity, spec(`c${op.id}`, devices, op.ttl), ANYONE, now);
            if (outcome.created) successes++;
            book = outcome.book;
          } else if (op.kind === 'release') {
            book = releaseClaim(book, `c${op.id}`, ANYONE, now).book;
          } else if (op.kind === 'renew') {
            book = renewClaim(book, `c${op.id}`, undefined, ANYONE, now).book;
          } else if (op.kind === 'advance') {
            now += op.ms;
            book = expireClaims(book, now).book;
          } else {
            const next = capacityOf(op.available, op.budget, op.perUnit);
            book = applySync(book, capacity, next, now).book;
            capacity = next;
          }
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          if (error.reason === 'CAPACITY_EXHAUSTED') exhausted++;
          else if (error.reason !== 'NOT_FOUND' && error.reason !== 'ALREADY_EXISTS') throw error;
          if (book !== before) throw new Error('a failed call changed the book');
        }
        const problem = overcommit(book, capacity);
        if (problem) throw new Error(`over-committed after ${op.kind}: ${problem}`);
        if (op.kind === 'advance') {
          for (const claim of book.claims.values()) {
            if (claim.expireTimeMs <= now) throw new Error(`lapsed claim ${claim.claimId} is still live`);
          }
        }
      }
      return true;
    }),
    { numRuns: 500, seed: 7 },
  );
  t.true(successes > 100 && exhausted > 100, `the runs exercised both outcomes (${successes} created, ${exhausted} exhausted)`);
});
