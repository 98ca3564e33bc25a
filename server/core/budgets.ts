// Shared budgets: a physical resource of one parent device that several devices of a host
// draw on (the graphics memory behind a GPU's mdev types), modelled as Kubernetes DRA models
// counter sets. A host declares them in SyncHost; claims (claims.ts) and placements
// (assignment.ts) never let the units they hold draw more than a budget has available.
// This file owns the validated shape and the validation of SyncHost's `budgets` field, so that
// wiring it into validateSyncHost is one call.

import type { Violations } from './errors.ts';
import { truncate } from './resources.ts';
import { hasControlCharacter, NO_CONTROL_CHARACTERS, tooLong } from './values.ts';

export const BUDGET_LIMITS = {
  budgetsPerHost: 256,
  consumersPerBudget: 4096,
} as const;

// Like a device id, plus `/` so that a budget can be named after its parent (`0000:00:02.0/gm`).
const BUDGET_ID = /^[A-Za-z0-9]([A-Za-z0-9._:/-]{0,126}[A-Za-z0-9])?$/;

export interface Budget {
  readonly budgetId: string;
  /** The parent device the budget belongs to; informational. */
  readonly parent: string;
  readonly total: number;
  /** Unused now, as the host sees it (existing instances already counted); at most total. */
  readonly available: number;
  /** Device id -> how much of the budget one unit of that device uses (at least 1). */
  readonly consumption: ReadonlyMap<string, number>;
}

export interface BudgetInput {
  budget_id?: string | null;
  parent?: string | null;
  total?: number | string | null;
  available?: number | string | null;
  consumption?: Readonly<Record<string, number | string>> | null;
}

/**
 * Validates SyncHost's `budgets` against the sync's device ids; returns them in budget id
 * order. Every problem is added to `violations` with its path (`budgets[1].consumption["x"]`).
 */
export function validateBudgets(
  inputs: readonly BudgetInput[] | null | undefined,
  deviceIds: ReadonlySet<string>,
  violations: Violations,
  field = 'budgets',
): Budget[] {
  const list = inputs ?? [];
  if (list.length > BUDGET_LIMITS.budgetsPerHost) {
    violations.add(field, `at most ${BUDGET_LIMITS.budgetsPerHost} budgets per host, got ${list.length}`);
    return [];
  }
  const seen = new Set<string>();
  const budgets: Budget[] = [];
  list.forEach((input, index) => {
    const path = `${field}[${index}]`;
    const budgetId = input.budget_id ?? '';
    if (!BUDGET_ID.test(budgetId)) {
      violations.add(
        `${path}.budget_id`,
        budgetId === ''
          ? 'a budget id is required'
          : `"${truncate(budgetId)}" is not a valid budget id (letters, digits, '.', '_', ':', '/', '-'; at most 128 characters)`,
      );
    } else if (seen.has(budgetId)) {
      violations.add(`${path}.budget_id`, `duplicate budget id "${budgetId}"`);
    }
    seen.add(budgetId);
    const parent = input.parent ?? '';
    if (tooLong(parent, 256)) violations.add(`${path}.parent`, 'at most 256 characters');
    else if (hasControlCharacter(parent)) violations.add(`${path}.parent`, NO_CONTROL_CHARACTERS);
    const total = amount(input.total, `${path}.total`, violations, 0);
    const available = amount(input.available, `${path}.available`, violations, 0);
    if (total !== undefined && available !== undefined && available > total) {
      violations.add(`${path}.available`, `available (${available}) exceeds total (${total})`);
    }
    const entries = Object.entries(input.consumption ?? {});
    if (entries.length === 0) violations.add(`${path}.consumption`, 'a budget needs at least one consuming device');
    if (entries.length > BUDGET_LIMITS.consumersPerBudget) {
      violations.add(`${path}.consumption`, `at most ${BUDGET_LIMITS.consumersPerBudget} devices, got ${entries.length}`);
    }
    const consumption = new Map<string, number>();
    for (const [deviceId, raw] of entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const entryPath = `${path}.consumption[${JSON.stringify(truncate(deviceId))}]`;
      if (!deviceIds.has(deviceId)) violations.add(entryPath, `no device "${truncate(deviceId)}" in this sync`);
      const perUnit = amount(raw, entryPath, violations, 1);
      if (perUnit !== undefined) consumption.set(deviceId, perUnit);
    }
    budgets.push({ budgetId, parent, total: total ?? 0, available: available ?? 0, consumption });
  });
  budgets.sort((a, b) => (a.budgetId < b.budgetId ? -1 : a.budgetId > b.budgetId ? 1 : 0));
  return budgets;
}

/** A uint64 on the wire, held as a safe integer: larger amounts are refused, not rounded. */
function amount(raw: number | string | null | undefined, field: string, violations: Violations, min: number): number | undefined {
  const value = raw == null ? 0 : typeof raw === 'string' && /^[0-9]+$/.test(raw) ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    violations.add(field, min === 0 ? 'must be a non-negative integer below 2^53' : `must be an integer from ${min} to 2^53 - 1`);
    return undefined;
  }
  return value;
}

export function budgetsEqual(a: readonly Budget[], b: readonly Budget[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((x, i) => {
    const y = b[i];
    if (x.budgetId !== y.budgetId || x.parent !== y.parent || x.total !== y.total || x.available !== y.available) return false;
    if (x.consumption.size !== y.consumption.size) return false;
    for (const [id, perUnit] of x.consumption) if (y.consumption.get(id) !== perUnit) return false;
    return true;
  });
}
