// FindPlacements' finder (server/core/placement-finder.ts) is optimised: it walks only the
// candidates of the VM's device kinds and solves only the hosts that have a candidate for
// every request (all hosts with a candidate under explain). This property test builds small
// random registries (device kinds and versions, capacity or none, shared budgets, claims,
// draining hosts, labels) and random VMs and filters, and checks that the finder's answer is
// the one a straightforward reference gives, first and again after each random write (a
// resync, a claim, a release), so that the per-host data it keeps between queries is never stale: every device of every host judged on its own,
// every host with a compatible device solved, the results ranked by the same rule. On the
// in-memory store (test/helpers/core.ts).

import test from 'ava';
import fc from 'fast-check';
import { validateCreateClaim } from '../server/core/claims.ts';
import { hostIsEligible } from '../server/core/live-state.ts';
import { hostInstance, rankPlacements, type HostCandidate, type HostDevice, type HostPlacement } from '../server/core/placement-rank.ts';
import { validateFindPlacements } from '../server/core/placement-request.ts';
import type { Registry } from '../server/core/registry.ts';
import { capacityOf } from '../server/core/claims-registry.ts';
import type { HostInstance } from '../server/core/assignment.ts';
import { ORIGIN, openCore, syncOf, ANYONE } from './helpers/core.ts';

const KINDS = [
  { vendor: 'acme', device_api: 'vfio-pci', type: 'gpu-a', software_version: '1.0.0' },
  { vendor: 'acme', device_api: 'vfio-pci', type: 'gpu-a', software_version: '1.1.0' },
  { vendor: 'acme', device_api: 'vfio-pci', type: 'gpu-a', software_version: '2.0.0' },
  { vendor: 'acme', device_api: 'vfio-pci', type: 'gpu-b', compatible_types: ['gpu-a'], software_version: '1.0.0' },
  { vendor: 'acme', device_api: 'vfio-pci', type: 'nic', software_version: '1.0.0' },
  { vendor: 'acme', device_api: 'vfio-pci', type: 'nic', software_version: '1.0.3' },
];
const HOSTS = ['h0', 'h1', 'h2', 'h3', 'h4'];

interface HostSpec {
  readonly devices: { readonly kind: number; readonly available: number | null }[];
  readonly budget: { readonly available: number; readonly perUnit: (number | null)[] } | null;
  readonly rack: 'r1' | 'r2';
  readonly draining: boolean;
  readonly claims: { readonly device: number; readonly count: number }[];
}

const hostSpec: fc.Arbitrary<HostSpec> = fc.record({
  devices: fc.array(fc.record({ kind: fc.nat({ max: KINDS.length - 1 }), available: fc.option(fc.integer({ min: 0, max: 3 })) }), {
    minLength: 0,
    maxLength: 5,
  }),
  budget: fc.option(fc.record({ available: fc.integer({ min: 0, max: 6 }), perUnit: fc.array(fc.option(fc.integer({ min: 1, max: 3 })), { minLength: 5, maxLength: 5 }) })),
  rack: fc.constantFrom('r1' as const, 'r2' as const),
  draining: fc.boolean(),
  claims: fc.array(fc.record({ device: fc.nat({ max: 4 }), count: fc.integer({ min: 1, max: 2 }) }), { maxLength: 3 }),
});

interface QuerySpec {
  readonly requests: { readonly source: { readonly host: number; readonly device: number } | { readonly kind: number }; readonly count: number }[];
  readonly excludeHosts: string[];
  readonly rack: 'r1' | 'r2' | null;
  readonly includeDraining: boolean;
  readonly includeSourceHosts: boolean;
  readonly limit: number;
  readonly explain: boolean;
}

const querySpec: fc.Arbitrary<QuerySpec> = fc.record({
  requests: fc.array(
    fc.record({
      source: fc.oneof(
        fc.record({ host: fc.nat({ max: HOSTS.length - 1 }), device: fc.nat({ max: 4 }) }),
        fc.record({ kind: fc.nat({ max: KINDS.length - 1 }) }),
      ),
      count: fc.integer({ min: 1, max: 3 }),
    }),
    { minLength: 1, maxLength: 3 },
  ),
  excludeHosts: fc.subarray(HOSTS, { maxLength: 2 }),
  rack: fc.option(fc.constantFrom('r1' as const, 'r2' as const)),
  includeDraining: fc.boolean(),
  includeSourceHosts: fc.boolean(),
  limit: fc.integer({ min: 1, max: 4 }),
  explain: fc.boolean(),
});

