// Shared budgets through the real client against a real server on a real SQLite file
// (docs/model.md, "Shared budgets"): two sibling mdev types of one parent GPU draw on one
// graphics-memory budget, so that claims on both never together exceed it; the budget is part
// of the host (GetHost, ListHosts, history), survives a restart, is read at a past revision,
// and bad budgets are refused with the field named and nothing stored.

import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import type { Budget, DevcompatClient, DeviceSpec } from '../client/client.ts';
import { startTestServer } from './helpers/server.ts';
import { collect, gvt, historyOf, rejectsWith } from './helpers/integration.ts';

// GVT-g's types as the kernel defines them (drivers/gpu/drm/i915/gvt/vgpu.c): V5_4 uses
// 128 MiB of low graphics memory per instance, V5_8 64 MiB.
const V5_4 = gvt('1.2.0');
const V5_8 = gvt('1.2.0', { type: 'i915-GVTg_V5_8' });

function devices(available54: number, available58: number): DeviceSpec[] {
  return [
    { device_id: 'v54', descriptor: V5_4, capacity: { total: 2, available: available54 } },
    { device_id: 'v58', descriptor: V5_8, capacity: { total: 4, available: available58 } },
  ];
}

/** The parent's low GM: 256 MiB free of 448 reported, V5_4 uses 128 a unit, V5_8 64. */
function lowGm(available = 256): Budget {
  return { budget_id: '0000:00:02.0/low_gm', parent: '0000:00:02.0', total: 448, available, consumption: { v54: 128, v58: 64 } };
}

async function freeUnits(client: DevcompatClient, asOf: { asOfRevision?: string } = {}): Promise<Record<string, number | undefined>> {
  const out: Record<string, number | undefined> = {};
  for await (const device of client.listDevices({ host: 'hosts/gpu' }, asOf)) out[device.name.split('/').at(-1)!] = device.free_units;
  return out;
}

test('claims on two sibling types never together exceed their shared budget; the refusal names it', async (t) => {
  const { client, restart } = await startTestServer(t, { client: { actor: 'scheduler-1' } });
  const synced = await client.syncHost({ name: 'hosts/gpu', devices: devices(2, 4), budgets: [lowGm()] });
  t.deepEqual(
    synced.host.budgets?.map((b) => [b.budget!.budget_id, b.budget!.total, b.budget!.available, b.budget!.consumption, b.claimed]),
    [['0000:00:02.0/low_gm', '448', '256', { v54: '128', v58: '64' }, '0']],
  );
  t.deepEqual(await freeUnits(client), { v54: 2, v58: 4 }, 'each type alone could use the whole budget');

  // One V5_4 unit (128) leaves 128: one more V5_4 or two V5_8, not three.
  await client.claims.create('gpu', 'mig-1', [{ device: 'v54' }]);
  t.deepEqual(await freeUnits(client), { v54: 1, v58: 2 }, 'a claim on one type lowers what its sibling can take');
  const exhausted = await rejectsWith(t, client.claims.create('gpu', 'mig-2', [{ device: 'v58', count: 3 }]), grpc.status.ABORTED);
  t.is(exhausted.reason, 'CAPACITY_EXHAUSTED');
  t.is(exhausted.metadata.device, 'hosts/gpu/devices/v58');
  t.is(exhausted.metadata.budget, '0000:00:02.0/low_gm');
  t.is(exhausted.metadata.free, '2');
  t.regex(exhausted.message, /shared budget "0000:00:02\.0\/low_gm"/);
  // Both types in one claim: each fits alone, together they do not.
  const together = await rejectsWith(t, client.claims.create('gpu', 'mig-3', [{ device: 'v54' }, { device: 'v58', count: 2 }]), grpc.status.ABORTED);
  t.is(together.metadata.budget, '0000:00:02.0/low_gm');

  await client.claims.create('gpu', 'mig-4', [{ device: 'v58', count: 2 }]);
  t.deepEqual(await freeUnits(client), { v54: 0, v58: 0 }, 'the budget is used up: neither type has a unit free');
  const host = await client.getHost('hosts/gpu');
  t.is(host.budgets?.[0].claimed, '256', 'GetHost shows what claims hold of the budget');
  t.is((await collect(client.listHosts()))[0].budgets?.[0].claimed, '256');
  const last = await rejectsWith(t, client.claims.create('gpu', 'mig-5', [{ device: 'v54' }]), grpc.status.ABORTED);
  t.is(last.metadata.budget, '0000:00:02.0/low_gm');
  // Capacity as the host reported it is unchanged: claims are their own figure.
  t.like(await client.getDevice('hosts/gpu/devices/v58'), { claimed: 2, free_units: 0, capacity: { total: 4, available: 4 } });

  // FindTargets available-only and FindPlacements see the budget too.
  await client.syncHost({ name: 'hosts/src', devices: [{ device_id: 'v58', descriptor: V5_8 }] });
  const available = await collect(client.findTargets('hosts/src/devices/v58', { requireAvailable: true }));
  t.deepEqual(available.flatMap((i) => ('target' in i ? [i.target.name] : [])), [], 'v58 has no free unit left under the budget');
  const placements = await collect(client.findPlacements([{ requestId: 'gpu', source: 'hosts/src/devices/v58' }]));
  t.deepEqual(placements.flatMap((i) => ('placement' in i ? [i.placement.host] : [])), []);

  // The budget and the claims survive a restart.
  const again = await restart();
  t.deepEqual(await freeUnits(again.client), { v54: 0, v58: 0 });
  t.is((await again.client.getHost('hosts/gpu')).budgets?.[0].budget?.budget_id, '0000:00:02.0/low_gm');
  await rejectsWith(t, again.client.claims.create('gpu', 'mig-6', [{ device: 'v58' }]), grpc.status.ABORTED);
  await again.client.claims.release('hosts/gpu/claims/mig-1');
  t.deepEqual(await freeUnits(again.client), { v54: 1, v58: 2 }, 'a release gives the budget back');
  t.true((await again.client.verifyHistory()).intact);
});

