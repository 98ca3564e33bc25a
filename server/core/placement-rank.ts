// Ranking hosts for a whole VM (docs/model.md, "Placing a VM"): each host that has candidates
// is solved exactly by assignment.ts; hosts that take every device are ordered by their
// assignment's key, then host name; with explain, hosts that take some but not all come
// after, most units placed first, each with what is missing and why. Selection is bounded
// (top-k), so memory stays O(limit) however many hosts qualify. Pure: the registry builds one
// HostInstance per host from its indexes and claims, and streams what this returns.

import {
  assignHost,
  assignHostPartial,
  compareAssignmentKeys,
  nameOrder,
  type Assignment,
  type HostInstance,
} from './assignment.ts';
import { freeState, freeUnits, type ClaimBook, type FreeState, type HostCapacity } from './claims.ts';
import type { RankKey } from './rank.ts';
import { selectBest } from './top-k.ts';

export type MissingReason = 'NO_COMPATIBLE_DEVICE' | 'NO_FREE_UNIT';

export interface MissingDevice {
  readonly request: number;
  readonly requestId: string;
  readonly needed: number;
  readonly placed: number;
  /** No device of the host is compatible, or compatible devices lack free units for all at once. */
  readonly reason: MissingReason;
  /** The host's devices that are compatible targets for the request, free or not. */
  readonly compatibleDevices: number;
}

export interface HostPlacement {
  readonly hostId: string;
  readonly assignment: Assignment;
}

export interface PartialHostPlacement extends HostPlacement {
  readonly missing: readonly MissingDevice[];
  /** Units placed over all requests. */
  readonly placedUnits: number;
}

export interface HostCandidate {
  readonly hostId: string;
  readonly instance: HostInstance;
}

export interface PlacementOptions {
  /** Placements to keep, best first. */
  readonly limit: number;
  /** Also solve hosts that cannot take the whole VM, and keep the best `explainLimit`. */
  readonly explain: boolean;
  readonly explainLimit: number;
}

export interface PlacementResult {
  /** Best first, at most `limit`. */
  readonly placements: readonly HostPlacement[];
  /** Best first, at most `explainLimit`; empty without explain. */
  readonly partial: readonly PartialHostPlacement[];
  /** Every host that takes the whole VM, past the limit too. */
  readonly placementCount: number;
  /** Every host that takes part of it (counted only with explain). */
  readonly partialCount: number;
  readonly hostsExamined: number;
}

/** A device of the host as the registry knows it: enough to judge it and count its units. */
export interface HostDevice {
  readonly deviceId: string;
  /** Its resource name, `hosts/{host}/devices/{device}`. */
  readonly name: string;
  readonly descriptorKey: string;
}

/**
 * Builds one host's assignment instance from the registry's view: the candidate devices of
 * the VM's kinds, the host's capacity and budgets, and its live claims. Devices that draw on
 * a budget a candidate draws on are added from `allDevices` (their free units change when
 * the candidate's budget is used). `hostFreeUnits` counts every device of the host, so that
 * hosts compare by all their free units; the registry may pass it (and the free state)
 * precomputed.
 */
export function hostInstance(args: {
  readonly requests: readonly { readonly requestId: string; readonly count: number }[];
  readonly candidates: readonly HostDevice[];
  readonly allDevices: (deviceId: string) => HostDevice | undefined;
  readonly capacity: HostCapacity;
  readonly book: ClaimBook;
  readonly judge: (request: number, descriptorKey: string) => RankKey | undefined;
  readonly hostFreeUnits?: number;
  /** freeState(capacity, book), when the registry has it already. */
  readonly state?: FreeState;
}): HostInstance {
  const { capacity } = args;
  const state = args.state ?? freeState(capacity, args.book);
  const chosen = new Map<string, HostDevice>(args.candidates.map((d) => [d.deviceId, d]));
  for (const budget of capacity.budgets) {
    if (![...budget.consumption.keys()].some((id) => chosen.has(id))) continue;
    for (const id of budget.consumption.keys()) {
      const sibling = chosen.has(id) ? undefined : args.allDevices(id);
      if (sibling) chosen.set(id, sibling);
    }
  }
  const devices = [...chosen.values()].map((d) => ({
    name: d.name,
    descriptorKey: d.descriptorKey,
    free: state.deviceFree.get(d.deviceId) ?? 0,
    draws: capacity.budgets.flatMap((b) => {
      const perUnit = b.consumption.get(d.deviceId);
      return perUnit === undefined ? [] : [{ budgetId: b.budgetId, perUnit }];
    }),
  }));
  let hostFree = args.hostFreeUnits;
  if (hostFree === undefined) {
    hostFree = 0;
    for (const deviceId of capacity.devices.keys()) hostFree += freeUnits(capacity, state, deviceId);
  }
  return {
    requests: args.requests,
    devices,
    budgetFree: state.budgetFree,
    judge: (request, device) => args.judge(request, device.descriptorKey),
    hostFreeUnits: hostFree,
  };
}

