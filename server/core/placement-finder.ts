// FindPlacements over the live state: for each device request of the VM, its candidate
// devices come from the live state's type indexes (as FindTargets' do) and each distinct
// descriptor's verdict from the verdict cache. A first pass over the candidates allocates
// nothing per device: it marks, per eligible host, which requests it has a candidate for.
// Only the hosts marked for every request (every host with a candidate, under explain) are
// gathered and solved: each becomes one HostInstance (placement-rank.ts), claims counted
// from its claim book. A host lacking a kind cannot take the VM, so skipping it changes no
// answer (test/placement-finder-property.test.ts checks the finder against a reference that
// solves every host). The cost grows with the candidates of the VM's device kinds and the
// hosts that hold all of them, never with the registry. All of it runs in one tick, so the
// answer is one revision's. A host's derived data (capacity, free state, free units) comes
// from placement-host-cache.ts, kept until the host, its devices or its claims change; its
// shared budgets come with its capacity, so siblings of a candidate that draw on its budget
// join the instance and the assignment never overdraws it.
//
// May call: live state (reads), the verdict cache, placement-rank.ts, placement-host-cache.ts.

import { holdsMostClaims, type ClaimBook } from './claims.ts';
import { hostDerived, hostDevice } from './placement-host-cache.ts';
import type { CachedVerdict, VerdictCache } from './find-targets.ts';
import { hostIsEligible, type DescriptorEntry, type LiveHost, type LiveState } from './live-state.ts';
import { hostInstance, rankPlacements, type HostCandidate, type HostDevice, type PlacementResult } from './placement-rank.ts';
import type { PlacementQuery } from './placement-request.ts';
import type { HostInstance } from './assignment.ts';
import { labelsMatch } from './resources.ts';

export interface PlacementAnswer extends PlacementResult {
  readonly revision: number;
  /** Candidate devices examined over all requests. */
  readonly candidates: number;
  /** The instance each streamed host was solved on (pairs index into its devices). */
  readonly instances: ReadonlyMap<string, HostInstance>;
  /** Per request, the verdict of its source against each descriptor key judged. */
  readonly verdicts: readonly ReadonlyMap<string, CachedVerdict>[];
  readonly hosts: ReadonlyMap<string, LiveHost>;
}

export function findPlacements(
  state: LiveState,
  verdictCache: VerdictCache,
  bookOf: (hostId: string) => ClaimBook,
  query: PlacementQuery,
): PlacementAnswer {
  const options = { includeUnreachable: query.includeUnreachableHosts, includeDraining: query.includeDrainingHosts };
  const sourceHosts = new Set<string>();
  for (const request of query.requests) {
    const match = /^hosts\/([^/]+)\/devices\//.exec(request.source.name);
    if (match) sourceHosts.add(match[1]);
  }
  const verdicts = query.requests.map(() => new Map<string, CachedVerdict>());
  const hostOk = (host: LiveHost): boolean => {
    const id = host.record.hostId;
    return (
      hostIsEligible(host.record, options) &&
      !query.excludeHosts.has(id) &&
      (query.includeSourceHosts || !sourceHosts.has(id)) &&
      labelsMatch(host.record.labels, query.hostLabels)
    );
  };
  // Pass 1, no allocation per device: which requests each eligible host has a candidate for
  // (a bit per request; -1 marks a host the filters leave out).
  const compatibleEntries: DescriptorEntry[][] = query.requests.map(() => []);
  const masks = new Map<LiveHost, number>();
  let candidates = 0;
  query.requests.forEach((request, r) => {
    const bit = 1 << r;
    for (const entry of state.candidateEntries(request.source.descriptor)) {
      if (entry.devices.size === 0) continue;
      const cached = verdictCache.verdictFor(request.source.descriptor, entry.descriptor);
      if (cached.rank.verdictClass >= 2) continue;
      verdicts[r].set(entry.descriptor.key, cached);
      compatibleEntries[r].push(entry);
      for (const device of entry.devices) {
        candidates++;
        const host = device.host;
        const mask = masks.get(host);
        if (mask === undefined) masks.set(host, hostOk(host) ? bit : -1);
        else if (mask >= 0 && (mask & bit) === 0) masks.set(host, mask | bit);
      }
    }
  });
  // A host without a candidate for some request cannot take the VM: without explain it is
  // counted as examined but never solved. Explain solves every host with a candidate.
  const every = (1 << query.requests.length) - 1;
  let hostsExamined = 0;
  let solvable = 0;
  for (const mask of masks.values()) {
    if (mask <= 0) continue;
    hostsExamined++;
    if (query.explain || mask === every) solvable++;
  }
  // Pass 2, only for the hosts to solve: their candidate devices, in the order of pass 1.
  const perHost = new Map<string, { host: LiveHost; devices: Map<string, HostDevice> }>();
  if (solvable > 0) {
    compatibleEntries.forEach((entries) => {
      for (const entry of entries) {
        for (const device of entry.devices) {
          const mask = masks.get(device.host)!;
          if (mask <= 0 || (!query.explain && mask !== every)) continue;
          const hostId = device.record.hostId;
          let slot = perHost.get(hostId);
          if (!slot) perHost.set(hostId, (slot = { host: device.host, devices: new Map() }));
          if (!slot.devices.has(device.record.deviceId)) {
            slot.devices.set(device.record.deviceId, hostDevice(device));
          }
        }
      }
    });
  }
  const requests = query.requests.map((r) => ({ requestId: r.requestId, count: r.count }));
  const instances = new Map<string, HostInstance>();
  function* hosts(): Generator<HostCandidate> {
    for (const [hostId, { host, devices }] of perHost) {
      const book = bookOf(hostId);
      // CreateClaim would refuse this host another claim (claims.ts): it is no placement.
      if (holdsMostClaims(book)) continue;
      const derived = hostDerived(host, book);
      const instance = hostInstance({
        requests,
        candidates: [...devices.values()],
        allDevices: (id) => {
          const device = host.devices.get(id);
          return device && hostDevice(device);
        },
        capacity: derived.capacity,
        state: derived.state,
        hostFreeUnits: derived.hostFreeUnits,
        book,
        judge: (request, key) => verdicts[request].get(key)?.rank,
      });
      instances.set(hostId, instance);
      yield { hostId, instance };
    }
  }
  const result = rankPlacements(hosts(), { limit: query.limit, explain: query.explain, explainLimit: query.explainLimit });
  const hostsById = new Map([...perHost].map(([id, slot]) => [id, slot.host]));
  return { ...result, hostsExamined, revision: state.revision, candidates, instances, verdicts, hosts: hostsById };
}
