// A property of claims wired into the registry (fast-check): whatever random sequence of host
// syncs (each with or without a random shared budget over some of the host's devices), claim
// creates, releases, renewals, expiries (the manual clock moving) and restarts (the registry
// reopened on the same in-memory store) happens, the units live claims hold on a device never
// exceed what the device has (a device that reports no capacity is one unit), the amounts
// they draw from a shared budget never exceed what it has available, no device shows more
// free units than a new claim could take, a restart changes no claim, and the registry's count
// matches the claims it lists. The same across a restart on SQLite is in
// test/integration-placement.test.ts and test/integration-budgets.test.ts.

import test from 'ava';
import fc from 'fast-check';
import { validateCreateClaim } from '../server/core/claims.ts';
import type { BudgetInput } from '../server/core/budgets.ts';
import { DomainError } from '../server/core/errors.ts';
import { openCore, ORIGIN, syncOf, type CoreRig, ANYONE } from './helpers/core.ts';

const HOSTS = ['h0', 'h1'];
const DEVICES = ['d0', 'd1', 'd2'];

type Command =
  | { kind: 'sync'; host: string; available: (number | null)[]; budget: Budget | null }
  | { kind: 'create'; host: string; id: string; devices: { device: string; count: number }[]; ttl: number }
  | { kind: 'release'; host: string; id: string }
  | { kind: 'renew'; host: string; id: string }
  | { kind: 'advance'; ms: number }
  | { kind: 'restart' };

/** A shared budget: how much is available, and what a unit of each device uses (null: does not draw on it). */
interface Budget {
  available: number;
  perUnit: (number | null)[];
}

const host = fc.constantFrom(...HOSTS);
const budget: fc.Arbitrary<Budget> = fc
  .record({
    available: fc.integer({ min: 0, max: 8 }),
    perUnit: fc.array(fc.option(fc.integer({ min: 1, max: 3 })), { minLength: 3, maxLength: 3 }),
  })
  .filter((b) => b.perUnit.some((p) => p !== null));

function budgetsOf(b: Budget | null): BudgetInput[] {
  if (!b) return [];
  const consumption = Object.fromEntries(DEVICES.flatMap((d, i) => (b.perUnit[i] === null ? [] : [[d, b.perUnit[i]!]])));
  return [{ budget_id: 'gpu/gm', parent: 'gpu', total: 8, available: b.available, consumption }];
}
const id = fc.constantFrom('a', 'b', 'c', 'd', 'e');
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({
    kind: fc.constant('sync' as const),
    host,
    available: fc.array(fc.option(fc.integer({ min: 0, max: 4 })), { minLength: 3, maxLength: 3 }),
    budget: fc.option(budget),
  }),
  fc.record({
    kind: fc.constant('create' as const),
    host,
    id,
    devices: fc.uniqueArray(fc.record({ device: fc.constantFrom(...DEVICES), count: fc.integer({ min: 1, max: 3 }) }), {
      minLength: 1,
      maxLength: 3,
      selector: (d) => d.device,
    }),
    ttl: fc.constantFrom(1_000, 5_000, 60_000),
  }),
  fc.record({ kind: fc.constant('release' as const), host, id }),
  fc.record({ kind: fc.constant('renew' as const), host, id }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 8_000 }) }),
  fc.constant({ kind: 'restart' as const }),
);

/** Domain refusals (capacity, conflicts, unknown claims) are expected; anything else is a bug. */
async function tolerate(work: Promise<unknown>): Promise<void> {
  await work.catch((error: unknown) => {
    if (!(error instanceof DomainError)) throw error;
  });
}

function unitsOf(rig: CoreRig, hostId: string, deviceId: string): number {
  const device = rig.registry.findDevice(hostId, deviceId);
  if (!device) return 0;
  return device.record.capacity ? device.record.capacity.available : 1;
}

function snapshot(rig: CoreRig) {
  return rig.registry
    .listClaims({ hostId: undefined, claimId: undefined, after: undefined, limit: 1000 })
    .map((c) => JSON.stringify([c.hostId, c.claimId, c.devices, c.expireTimeMs, c.createRevision]));
}