/** Full placements: the assignment key, then the host name ascending. */
export function comparePlacements(a: HostPlacement, b: HostPlacement): number {
  return compareAssignmentKeys(a.assignment.key, b.assignment.key) || nameOrder(a.hostId, b.hostId);
}

/** Partial placements: more units placed first, then as full placements. */
export function comparePartialPlacements(a: PartialHostPlacement, b: PartialHostPlacement): number {
  return b.placedUnits - a.placedUnits || comparePlacements(a, b);
}

/** Solves one host: its full placement, or (with explain) its partial one, or neither. */
export function placeHost(
  candidate: HostCandidate,
  explain: boolean,
): { full?: HostPlacement; partial?: PartialHostPlacement } {
  const full = assignHost(candidate.instance);
  if (full) return { full: { hostId: candidate.hostId, assignment: full } };
  if (!explain) return {};
  const assignment = assignHostPartial(candidate.instance);
  const placedUnits = assignment.placed.reduce((sum, n) => sum + n, 0);
  if (placedUnits === 0) return {};
  return { partial: { hostId: candidate.hostId, assignment, placedUnits, missing: missingOf(candidate.instance, assignment) } };
}

/** What a partial assignment leaves out, per request, and why. */
export function missingOf(instance: HostInstance, assignment: Assignment): MissingDevice[] {
  const missing: MissingDevice[] = [];
  instance.requests.forEach((request, r) => {
    const placed = assignment.placed[r];
    if (placed >= request.count) return;
    const judged = new Map<string, boolean>();
    let compatibleDevices = 0;
    for (const device of instance.devices) {
      if (!judged.has(device.descriptorKey)) {
        const key = instance.judge(r, device);
        judged.set(device.descriptorKey, key !== undefined && key.verdictClass < 2);
      }
      if (judged.get(device.descriptorKey)) compatibleDevices++;
    }
    missing.push({
      request: r,
      requestId: request.requestId,
      needed: request.count,
      placed,
      reason: compatibleDevices === 0 ? 'NO_COMPATIBLE_DEVICE' : 'NO_FREE_UNIT',
      compatibleDevices,
    });
  });
  return missing;
}

/** Solves every candidate host and keeps the best placements (and partial ones with explain). */
export function rankPlacements(hosts: Iterable<HostCandidate>, options: PlacementOptions): PlacementResult {
  const full: HostPlacement[] = [];
  const partial: PartialHostPlacement[] = [];
  let placementCount = 0;
  let partialCount = 0;
  let hostsExamined = 0;
  // Keep only the best k of each kind (compacting at 4k): memory is O(limit), not O(hosts).
  for (const host of hosts) {
    hostsExamined++;
    const outcome = placeHost(host, options.explain);
    if (outcome.full) {
      placementCount++;
      full.push(outcome.full);
      if (full.length >= 4 * Math.max(options.limit, 1)) compact(full, options.limit, comparePlacements);
    } else if (outcome.partial) {
      partialCount++;
      partial.push(outcome.partial);
      if (partial.length >= 4 * Math.max(options.explainLimit, 1)) compact(partial, options.explainLimit, comparePartialPlacements);
    }
  }
  return {
    placements: selectBest(full, options.limit, comparePlacements),
    partial: options.explain ? selectBest(partial, options.explainLimit, comparePartialPlacements) : [],
    placementCount,
    partialCount,
    hostsExamined,
  };
}

function compact<T>(list: T[], k: number, compare: (a: T, b: T) => number): void {
  const best = selectBest(list, k, compare);
  list.length = 0;
  list.push(...best);
}
