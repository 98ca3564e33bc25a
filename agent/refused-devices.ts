// The devices the registry refused in a sync. The registry refuses a whole SyncHost when any
// device in it is invalid (INVALID_ARGUMENT, every bad field named: `devices[3].descriptor.
// software_version`), and validates far more than the agent can (a static descriptor the
// operator wrote by hand, a value no profile foresaw). So that one bad device never keeps the
// host out of the registry, the agent drops the devices the refusal names and syncs the rest:
// this file decides what to drop, from the refusal alone. A host with more devices than the
// registry takes per host (`devices`: "at most N devices per host") keeps its first N, in the
// request's order (by device id), and the rest are dropped the same way. Pure.

import type { SyncHostRequest } from '../client/client.ts';

export interface RefusedDevice {
  readonly device_id: string;
  /** The registry's violations of this device, `field: description`, fields relative to the request. */
  readonly violations: string[];
  /** Left out only for being past the registry's device count per host (logged together, not one by one). */
  readonly pastLimit?: true;
}

/** The registry's refusal of a host with too many devices: `at most 4096 devices per host, got 5000`. */
const DEVICE_COUNT = /^at most (\d+) devices per host\b/;

/**
 * The request without the devices `violations` name, or past the registry's device count
 * (and without their draws on shared budgets; a budget left with no consumer goes too), and
 * those devices with why. Undefined when a violation is about neither one device nor the count
 * (the host's name, its labels, a budget): dropping devices would not help, and the sync fails
 * as it is.
 */
export function withoutRefused(
  request: SyncHostRequest,
  violations: readonly { readonly field: string; readonly description: string }[],
): { request: SyncHostRequest; refused: RefusedDevice[] } | undefined {
  const byIndex = new Map<number, string[]>();
  let limit: number | undefined;
  for (const { field, description } of violations) {
    const most = field === 'devices' ? DEVICE_COUNT.exec(description) : null;
    if (most) {
      limit = Number(most[1]);
      if (!(limit > 0) || limit >= request.devices.length) return undefined;
      for (let index = limit; index < request.devices.length; index++) {
        byIndex.set(index, [...(byIndex.get(index) ?? []), `devices: ${description}; this device is past the first ${limit}`]);
      }
      continue;
    }
    const match = /^devices\[(\d+)\]/.exec(field);
    const index = match ? Number(match[1]) : -1;
    if (index < 0 || index >= request.devices.length) return undefined;
    byIndex.set(index, [...(byIndex.get(index) ?? []), `${field}: ${description}`]);
  }
  if (byIndex.size === 0) return undefined;
  const refused = [...byIndex]
    .sort(([a], [b]) => a - b)
    .map(([index, reasons]): RefusedDevice => ({
      device_id: request.devices[index].device_id,
      violations: reasons,
      ...(limit !== undefined && index >= limit && reasons.length === 1 && { pastLimit: true as const }),
    }));
  const dropped = new Set(refused.map((device) => device.device_id));
  const budgets = request.budgets
    ?.map((budget) => ({ ...budget, consumption: Object.fromEntries(Object.entries(budget.consumption).filter(([deviceId]) => !dropped.has(deviceId))) }))
    .filter((budget) => Object.keys(budget.consumption).length > 0);
  return {
    request: {
      ...request,
      devices: request.devices.filter((_, index) => !byIndex.has(index)),
      ...(budgets !== undefined && { budgets }),
    },
    refused,
  };
}