function checkInvariant(rig: CoreRig): void {
  const claims = rig.registry.listClaims({ hostId: undefined, claimId: undefined, after: undefined, limit: 1000 });
  for (const hostId of HOSTS) {
    for (const deviceId of DEVICES) {
      const claimed = rig.registry.claimedOn(hostId, deviceId);
      const units = unitsOf(rig, hostId, deviceId);
      if (claimed > units) throw new Error(`${hostId}/${deviceId}: ${claimed} units claimed of ${units}`);
      const listed = claims
        .filter((c) => c.hostId === hostId)
        .flatMap((c) => c.devices)
        .filter((d) => d.deviceId === deviceId)
        .reduce((sum, d) => sum + d.remaining, 0);
      if (listed !== claimed) throw new Error(`${hostId}/${deviceId}: listed claims hold ${listed}, the count says ${claimed}`);
    }
  }
  for (const claim of claims) {
    if (claim.devices.some((d) => d.remaining > d.count || d.remaining < 0)) throw new Error(`claim ${claim.claimId} holds more than it took`);
  }
  for (const hostId of HOSTS) {
    const host = rig.registry.findHost(hostId)!;
    for (const b of host.record.budgets ?? []) {
      const drawn = claims
        .filter((c) => c.hostId === hostId)
        .flatMap((c) => c.devices)
        .reduce((sum, d) => sum + d.remaining * (b.consumption.get(d.deviceId) ?? 0), 0);
      if (drawn > b.available) throw new Error(`${hostId}: claims draw ${drawn} of budget ${b.budgetId}, which has ${b.available}`);
      const claimedOfBudget = rig.registry.budgetClaims(host).get(b.budgetId) ?? 0;
      if (claimedOfBudget !== drawn) throw new Error(`${hostId}: the budget shows ${claimedOfBudget} claimed, claims draw ${drawn}`);
      for (const [deviceId, perUnit] of b.consumption) {
        const device = rig.registry.findDevice(hostId, deviceId)!;
        const free = rig.registry.freeUnitsOf(device);
        if (drawn + free * perUnit > b.available) throw new Error(`${hostId}/${deviceId}: ${free} free units would overdraw ${b.budgetId}`);
      }
    }
  }
}

test('claimed units never exceed capacity nor a shared budget through syncs, claims, releases, expiries and restarts', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 40 }), async (commands) => {
      let rig = await openCore();
      rig.registry.startLeases();
      const initial = budgetsOf({ available: 4, perUnit: [1, 2, null] });
      for (const hostId of HOSTS) await rig.registry.syncHost(syncOf(hostId, DEVICES.map((d) => ({ id: d, available: 2 })), {}, initial), ORIGIN);
      try {
        for (const c of commands) {
          if (c.kind === 'sync') {
            const devices = DEVICES.map((d, i) => (c.available[i] === null ? d : { id: d, available: c.available[i]! }));
            await rig.registry.syncHost(syncOf(c.host, devices, {}, budgetsOf(c.budget)), ORIGIN);
          } else if (c.kind === 'create') {
            const spec = validateCreateClaim({ parent: `hosts/${c.host}`, claim_id: c.id, devices: c.devices, ttl_ms: c.ttl });
            await tolerate(rig.registry.createClaim(spec, ORIGIN, ANYONE));
          } else if (c.kind === 'release') {
            await tolerate(rig.registry.releaseClaim(c.host, c.id, ORIGIN, ANYONE));
          } else if (c.kind === 'renew') {
            await tolerate(rig.registry.renewClaim(c.host, c.id, undefined, ORIGIN, ANYONE));
          } else if (c.kind === 'advance') {
            rig.clock.advance(c.ms);
          } else {
            const before = snapshot(rig);
            rig = await rig.reopen();
            if (JSON.stringify(snapshot(rig)) !== JSON.stringify(before)) throw new Error('a restart changed the claims');
            rig.registry.startLeases();
          }
          checkInvariant(rig);
        }
      } finally {
        await rig.registry.close();
      }
    }),
    { numRuns: 60 },
  );
  t.pass();
});
