// FindPlacements over the live state: for each device request of the VM, its candidate
// devices come from the live state's type indexes (as FindTargets' do) and each distinct
// descriptor's verdict from the verdict cache; candidates are grouped by host, and each host
// with a candidate becomes one HostInstance (placement-rank.ts), claims counted from its
// claim book. The cost grows with the candidates of the VM's device kinds and the hosts that
// hold them, never with the registry. All of it runs in one tick, so the answer is one
// revision's. A host's shared budgets come with its capacity (capacityOf), so siblings of a
// candidate that draw on its budget join the instance and the assignment never overdraws it.
//
// May call: live state (reads), the verdict cache, placement-rank.ts, claims-registry.ts (capacityOf).

import type { ClaimBook } from './claims.ts';
import { capacityOf } from './claims-registry.ts';
import type { CachedVerdict, VerdictCache } from './find-targets.ts';
import { hostIsEligible, type LiveHost, type LiveState } from './live-state.ts';
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
  const perHost = new Map<string, { host: LiveHost; devices: Map<string, HostDevice> }>();
  const verdicts = query.requests.map(() => new Map<string, CachedVerdict>());
  const eligible = new Map<LiveHost, boolean>();
  const hostOk = (host: LiveHost): boolean => {
    let ok = eligible.get(host);
    if (ok === undefined) {
      const id = host.record.hostId;
      ok =
        hostIsEligible(host.record, options) &&
        !query.excludeHosts.has(id) &&
        (query.includeSourceHosts || !sourceHosts.has(id)) &&
        labelsMatch(host.record.labels, query.hostLabels);
      eligible.set(host, ok);
    }
    return ok;
  };
  let candidates = 0;
  query.requests.forEach((request, r) => {
    for (const entry of state.candidateEntries(request.source.descriptor)) {
      if (entry.devices.size === 0) continue;
      const cached = verdictCache.verdictFor(request.source.descriptor, entry.descriptor);
      if (cached.rank.verdictClass >= 2) continue;
      verdicts[r].set(entry.descriptor.key, cached);
      for (const device of entry.devices) {
        candidates++;
        if (!hostOk(device.host)) continue;
        const hostId = device.record.hostId;
        let slot = perHost.get(hostId);
        if (!slot) perHost.set(hostId, (slot = { host: device.host, devices: new Map() }));
        slot.devices.set(device.record.deviceId, { deviceId: device.record.deviceId, name: device.name, descriptorKey: entry.descriptor.key });
      }
    }
  });
  const requests = query.requests.map((r) => ({ requestId: r.requestId, count: r.count }));
  const instances = new Map<string, HostInstance>();
  function* hosts(): Generator<HostCandidate> {
    for (const [hostId, { host, devices }] of perHost) {
      const instance = hostInstance({
        requests,
        candidates: [...devices.values()],
        allDevices: (id) => {
          const device = host.devices.get(id);
          return device && { deviceId: id, name: device.name, descriptorKey: device.entry.descriptor.key };
        },
        capacity: capacityOf(host),
        book: bookOf(hostId),
        judge: (request, key) => verdicts[request].get(key)?.rank,
      });
      instances.set(hostId, instance);
      yield { hostId, instance };
    }
  }
  const result = rankPlacements(hosts(), { limit: query.limit, explain: query.explain, explainLimit: query.explainLimit });
  const hostsById = new Map([...perHost].map(([id, slot]) => [id, slot.host]));
  return { ...result, revision: state.revision, candidates, instances, verdicts, hosts: hostsById };
}
