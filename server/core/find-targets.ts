// FindTargets and the verdict cache behind every compatibility answer. A verdict depends only
// on the pair of descriptors, and descriptors are interned, so each pair is evaluated once and
// cached; FindTargets judges each distinct candidate descriptor once and ranks devices by the
// cached verdict: its cost grows with the candidates and their distinct descriptors, never
// with the size of the registry.
//
// Owns: the verdict cache. May call: engine.ts, rank.ts, top-k.ts, the live state's reads, and
// a past view's devices (point-in-time.ts) when asked for a past revision.

import { evaluate } from './engine.ts';
import type { Descriptor, Verdict } from './model.ts';
import { compareFreeThenDeviceName, compareRankKeys, rankKey, type RankKey } from './rank.ts';
import { hostIsEligible, type DescriptorEntry, type LiveDevice, type LiveState } from './live-state.ts';
import { compareDeviceNames, labelsMatch, type Labels } from './resources.ts';
import type { DeviceRecord, HostRecord } from './store.ts';
import { selectBest } from './top-k.ts';
import { deviceFreeUnits, NO_USAGE } from './claims.ts';

/** A verdict computed once per (source descriptor, target descriptor) pair. */
export interface CachedVerdict {
  readonly verdict: Verdict;
  readonly rank: RankKey;
  /** A slot for the transport layer to memoize its encoding of the verdict. */
  memo?: unknown;
}

/** A source or target as a request names it: a descriptor, and the device when one was named. */
export interface ResolvedDevice {
  readonly descriptor: Descriptor;
  /** Set when the reference named a registered device (as it is in the view it was read from). */
  readonly device?: { readonly record: DeviceRecord; readonly name: string };
}

export interface FindOptions {
  readonly excludeHosts: ReadonlySet<string>;
  readonly includeUnreachable: boolean;
  readonly includeDraining: boolean;
  readonly hostLabels: Labels;
  readonly requireAvailable: boolean;
  readonly limit: number;
  readonly includeRejected: boolean;
  readonly rejectedLimit: number;
  readonly includeSourceHost: boolean;
}

export interface FoundTarget {
  readonly device: LiveDevice;
  readonly cached: CachedVerdict;
  /** 1-based among compatible targets; 0 for a rejected candidate. */
  readonly rank: number;
}

export interface FindResult {
  readonly revision: number;
  readonly candidates: number;
  readonly compatible: number;
  readonly rejected: number;
  readonly distinctDescriptors: number;
  /** Hosts holding candidates that were left out only because of their state. */
  readonly hostsLeftOut: HostsLeftOut;
  readonly targets: readonly FoundTarget[];
  readonly rejectedTargets: readonly FoundTarget[];
}

/** Hosts with candidate devices that a search left out only for their state, by reason. */
export interface HostsLeftOut {
  /** Their lease lapsed (and include_unreachable was not asked). */
  readonly unreachable: number;
  /** Reachable but draining (and include_draining was not asked). */
  readonly draining: number;
}

/** The devices a search walks: the live ones, or those of a past view. */
export interface DeviceSource {
  readonly revision: number;
  /** The devices that have this descriptor; undefined for the live state's own (entry.devices). */
  devicesOf(entry: DescriptorEntry): readonly LiveDevice[] | undefined;
}

/**
 * Cached verdicts, with their encoded form, take a few KB each: 50,000 bounds the cache to
 * about 150 MB on a registry of many distinct descriptors. A fleet like the benchmark's needs
 * a few thousand (pairs of distinct descriptors that share a type).
 */
export const VERDICT_CACHE_LIMIT = 50_000;

/**
 * The count alone does not bound the bytes: a client may send a new 64 KB descriptor with each
 * CheckCompatibility, and a cached verdict keeps its source's key, checks that quote its values,
 * and their encoding (about three times the key: 100 KB per verdict measured for a 33 KB source).
 * The cache also starts over once its estimate passes this.
 */
export const VERDICT_CACHE_BYTES = 128 * 1024 * 1024;

/** What the cache counts for a verdict: a fixed part, and three times each descriptor key it newly holds. */
export function verdictCost(source: Descriptor | undefined, target: Descriptor): number {
  return 1024 + 3 * target.key.length + (source ? 3 * source.key.length : 0);
}

export class VerdictCache {
  private readonly verdicts = new Map<string, Map<string, CachedVerdict>>();
  private count = 0;
  private estimate = 0;
  /** Lookups answered from the cache, and those that evaluated the pair, since start (for metrics). */
  hits = 0;
  misses = 0;

  constructor(
    private readonly limit = VERDICT_CACHE_LIMIT,
    private readonly byteBudget = VERDICT_CACHE_BYTES,
  ) {}

  get size(): number {
    return this.count;
  }

  /** The bytes the cached verdicts are estimated to hold (`verdictCost`), at most the budget. */
  get bytes(): number {
    return this.estimate;
  }