type Change =
  | { readonly kind: 'resync'; readonly host: number; readonly spec: HostSpec }
  | { readonly kind: 'claim'; readonly host: number; readonly device: number; readonly count: number }
  | { readonly kind: 'release'; readonly host: number; readonly claim: number };

const change: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ kind: fc.constant('resync' as const), host: fc.nat({ max: HOSTS.length - 1 }), spec: hostSpec }),
  fc.record({ kind: fc.constant('claim' as const), host: fc.nat({ max: HOSTS.length - 1 }), device: fc.nat({ max: 4 }), count: fc.integer({ min: 1, max: 2 }) }),
  fc.record({ kind: fc.constant('release' as const), host: fc.nat({ max: HOSTS.length - 1 }), claim: fc.nat({ max: 3 }) }),
);

/** A write between two queries: the finder's per-host cache must see it. */
async function apply(registry: Registry, hosts: HostSpec[], next: Change, serial: number): Promise<void> {
  const hostId = HOSTS[next.host];
  if (next.kind === 'resync') {
    if (next.host > hosts.length) return;
    hosts[next.host] = next.spec;
    await syncHostSpec(registry, next.host, next.spec);
  } else if (next.kind === 'claim') {
    if (!registry.findHost(hostId)?.devices.has(`d${next.device}`)) return;
    const claimSpec = validateCreateClaim({ parent: `hosts/${hostId}`, claim_id: `x${serial}`, devices: [{ device: `d${next.device}`, count: next.count }] });
    await registry.createClaim(claimSpec, ORIGIN, ANYONE).catch(() => undefined);
  } else {
    const claims = registry.listClaims({ hostId, claimId: undefined, after: undefined, limit: 10 });
    const claim = claims[next.claim];
    if (claim) await registry.releaseClaim(hostId, claim.claimId, ORIGIN, ANYONE);
  }
}

async function build(hosts: readonly HostSpec[]): Promise<Registry> {
  const { registry } = await openCore();
  for (const [h, spec] of hosts.entries()) await syncHostSpec(registry, h, spec);
  return registry;
}

async function syncHostSpec(registry: Registry, h: number, spec: HostSpec): Promise<void> {
  const hostId = HOSTS[h];
  const ids = spec.devices.map((_, d) => `d${d}`);
  const consumption: Record<string, number> = {};
  spec.devices.forEach((_, d) => {
    const perUnit = spec.budget?.perUnit[d];
    if (perUnit != null) consumption[`d${d}`] = perUnit;
  });
  const budgets =
    spec.budget && Object.keys(consumption).length > 0
      ? [{ budget_id: 'gpu0/mem', parent: 'gpu0', total: 6, available: spec.budget.available, consumption }]
      : [];
  await registry.syncHost(
    syncOf(
      hostId,
      spec.devices.map((device, d) => ({ id: ids[d], descriptor: KINDS[device.kind], ...(device.available !== null && { available: device.available }) })),
      { rack: spec.rack },
      budgets,
    ),
    ORIGIN,
  );
  if (spec.draining) await registry.setDraining(hostId, true, ORIGIN);
  for (const [c, claim] of spec.claims.entries()) {
    if (claim.device >= spec.devices.length) continue;
    const claimSpec = validateCreateClaim({ parent: `hosts/${hostId}`, claim_id: `c${c}`, devices: [{ device: `d${claim.device}`, count: claim.count }] });
    await registry.createClaim(claimSpec, ORIGIN, ANYONE).catch(() => undefined); // capacity exhausted: no claim
  }
}

