// The devices the registry refused in a sync. The registry refuses a whole SyncHost when any
// device in it is invalid (INVALID_ARGUMENT, every bad field named: `devices[3].descriptor.
// software_version`), and validates far more than the agent can (a static descriptor the
// operator wrote by hand, a value no profile foresaw). So that one bad device never keeps the
// host out of the registry, the agent drops the devices the refusal names and syncs the rest:
// this file decides what to drop, from the refusal alone. Pure.

import type { SyncHostRequest } from '../client/client.ts';

export interface RefusedDevice {
  readonly device_id: string;
  /** The registry's violations of this device, `field: description`, fields relative to the request. */
  readonly violations: string[];
}

/**
 * The request without the devices `violations` name (and without their draws on shared
 * budgets; a budget left with no consumer goes too), and those devices with why. Undefined
 * when a violation is not about one device (the host's name, its labels, a budget, the device
 * count): dropping devices would not help, and the sync fails as it is.
 */
export function withoutRefused(
  request: SyncHostRequest,
  violations: readonly { readonly field: string; readonly description: string }[],
): { request: SyncHostRequest; refused: RefusedDevice[] } | undefined {
  const byIndex = new Map<number, string[]>();
  for (const { field, description } of violations) {
    const match = /^devices\[(\d+)\]/.exec(field);
    const index = match ? Number(match[1]) : -1;
    if (index < 0 || index >= request.devices.length) return undefined;
    byIndex.set(index, [...(byIndex.get(index) ?? []), `${field}: ${description}`]);
  }
  if (byIndex.size === 0) return undefined;
  const refused = [...byIndex].sort(([a], [b]) => a - b).map(([index, reasons]) => ({ device_id: request.devices[index].device_id, violations: reasons }));
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