  /** The verdict for a pair of descriptors, computed once and then served from the cache. */
  verdictFor(source: Descriptor, target: Descriptor): CachedVerdict {
    let bySource = this.verdicts.get(source.key);
    const hit = bySource?.get(target.key);
    if (hit) {
      this.hits++;
      return hit;
    }
    this.misses++;
    const verdict = evaluate(source, target);
    const cached: CachedVerdict = { verdict, rank: rankKey(source, target, verdict) };
    let cost = verdictCost(bySource ? undefined : source, target);
    if (cost > this.byteBudget) return cached; // larger than the whole cache: answered, not kept
    if (this.count >= this.limit || this.estimate + cost > this.byteBudget) {
      // A whole-cache reset is crude but bounded; fleets hold few distinct descriptors, so a
      // registry that reaches the limit is rare and refills quickly.
      this.verdicts.clear();
      this.count = 0;
      this.estimate = 0;
      if (bySource) cost = verdictCost(source, target);
      bySource = undefined;
      if (cost > this.byteBudget) return cached; // with its source's key, larger than the whole cache
    }
    if (!bySource) {
      bySource = new Map();
      this.verdicts.set(source.key, bySource);
    }
    bySource.set(target.key, cached);
    this.count++;
    this.estimate += cost;
    return cached;
  }
}

/** What live claims hold now (claims-registry.ts), as FindTargets and WatchTargets count it. */
export interface ClaimCounts {
  /** Units of a device that live claims hold. */
  claimed(hostId: string, deviceId: string): number;
  /** A device's free units: claims counted, the shared budgets it draws on applied. */
  free(device: LiveDevice): number;
}

/** No claims: a past view (which has no claim book) or a registry without placement. Budgets still apply. */
export const NO_CLAIMS: ClaimCounts = {
  claimed: () => 0,
  free: (device) => deviceFreeUnits(device.record.capacity, device.host.record.budgets ?? [], NO_USAGE, device.record.deviceId),
};

/**
 * Whether `require_available` keeps the device: it reports capacity (FindTargets' documented
 * rule: a device without capacity is not known to be free) and has a unit free, claims
 * counted and its shared budgets applied.
 */
export function hasFreeUnit(device: LiveDevice, counts: ClaimCounts): boolean {
  return device.record.capacity !== undefined && device.record.capacity.available > 0 && counts.free(device) > 0;
}

export class TargetFinder {
  constructor(
    private readonly state: LiveState,
    private readonly verdicts: VerdictCache,
    /** Claims are counted in the present only: a past view has no claim book. */
    private readonly claims: ClaimCounts = NO_CLAIMS,
  ) {}

  /** FindTargets over the live devices or, given a past view, over that view's devices. */
  find(source: ResolvedDevice, options: FindOptions, past?: DeviceSource): FindResult {
    const { descriptor } = source;
    const entries = this.state.candidateEntries(descriptor);

    const sourceHostId = source.device?.record.hostId;
    const hostWanted = (record: HostRecord): boolean =>
      (options.includeSourceHost || record.hostId !== sourceHostId) &&
      !options.excludeHosts.has(record.hostId) &&
      labelsMatch(record.labels, options.hostLabels);
    // A past view's hosts left out are seen on the walk (which visits every device of a past
    // view); the live state's, from its few hosts that are not ready.
    const pastLeftOut = past ? new Map<string, HostRecord>() : undefined;
    const keep = (device: LiveDevice): boolean => {
      const host = device.host.record;
      if (!hostWanted(host)) return false;
      if (!hostIsEligible(host, options)) {
        pastLeftOut?.set(host.hostId, host);
        return false;
      }
      if (options.requireAvailable && !hasFreeUnit(device, past ? NO_CLAIMS : this.claims)) return false;
      return true;
    };

    let candidates = 0;
    let rejected = 0;
    let distinctDescriptors = 0;
    const compatibleGroups: { cached: CachedVerdict; devices: LiveDevice[] }[] = [];
    const rejectedPool: { device: LiveDevice; cached: CachedVerdict }[] = [];
    // With host exclusions as the only filters, the devices of a rejected descriptor that
    // are not streamed need only be counted: no visit to each of them (for a common VF, most
    // of the candidates).
    const countOnly =
      !past && !options.includeRejected && !options.requireAvailable && Object.keys(options.hostLabels).length === 0;
    const excludedPerEntry = countOnly ? this.devicesOnHosts(this.excludedHostIds(options, sourceHostId)) : undefined;
    for (const entry of entries) {
      const entryDevices: Iterable<LiveDevice> & { readonly size?: number; readonly length?: number } = past
        ? past.devicesOf(entry) ?? []
        : entry.devices;
      if ((entryDevices.size ?? entryDevices.length) === 0) continue;
      const cached = this.verdicts.verdictFor(descriptor, entry.descriptor);
      if (excludedPerEntry && cached.verdict.verdict === 'VERDICT_INCOMPATIBLE') {
        const count = entry.devices.size - (excludedPerEntry.get(entry) ?? 0);
        if (count === 0) continue;
        candidates += count;
        rejected += count;
        distinctDescriptors++;
        continue;
      }
      const devices: LiveDevice[] = [];
      for (const device of entryDevices) if (keep(device)) devices.push(device);
      if (devices.length === 0) continue;
      candidates += devices.length;
      distinctDescriptors++;
      if (cached.verdict.verdict === 'VERDICT_INCOMPATIBLE') {
        rejected += devices.length;
        if (options.includeRejected) for (const device of devices) rejectedPool.push({ device, cached });
      } else {
        compatibleGroups.push({ cached, devices });
      }
    }
    // Descriptor-level order first (verdict, exactness, version distance); devices of equally
    // ranked descriptors then compete on free capacity and name.
    compatibleGroups.sort((a, b) => compareRankKeys(a.cached.rank, b.cached.rank));
    const targets: FoundTarget[] = [];
    let compatible = 0;
    for (let i = 0; i < compatibleGroups.length; ) {
      let j = i + 1;
      while (j < compatibleGroups.length && compareRankKeys(compatibleGroups[i].cached.rank, compatibleGroups[j].cached.rank) === 0) j++;
      const tier: { device: LiveDevice; cached: CachedVerdict }[] = [];
      for (let g = i; g < j; g++) {
        for (const device of compatibleGroups[g].devices) tier.push({ device, cached: compatibleGroups[g].cached });
      }
      compatible += tier.length;
      const room = options.limit - targets.length;
      if (room > 0) {
        for (const chosen of selectBest(tier, room, compareByCapacityThenName)) {
          targets.push({ device: chosen.device, cached: chosen.cached, rank: targets.length + 1 });
        }
      }
      i = j;
    }

    const rejectedTargets = options.includeRejected
      ? selectBest(rejectedPool, options.rejectedLimit, compareRejected).map(({ device, cached }) => ({
          device,
          cached,
          rank: 0,
        }))
      : [];
    return {
      revision: past?.revision ?? this.state.revision,
      candidates,
      compatible,
      rejected,
      distinctDescriptors,
      hostsLeftOut: countLeftOut(
        pastLeftOut ? pastLeftOut.values() : this.liveHostsLeftOut(entries, hostWanted, options),
        options,
      ),
      targets,
      rejectedTargets,
    };
  }