function queryOf(registry: Registry, hosts: readonly HostSpec[], spec: QuerySpec) {
  const devices = spec.requests.map((request, r) => {
    const { source } = request;
    const registered = 'host' in source && source.host < hosts.length && source.device < hosts[source.host].devices.length;
    return {
      request_id: `r${r}`,
      count: request.count,
      source: registered
        ? { name: `hosts/${HOSTS[source.host]}/devices/d${source.device}` }
        : { descriptor: KINDS['kind' in source ? source.kind : 0] as never },
    };
  });
  return validateFindPlacements(
    {
      devices,
      exclude_hosts: spec.excludeHosts,
      host_labels: spec.rack ? { rack: spec.rack } : {},
      include_draining_hosts: spec.includeDraining,
      include_source_hosts: spec.includeSourceHosts,
      limit: spec.limit,
      explain: spec.explain,
      explain_limit: spec.limit,
    },
    (ref, field) => {
      const resolved = registry.resolveCurrent(ref as never, field);
      return { descriptor: resolved.descriptor, name: resolved.device?.name ?? '' };
    },
  );
}

/** The reference: every device of every host judged on its own; every host with a compatible device solved. */
function reference(registry: Registry, query: ReturnType<typeof queryOf>) {
  const sourceHosts = new Set(query.requests.map((r) => /^hosts\/([^/]+)\//.exec(r.source.name)?.[1]).filter(Boolean));
  const candidates: HostCandidate[] = [];
  const instances = new Map<string, HostInstance>();
  let candidateCount = 0;
  for (const hostId of HOSTS) {
    const host = registry.findHost(hostId);
    if (!host) continue;
    const eligible =
      hostIsEligible(host.record, { includeUnreachable: query.includeUnreachableHosts, includeDraining: query.includeDrainingHosts }) &&
      !query.excludeHosts.has(hostId) &&
      (query.includeSourceHosts || !sourceHosts.has(hostId)) &&
      Object.entries(query.hostLabels).every(([k, v]) => host.record.labels[k] === v);
    const chosen = new Map<string, HostDevice>();
    query.requests.forEach((request) => {
      for (const device of host.devices.values()) {
        if (registry.verdictFor(request.source.descriptor, device.entry.descriptor).rank.verdictClass >= 2) continue;
        candidateCount++;
        if (eligible) chosen.set(device.record.deviceId, { deviceId: device.record.deviceId, name: device.name, descriptorKey: device.entry.descriptor.key });
      }
    });
    if (chosen.size === 0) continue;
    const instance = hostInstance({
      requests: query.requests.map((r) => ({ requestId: r.requestId, count: r.count })),
      candidates: [...chosen.values()],
      allDevices: (id) => {
        const device = host.devices.get(id);
        return device && { deviceId: id, name: device.name, descriptorKey: device.entry.descriptor.key };
      },
      capacity: capacityOf(host),
      book: registry.claimBookOf(hostId),
      judge: (r, key) => {
        const device = [...host.devices.values()].find((d) => d.entry.descriptor.key === key)!;
        return registry.verdictFor(query.requests[r].source.descriptor, device.entry.descriptor).rank;
      },
    });
    instances.set(hostId, instance);
    candidates.push({ hostId, instance });
  }
  const result = rankPlacements(candidates, { limit: query.limit, explain: query.explain, explainLimit: query.explainLimit });
  return { ...result, candidates: candidateCount, instances };
}

/** What a user sees of a placement: the host, its key, and which device takes which unit. */
function shown(placements: readonly HostPlacement[], instances: ReadonlyMap<string, HostInstance>) {
  return placements.map((p) => ({
    hostId: p.hostId,
    key: p.assignment.key,
    placed: p.assignment.placed,
    pairs: p.assignment.pairs.map((pair) => `${pair.request}.${pair.unit}->${instances.get(p.hostId)!.devices[pair.device].name}`),
    missing: 'missing' in p ? p.missing : undefined,
  }));
}

test('the optimised finder gives the reference answer on random registries with claims and budgets', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(hostSpec, { minLength: 1, maxLength: HOSTS.length }),
      querySpec,
      fc.array(change, { maxLength: 3 }),
      async (initial, spec, changes) => {
      const hosts = [...initial];
      const registry = await build(hosts);
      try {
        const compare = () => {
          const query = queryOf(registry, hosts, spec);
          const found = registry.findPlacements(query);
          const expected = reference(registry, query);
          t.deepEqual(shown(found.placements, found.instances), shown(expected.placements, expected.instances));
          t.deepEqual(shown(found.partial, found.instances), shown(expected.partial, expected.instances));
          t.is(found.placementCount, expected.placementCount);
          t.is(found.partialCount, expected.partialCount);
          t.is(found.hostsExamined, expected.hostsExamined);
          t.is(found.candidates, expected.candidates);
        };
        compare();
        // Then again after each write: a cached host's data must follow syncs and claims.
        for (const [serial, next] of changes.entries()) {
          await apply(registry, hosts, next, serial);
          compare();
        }
      } finally {
        await registry.close();
      }
      },
    ),
    { numRuns: 150 },
  );
});

