// Validation of a FindPlacements request (proto/devcompat/v1/placement.proto), pure: request
// ids, counts, limits and host filters are checked here, every violation listed with its
// path; each source is resolved by the caller's `resolve` (a registered device or an inline
// descriptor, as FindTargets does), so that its errors carry `devices[i].source` paths too.

import type { Descriptor } from './model.ts';
import { DomainError, Violations } from './errors.ts';
import { checkHostId, MAX_EXCLUDED_HOSTS, validateLabels, type Labels } from './resources.ts';

export const PLACEMENT_LIMITS = {
  requestsPerVm: 16,
  unitsPerRequest: 16,
  unitsPerVm: 32,
  defaultLimit: 10,
  maxLimit: 1000,
} as const;

const REQUEST_ID = /^[a-z0-9]([a-z0-9_.-]{0,61}[a-z0-9])?$/;

export interface DeviceRequestInput<Ref> {
  request_id?: string | null;
  source?: Ref | null;
  count?: number | null;
}

export interface FindPlacementsInput<Ref> {
  devices?: readonly DeviceRequestInput<Ref>[] | null;
  exclude_hosts?: readonly string[] | null;
  host_labels?: Record<string, string> | null;
  include_unreachable_hosts?: boolean | null;
  include_draining_hosts?: boolean | null;
  include_source_hosts?: boolean | null;
  limit?: number | null;
  explain?: boolean | null;
  explain_limit?: number | null;
}

/** A resolved source: its descriptor, and its resource name when it is registered. */
export interface PlacementSource {
  readonly descriptor: Descriptor;
  readonly name: string;
}

export interface PlacementRequest {
  readonly requestId: string;
  readonly count: number;
  readonly source: PlacementSource;
}

export interface PlacementQuery {
  readonly requests: readonly PlacementRequest[];
  readonly excludeHosts: ReadonlySet<string>;
  readonly hostLabels: Labels;
  readonly includeUnreachableHosts: boolean;
  readonly includeDrainingHosts: boolean;
  readonly includeSourceHosts: boolean;
  readonly limit: number;
  readonly explain: boolean;
  readonly explainLimit: number;
}

/**
 * Validates a FindPlacements request; throws one INVALID_ARGUMENT listing every violation.
 * `resolve` turns a DeviceRef into a source or throws a DomainError (NOT_FOUND for an unknown
 * device is thrown as is; INVALID_ARGUMENT violations are merged into the list).
 */
export function validateFindPlacements<Ref>(
  input: FindPlacementsInput<Ref>,
  resolve: (ref: Ref | null | undefined, field: string) => PlacementSource,
): PlacementQuery {
  const violations = new Violations();
  const inputs = input.devices ?? [];
  if (inputs.length === 0) violations.add('devices', 'a VM needs at least one device request');
  if (inputs.length > PLACEMENT_LIMITS.requestsPerVm) {
    violations.add('devices', `at most ${PLACEMENT_LIMITS.requestsPerVm} device requests, got ${inputs.length}`);
  }
  const seen = new Set<string>();
  const requests: PlacementRequest[] = [];
  let units = 0;
  inputs.slice(0, PLACEMENT_LIMITS.requestsPerVm).forEach((device, index) => {
    const path = `devices[${index}]`;
    const requestId = device.request_id ?? '';
    if (!REQUEST_ID.test(requestId)) {
      violations.add(`${path}.request_id`, requestId === '' ? 'a request id is required' : `must match ${REQUEST_ID.source}`);
    } else if (seen.has(requestId)) {
      violations.add(`${path}.request_id`, `duplicate request id "${requestId}"`);
    }
    seen.add(requestId);
    const count = device.count == null || device.count === 0 ? 1 : device.count;
    if (!Number.isSafeInteger(count) || count < 1 || count > PLACEMENT_LIMITS.unitsPerRequest) {
      violations.add(`${path}.count`, `must be from 1 to ${PLACEMENT_LIMITS.unitsPerRequest}`);
      return;
    }
    units += count;
    try {
      requests.push({ requestId, count, source: resolve(device.source, `${path}.source`) });
    } catch (error) {
      if (!(error instanceof DomainError) || error.reason !== 'INVALID_ARGUMENT') throw error;
      for (const violation of error.violations) violations.add(violation.field, violation.description);
    }
  });
  if (units > PLACEMENT_LIMITS.unitsPerVm) violations.add('devices', `at most ${PLACEMENT_LIMITS.unitsPerVm} units over all requests, got ${units}`);
  const excludeHosts = new Set<string>();
  const excluded = input.exclude_hosts?.length ?? 0;
  if (excluded > MAX_EXCLUDED_HOSTS) {
    violations.add('exclude_hosts', `at most ${MAX_EXCLUDED_HOSTS} hosts, got ${excluded}`);
  } else {
    (input.exclude_hosts ?? []).forEach((ref, index) => {
      const id = ref.startsWith('hosts/') ? ref.slice('hosts/'.length) : ref;
      checkHostId(id, `exclude_hosts[${index}]`, violations);
      excludeHosts.add(id);
    });
  }
  const hostLabels = validateLabels(input.host_labels, 'host_labels', violations);
  const limit = limitOf(input.limit, 'limit', violations);
  const explainLimit = limitOf(input.explain_limit, 'explain_limit', violations);
  violations.throwIfAny();
  return {
    requests,
    excludeHosts,
    hostLabels,
    includeUnreachableHosts: input.include_unreachable_hosts ?? false,
    includeDrainingHosts: input.include_draining_hosts ?? false,
    includeSourceHosts: input.include_source_hosts ?? false,
    limit,
    explain: input.explain ?? false,
    explainLimit,
  };
}

function limitOf(value: number | null | undefined, field: string, violations: Violations): number {
  if (value == null || value === 0) return PLACEMENT_LIMITS.defaultLimit;
  if (!Number.isSafeInteger(value) || value < 0 || value > PLACEMENT_LIMITS.maxLimit) {
    violations.add(field, `must be from 1 to ${PLACEMENT_LIMITS.maxLimit} (default ${PLACEMENT_LIMITS.defaultLimit})`);
    return PLACEMENT_LIMITS.defaultLimit;
  }
  return value;
}