test('budgets are part of the host: a change is a history entry, the same budgets again are not; past reads use the budgets of then', async (t) => {
  const { client } = await startTestServer(t);
  const first = await client.syncHost({ name: 'hosts/gpu', devices: devices(2, 4) });
  t.deepEqual(first.host.budgets, []);
  const withBudget = await client.syncHost({ name: 'hosts/gpu', devices: devices(2, 4), budgets: [lowGm(192)] });
  t.true(withBudget.changed, 'declaring a budget changes the host');
  const same = await client.syncHost({ name: 'hosts/gpu', devices: devices(2, 4), budgets: [lowGm(192)] });
  t.false(same.changed, 'the same budgets again are a no-op');
  t.is(same.revision, withBudget.revision);
  const lower = await client.syncHost({ name: 'hosts/gpu', devices: devices(2, 4), budgets: [lowGm(64)] });
  t.true(lower.changed, 'a budget whose available amount moved is a change');

  const entries = (await historyOf(client, { resource: 'hosts/gpu' })).filter((e) => e.resource === 'hosts/gpu').reverse();
  t.deepEqual(
    entries.map((e) => [e.kind, e.after?.host?.budgets?.map((b) => b.budget!.available) ?? null]),
    [
      ['CHANGE_KIND_CREATED', []],
      ['CHANGE_KIND_UPDATED', ['192']],
      ['CHANGE_KIND_UPDATED', ['64']],
    ],
  );

  t.deepEqual(await freeUnits(client), { v54: 0, v58: 1 }, 'now: 64 MiB free, one V5_8');
  t.deepEqual(await freeUnits(client, { asOfRevision: withBudget.revision }), { v54: 1, v58: 3 }, 'then: 192 MiB free');
  t.deepEqual(await freeUnits(client, { asOfRevision: first.revision }), { v54: 2, v58: 4 }, 'before the budget: capacity alone');
  t.is((await client.getDevice('hosts/gpu/devices/v58', { asOfRevision: withBudget.revision })).free_units, 3);
  t.is((await client.getDevice('hosts/gpu/devices/v58')).free_units, 1);

  // Dropping the budgets is a change too.
  const dropped = await client.syncHost({ name: 'hosts/gpu', devices: devices(2, 4) });
  t.true(dropped.changed);
  t.deepEqual(dropped.host.budgets, []);
  t.true((await client.verifyHistory()).intact);
});

test('a sync that reports a budget smaller than what claims hold uses the claims up, oldest first', async (t) => {
  const { client } = await startTestServer(t);
  await client.syncHost({ name: 'hosts/gpu', devices: devices(2, 4), budgets: [lowGm()] });
  await client.claims.create('gpu', 'old', [{ device: 'v58' }]);
  await client.claims.create('gpu', 'new', [{ device: 'v54' }]);
  // The V5_8 instance of `old` was created on the host: 64 MiB of the budget went with it.
  await client.syncHost({ name: 'hosts/gpu', devices: devices(2, 3), budgets: [lowGm(192)] });
  await rejectsWith(t, client.claims.get('hosts/gpu/claims/old'), grpc.status.NOT_FOUND);
  t.like(await client.claims.get('hosts/gpu/claims/new'), { state: 'CLAIM_STATE_ACTIVE' });
  t.is((await client.getHost('hosts/gpu')).budgets?.[0].claimed, '128', 'the unit is not counted twice');
});

test('bad budgets are refused with the field named, and nothing is stored', async (t) => {
  const { client } = await startTestServer(t);
  const first = await client.syncHost({ name: 'hosts/gpu', devices: devices(2, 4) });
  const bad = await rejectsWith(
    t,
    client.syncHost({
      name: 'hosts/gpu',
      devices: devices(2, 4),
      budgets: [
        lowGm(),
        { budget_id: 'b', total: 10, available: 20, consumption: { v54: 1, x: 1, v58: 0 } },
        { budget_id: '0000:00:02.0/low_gm', total: 1, available: 1, consumption: {} },
        { budget_id: '', total: 1, available: 1, consumption: { v54: 1 } },
      ],
    }),
    grpc.status.INVALID_ARGUMENT,
  );
  const fields = bad.fieldViolations.map((v) => v.field).sort();
  t.deepEqual(fields, [
    'budgets[1].available',
    'budgets[1].consumption["v58"]',
    'budgets[1].consumption["x"]',
    'budgets[2].budget_id',
    'budgets[2].consumption',
    'budgets[3].budget_id',
  ]);
  t.regex(bad.fieldViolations.find((v) => v.field === 'budgets[1].consumption["x"]')!.description, /no device "x" in this sync/);
  const host = await client.getHost('hosts/gpu');
  t.is(host.revision, first.host.revision, 'nothing was stored');
  t.deepEqual(host.budgets, []);
});