test('a host without a candidate for one request is examined, not placed; explain shows what it lacks', async (t) => {
  const { registry } = await openCore();
  await registry.syncHost(syncOf('both', [{ id: 'g', descriptor: KINDS[0], available: 2 }, { id: 'n', descriptor: KINDS[4], available: 1 }]), ORIGIN);
  await registry.syncHost(syncOf('gpu-only', [{ id: 'g', descriptor: KINDS[0], available: 4 }]), ORIGIN);
  const hosts: HostSpec[] = [];
  const spec = (explain: boolean): QuerySpec => ({
    requests: [
      { source: { kind: 0 }, count: 2 },
      { source: { kind: 4 }, count: 1 },
    ],
    excludeHosts: [],
    rack: null,
    includeDraining: false,
    includeSourceHosts: false,
    limit: 10,
    explain,
  });
  const plain = registry.findPlacements(queryOf(registry, hosts, spec(false)));
  t.deepEqual(plain.placements.map((p) => p.hostId), ['both']);
  t.is(plain.hostsExamined, 2);
  t.deepEqual(plain.partial, []);
  const explained = registry.findPlacements(queryOf(registry, hosts, spec(true)));
  t.deepEqual(explained.placements.map((p) => p.hostId), ['both']);
  t.deepEqual(
    explained.partial.map((p) => [p.hostId, p.missing.map((m) => m.reason)]),
    [['gpu-only', ['NO_COMPATIBLE_DEVICE']]],
  );
  await registry.close();
});

test('a host solved before follows a sync of new capacity and a claim made and released', async (t) => {
  const { registry } = await openCore();
  const vm: QuerySpec = {
    requests: [{ source: { kind: 0 }, count: 2 }],
    excludeHosts: [],
    rack: null,
    includeDraining: false,
    includeSourceHosts: false,
    limit: 10,
    explain: true,
  };
  const ask = () => {
    const answer = registry.findPlacements(queryOf(registry, [], vm));
    return {
      full: answer.placements.map((p) => [p.hostId, p.assignment.key.freeUnitsAfter]),
      partial: answer.partial.map((p) => [p.hostId, p.placedUnits]),
    };
  };
  await registry.syncHost(syncOf('h0', [{ id: 'g', descriptor: KINDS[0], available: 3 }]), ORIGIN);
  t.deepEqual(ask(), { full: [['h0', 1]], partial: [] });
  await registry.syncHost(syncOf('h0', [{ id: 'g', descriptor: KINDS[0], available: 4 }]), ORIGIN);
  t.deepEqual(ask(), { full: [['h0', 2]], partial: [] }, 'the new capacity, not the cached one');
  await registry.syncHost(syncOf('h0', [{ id: 'g', descriptor: KINDS[0], available: 4 }, { id: 'g2', descriptor: KINDS[4], available: 2 }]), ORIGIN);
  t.deepEqual(ask(), { full: [['h0', 4]], partial: [] }, 'a device added counts in the free units');
  const claim = validateCreateClaim({ parent: 'hosts/h0', claim_id: 'm1', devices: [{ device: 'g', count: 3 }] });
  await registry.createClaim(claim, ORIGIN, ANYONE);
  t.deepEqual(ask(), { full: [], partial: [['h0', 1]] }, 'the claim counts');
  await registry.releaseClaim('h0', 'm1', ORIGIN, ANYONE);
  t.deepEqual(ask(), { full: [['h0', 4]], partial: [] }, 'the release counts');
  await registry.close();
});
