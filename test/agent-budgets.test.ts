// Shared budgets the agent infers from sysfs (agent/budgets.ts, docs/agent.md "Shared
// budgets"): against the kernel's own rule for GVT-g's available_instances (kvmgt.c
// intel_vgpu_get_available: min over low GM, high GM and fences of free / per instance), the
// inferred available amount never exceeds what is free, so whatever the registry grants under
// the budgets the host can create; a recorded GVT-g host synced by the real `devcompat agent
// --once` carries its budgets, and claims on sibling types are held to them; a profile's
// budgets are checked when it loads.

import test from 'ava';
import fc from 'fast-check';
import * as grpc from '@grpc/grpc-js';
import { inferBudgets, type BudgetDraw } from '../agent/budgets.ts';
import { validateProfile, ProfileError } from '../agent/profile-schema.ts';
import { CLI, run } from './helpers/cli.ts';
import { hostFlags } from './helpers/agent.ts';
import { startTestServer } from './helpers/server.ts';
import { rejectsWith } from './helpers/integration.ts';

// GVT-g's types (drivers/gpu/drm/i915/gvt/vgpu.c intel_vgpu_configs): low GM MB, high GM MB, fences.
const TYPES = [
  { id: 'V5_8', low: 64, high: 384, fence: 4 },
  { id: 'V5_4', low: 128, high: 512, fence: 4 },
  { id: 'V5_2', low: 256, high: 1024, fence: 4 },
  { id: 'V5_1', low: 512, high: 2048, fence: 4 },
];
const RESOURCES = ['low', 'high', 'fence'] as const;

test('inferred GVT-g budgets never exceed what the kernel has free, so every grant under them can be created', (t) => {
  const host = fc.record({
    free: fc.record({ low: fc.integer({ min: 0, max: 2048 }), high: fc.integer({ min: 0, max: 8192 }), fence: fc.integer({ min: 0, max: 64 }) }),
    created: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 4, maxLength: 4 }),
  });
  fc.assert(
    fc.property(host, ({ free, created }) => {
      const available = TYPES.map((type) => Math.min(...RESOURCES.map((r) => Math.floor(free[r] / type[r]))));
      const draws = new Map<string, BudgetDraw[]>(
        TYPES.map((type, i) => [
          type.id,
          RESOURCES.map((r) => ({ name: r, parent: 'gpu', perUnit: type[r], available: available[i], created: created[i] })),
        ]),
      );
      const budgets = new Map(inferBudgets(draws).map((b) => [b.budget_id, b]));
      for (const r of RESOURCES) {
        const budget = budgets.get(`gpu/${r}`)!;
        if (Number(budget.available) > free[r]) throw new Error(`${r}: inferred ${budget.available} free, the kernel has ${free[r]}`);
        // Each type's own available count is still reachable under the budget: nothing is lost for one type alone.
        TYPES.forEach((type, i) => {
          if (Math.floor(Number(budget.available) / type[r]) < available[i]) throw new Error(`${r}: the budget leaves ${type.id} fewer than its ${available[i]}`);
        });
        const used = TYPES.reduce((sum, type, i) => sum + created[i] * type[r], 0);
        if (Number(budget.total) !== Number(budget.available) + used) throw new Error(`${r}: total is not available plus what created instances use`);
      }
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('a budget drawn on by one device alone is left out (its capacity says it all); budgets are per parent', (t) => {
  const draw = (parent: string, perUnit: number, available: number): BudgetDraw[] => [{ name: 'mem', parent, perUnit, available, created: 0 }];
  const budgets = inferBudgets(new Map([['a-1', draw('a', 2, 3)], ['a-2', draw('a', 4, 1)], ['b-1', draw('b', 2, 5)]]));
  t.deepEqual(budgets, [{ budget_id: 'a/mem', parent: 'a', total: 6, available: 6, consumption: { 'a-1': 2, 'a-2': 4 } }]);
});

test('the agent syncs a recorded GVT-g host with its budgets, and claims on sibling types are held to them', async (t) => {
  const { client, server } = await startTestServer(t);
  const agent = await run(process.execPath, [CLI, '--address', server.address, 'agent', '--host', 'gvt-c', '--once', ...hostFlags('gvt-c')]);
  t.is(agent.code, 0, agent.stdout + agent.stderr);
  const host = await client.getHost('hosts/gvt-c');
  t.deepEqual(
    host.budgets?.map((b) => [b.budget!.budget_id, b.budget!.available, b.budget!.total]),
    [
      ['0000:00:02.0/fence', '20', '28'],
      ['0000:00:02.0/high_gm_mb', '1920', '2816'],
      ['0000:00:02.0/low_gm_mb', '320', '512'],
    ],
  );
  // 320 MB of low GM: two V5_4 (256) leave 64, one V5_8 — not the five V5_8 alone could take.
  const v54 = '0000:00:02.0-i915-GVTg_V5_4';
  const v58 = '0000:00:02.0-i915-GVTg_V5_8';
  await client.claims.create('gvt-c', 'mig-1', [{ device: v54, count: 2 }]);
  t.is((await client.getDevice(`hosts/gvt-c/devices/${v58}`)).free_units, 1);
  const refused = await rejectsWith(t, client.claims.create('gvt-c', 'mig-2', [{ device: v58, count: 2 }]), grpc.status.ABORTED);
  t.is(refused.metadata.budget, '0000:00:02.0/low_gm_mb');
  await client.claims.create('gvt-c', 'mig-3', [{ device: v58 }]);
});

test('a profile budget is checked: mdev types only, with capacity, a known fact or a whole number', (t) => {
  const base = {
    match: { kind: 'mdev_type' },
    facts: { avail: { from: 'mdev_type', path: 'available_instances', parse: { as: 'int' } } },
    descriptor: { vendor: 'v', device_api: 'vfio-pci', type: '${type_id}', software_version: '1.0.0' },
    capacity: { total: { fact: 'avail', plus_created: true }, available: { fact: 'avail' } },
  };
  const problem = (doc: object) => {
    try {
      validateProfile(doc as never, 'x.yaml', 'x');
      return undefined;
    } catch (error) {
      if (!(error instanceof ProfileError)) throw error;
      return `${error.at}: ${error.problem}`;
    }
  };
  t.is(problem({ ...base, budgets: { mem: { per_unit: { value: 2 } } } }), undefined);
  t.regex(problem({ ...base, budgets: { mem: { per_unit: { fact: 'nope' } } } })!, /^budgets\.mem\.per_unit\.fact: no fact "nope"/);
  t.regex(problem({ ...base, budgets: { mem: { per_unit: { value: 0 } } } })!, /^budgets\.mem\.per_unit\.value: must be a whole number, at least 1/);
  t.regex(problem({ ...base, budgets: { Mem: { per_unit: { value: 1 } } } })!, /^budgets\.Mem: a budget name/);
  t.regex(problem({ ...base, capacity: undefined, budgets: { mem: { per_unit: { value: 1 } } } })!, /^budgets\.mem: .*needs capacity/);
  t.regex(problem({ ...base, match: { kind: 'pci' }, facts: {}, capacity: undefined, budgets: { mem: { per_unit: { value: 1 } } } })!, /^budgets\.mem: .*only for match\.kind mdev_type/);
});