  /** Live hosts that are not eligible, pass the request's host filters and hold a candidate. */
  private *liveHostsLeftOut(
    entries: ReadonlySet<DescriptorEntry>,
    hostWanted: (record: HostRecord) => boolean,
    options: FindOptions,
  ): Iterable<HostRecord> {
    for (const host of this.state.hostsNotReady()) {
      if (hostIsEligible(host.record, options) || !hostWanted(host.record)) continue;
      for (const device of host.devices.values()) {
        if (entries.has(device.entry)) {
          yield host.record;
          break;
        }
      }
    }
  }

  /** Hosts whose devices FindTargets leaves out: by request, the source's own, and by state. */
  private excludedHostIds(options: FindOptions, sourceHostId: string | undefined): Set<string> {
    const hosts = new Set(options.excludeHosts);
    if (!options.includeSourceHost && sourceHostId !== undefined) hosts.add(sourceHostId);
    for (const host of this.state.hostsNotReady()) if (!hostIsEligible(host.record, options)) hosts.add(host.record.hostId);
    return hosts;
  }

  /** How many devices of each descriptor the given hosts have. */
  private devicesOnHosts(hostIds: Iterable<string>): Map<DescriptorEntry, number> {
    const counts = new Map<DescriptorEntry, number>();
    for (const hostId of hostIds) {
      for (const device of this.state.findHost(hostId)?.devices.values() ?? []) {
        counts.set(device.entry, (counts.get(device.entry) ?? 0) + 1);
      }
    }
    return counts;
  }
}

/** Unreachable wins over draining, as in the host's state: include_unreachable alone would not bring it back. */
function countLeftOut(hosts: Iterable<HostRecord>, options: FindOptions): HostsLeftOut {
  let unreachable = 0;
  let draining = 0;
  for (const record of hosts) {
    if (!record.reachable && !options.includeUnreachable) unreachable++;
    else draining++;
  }
  return { unreachable, draining };
}

function compareByCapacityThenName(a: { device: LiveDevice }, b: { device: LiveDevice }): number {
  const x = a.device.record;
  const y = b.device.record;
  return compareFreeThenDeviceName(x.capacity?.available, x.hostId, x.deviceId, y.capacity?.available, y.hostId, y.deviceId);
}

/** Why-not order: the nearest misses (fewest failed checks) first, then by name. */
function compareRejected(
  a: { device: LiveDevice; cached: CachedVerdict },
  b: { device: LiveDevice; cached: CachedVerdict },
): number {
  const failsA = failures(a.cached.verdict);
  const failsB = failures(b.cached.verdict);
  if (failsA !== failsB) return failsA - failsB;
  const x = a.device.record;
  const y = b.device.record;
  return compareDeviceNames(x.hostId, x.deviceId, y.hostId, y.deviceId);
}

function failures(verdict: Verdict): number {
  let count = 0;
  for (const check of verdict.checks) if (check.result === 'CHECK_RESULT_FAIL') count++;
  return count;
}
