// Shared budgets inferred from sysfs (docs/agent.md, "Shared budgets"). The mdev types of one
// parent device draw on the same physical resources (a GPU's graphics memory and fences), and
// sysfs shows no resource directly: only each type's `available_instances`, what one instance
// of it uses (from the profile: a GVT-g type's `description`), and the instances created.
//
// Where a driver computes available_instances as floor(free / per_unit), minimised over its
// resources (GVT-g, drivers/gpu/drm/i915/gvt/kvmgt.c `intel_vgpu_get_available`), every type
// proves a lower bound on each resource's free amount: free >= available(type) x per_unit(type).
// The agent declares the largest of these bounds as the budget's `available`: never more than
// is free, so that claims the registry grants under it can all be created (it may be less than
// is free, which only refuses a combination the host could have taken). `total` is that plus
// what the created instances use. Pure: describe.ts hands over each device's draws.

import type { Budget } from '../client/types.ts';

/** What one described device (an mdev type) draws on one budget of its parent. */
export interface BudgetDraw {
  /** The profile's budget name (`low_gm_mb`); the budget id is `<parent>/<name>`. */
  readonly name: string;
  readonly parent: string;
  /** What one instance uses, at least 1. */
  readonly perUnit: number;
  /** The type's available instances (its capacity.available). */
  readonly available: number;
  /** Instances of the type already created. */
  readonly created: number;
}

/**
 * One budget per (parent, name) drawn on by at least two devices (a budget with one consumer
 * says nothing its capacity does not), in budget id order, consumers in device id order.
 */
export function inferBudgets(draws: ReadonlyMap<string, readonly BudgetDraw[]>): Budget[] {
  const groups = new Map<string, { parent: string; consumers: [string, BudgetDraw][] }>();
  for (const [deviceId, list] of draws) {
    for (const draw of list) {
      const id = `${draw.parent}/${draw.name}`;
      let group = groups.get(id);
      if (!group) groups.set(id, (group = { parent: draw.parent, consumers: [] }));
      group.consumers.push([deviceId, draw]);
    }
  }
  const budgets: Budget[] = [];
  for (const [budgetId, { parent, consumers }] of groups) {
    if (consumers.length < 2) continue;
    consumers.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const available = Math.max(...consumers.map(([, d]) => d.available * d.perUnit));
    const used = consumers.reduce((sum, [, d]) => sum + d.created * d.perUnit, 0);
    budgets.push({
      budget_id: budgetId,
      parent,
      total: available + used,
      available,
      consumption: Object.fromEntries(consumers.map(([deviceId, d]) => [deviceId, d.perUnit])),
    });
  }
  return budgets.sort((a, b) => (a.budget_id < b.budget_id ? -1 : a.budget_id > b.budget_id ? 1 : 0));
}
