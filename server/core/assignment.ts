// The exact assignment of one VM's device requests to the units of one host's devices
// (docs/model.md, "Placing a VM"). FindPlacements calls it once per host that has candidates.
//
// An assignment gives every unit of every request its own target unit: a device takes at
// most as many units as it has free (claims counted), and the units of devices that draw on a
// shared budget never draw more than the budget has free. Among the feasible assignments it
// returns one that minimises the placement key, compared in order:
//   1. the worst pair's verdict (COMPATIBLE before WITH_WARNINGS);
//   2. the number of pairs that are not exact matches;
//   3. the sums over the pairs of |Δmajor|, then |Δminor|, then |Δpatch| of software_version;
//   4. the most free units left on the host afterwards (more is better).
// Across hosts, the host name breaks the remaining ties (placement-rank.ts).
//
// Not a greedy pick: it can give the one device that a later request needs to an earlier
// request that had other options, and report "does not fit" where an assignment exists.
// Devices that share a descriptor and draw on no budget are interchangeable and pooled into
// one class. Then two exact methods:
//  - no budget in play: key 4 is the host's free units minus the units placed, equal for all
//    full assignments, and keys 2-3 are sums, so a min-cost flow with lexicographic costs
//    solves it; key 1 is a maximum, so compatible-only pairs are tried first. The common case
//    (every unit gets one of its best pairs) needs no flow at all.
//  - budgets in play: key 4 is not additive (a unit may cost its siblings units too), so a
//    branch and bound distributes each request's count over the classes, best pairs first,
//    pruning with a lower bound on the key. Sizes are small (a VM has a handful of devices,
//    a budget a few sibling types).
// The property test in test/placement-assignment.test.ts checks both against brute force.

import { compareRankKeys, type RankKey } from './rank.ts';

export interface AssignmentRequest {
  readonly requestId: string;
  /** Units needed, at least 1. */
  readonly count: number;
}

export interface BudgetDraw {
  readonly budgetId: string;
  /** How much of the budget one unit of the device uses, at least 1. */
  readonly perUnit: number;
}

export interface CandidateDevice {
  /** The device's resource name: orders devices within a class, and names pairs. */
  readonly name: string;
  /** Devices with equal keys are judged once (the verdict depends on descriptors only). */
  readonly descriptorKey: string;
  /** Free units, claims counted, before budgets are applied (claims.ts `freeState`). */
  readonly free: number;
  readonly draws: readonly BudgetDraw[];
}

export interface HostInstance {
  readonly requests: readonly AssignmentRequest[];
  /**
   * The host's candidate devices, and every device that draws on a budget a candidate draws
   * on (a sibling's free units change when a candidate's budget is used).
   */
  readonly devices: readonly CandidateDevice[];
  /** Free amount per budget, claims counted; a budget absent here has nothing free. */
  readonly budgetFree: ReadonlyMap<string, number>;
  /**
   * The pair key of request `request` on `device`, or undefined when the device is not a
   * compatible target for it. Called once per (request, descriptor key).
   */
  readonly judge: (request: number, device: CandidateDevice) => RankKey | undefined;
  /**
   * Free units of the whole host before the assignment, budgets applied per device. Defaults
   * to the sum over `devices`; give it to rank hosts by all their devices.
   */
  readonly hostFreeUnits?: number;
}

export interface AssignmentKey {
  /** 0 every pair compatible, 1 some with warnings. */
  readonly worstVerdict: number;
  readonly nonExact: number;
  readonly distance: readonly [number, number, number];
  readonly freeUnitsAfter: number;
}

export interface AssignedPair {
  readonly request: number;
  /** The unit's index within its request. */
  readonly unit: number;
  /** Index into HostInstance.devices. */
  readonly device: number;
  readonly pairKey: RankKey;
}

export interface Assignment {
  readonly key: AssignmentKey;
  /** In request order, then unit order; in partial assignments, only the placed units. */
  readonly pairs: readonly AssignedPair[];
  /** Units placed per request (equal to the counts for a full assignment). */
  readonly placed: readonly number[];
}

/** Orders keys best first (negative when `a` is better). */
export function compareAssignmentKeys(a: AssignmentKey, b: AssignmentKey): number {
  if (a.worstVerdict !== b.worstVerdict) return a.worstVerdict - b.worstVerdict;
  if (a.nonExact !== b.nonExact) return a.nonExact - b.nonExact;
  for (let i = 0; i < 3; i++) if (a.distance[i] !== b.distance[i]) return a.distance[i] - b.distance[i];
  return b.freeUnitsAfter - a.freeUnitsAfter;
}

/** The best full assignment, or undefined when the host cannot take every unit at once. */
export function assignHost(instance: HostInstance): Assignment | undefined {
  return search(instance, false);
}

/**
 * The best partial assignment: the most units placed, then the best key among those. Used
 * to explain a host that cannot take the whole VM.
 */
export function assignHostPartial(instance: HostInstance): Assignment {
  return search(instance, true) ?? emptyAssignment(instance);
}

// ---------------------------------------------------------------------------------------

interface DeviceClass {
  /** Indexes into devices, by name. */
  readonly members: readonly number[];
  /** Pooled classes draw on no budget; a budgeted class has exactly one member. */
  readonly draws: readonly BudgetDraw[];
  readonly capacity: number;
}

interface Option {
  readonly cls: number;
  readonly pairKey: RankKey;
}

/** A partial cost: the additive terms and the worst verdict so far. */
interface Cost {
  worst: number;
  nonExact: number;
  major: number;
  minor: number;
  patch: number;
}

function search(instance: HostInstance, partial: boolean): Assignment | undefined {
  const { requests, devices } = instance;
  const classes = buildClasses(devices);
  // Judged once per (request, descriptor): keyed by descriptor, then request index.
  const judged = new Map<string, (RankKey | undefined | null)[]>();
  const options: Option[][] = requests.map((_, r) => {
    const list: Option[] = [];
    classes.forEach((cls, index) => {
      const device = devices[cls.members[0]];
      let row = judged.get(device.descriptorKey);
      if (!row) judged.set(device.descriptorKey, (row = new Array(requests.length).fill(null)));
      if (row[r] === null) row[r] = instance.judge(r, device);
      const pairKey = row[r];
      if (pairKey && pairKey.verdictClass < 2 && cls.capacity > 0) list.push({ cls: index, pairKey });
    });
    list.sort(
      (a, b) =>
        compareRankKeys(a.pairKey, b.pairKey) ||
        nameOrder(devices[classes[a.cls].members[0]].name, devices[classes[b.cls].members[0]].name),
    );
    return list;
  });
  if (!partial && options.some((list) => list.length === 0)) return undefined;
  if (options.every((list) => list.every((option) => classes[option.cls].draws.length === 0))) {
    return solveByFlow(instance, classes, options, partial);
  }

  // Budget state and exact free-unit accounting.
  const used = new Array<number>(devices.length).fill(0);
  const budgetLeft = new Map(instance.budgetFree);
  const effective = (d: number): number => {
    let free = devices[d].free - used[d];
    for (const draw of devices[d].draws) free = Math.min(free, Math.floor((budgetLeft.get(draw.budgetId) ?? 0) / draw.perUnit));
    return Math.max(0, free);
  };
  const freeBefore = devices.reduce((sum, _, d) => sum + effective(d), 0);
  const hostFree = instance.hostFreeUnits ?? freeBefore;
  const budgetMembers = new Map<string, number[]>();
  devices.forEach((device, d) => device.draws.forEach((draw) => budgetMembers.set(draw.budgetId, [...(budgetMembers.get(draw.budgetId) ?? []), d])));
  /** Devices whose effective free units change when device d's usage does. */
  const affected: number[][] = devices.map((device, d) => {
    const set = new Set<number>([d]);
    for (const draw of device.draws) for (const m of budgetMembers.get(draw.budgetId) ?? []) set.add(m);
    return [...set];
  });
  let freeNow = hostFree;
  const left = classes.map((cls) => cls.capacity);

  /** Takes n units of a class if they fit; returns an undo function, or undefined. */
  const take = (c: number, n: number): (() => void) | undefined => {
    const cls = classes[c];
    if (n > left[c]) return undefined;
    if (cls.draws.length === 0) {
      left[c] -= n;
      freeNow -= n;
      return () => {
        left[c] += n;
        freeNow += n;
      };
    }
    const d = cls.members[0];
    for (const draw of cls.draws) if ((budgetLeft.get(draw.budgetId) ?? 0) < draw.perUnit * n) return undefined;
    const before = affected[d].reduce((sum, m) => sum + effective(m), 0);
    used[d] += n;
    for (const draw of cls.draws) budgetLeft.set(draw.budgetId, (budgetLeft.get(draw.budgetId) ?? 0) - draw.perUnit * n);
    const after = affected[d].reduce((sum, m) => sum + effective(m), 0);
    const delta = before - after;
    left[c] -= n;
    freeNow -= delta;
    return () => {
      used[d] -= n;
      for (const draw of cls.draws) budgetLeft.set(draw.budgetId, (budgetLeft.get(draw.budgetId) ?? 0) + draw.perUnit * n);
      left[c] += n;
      freeNow += delta;
    };
  };

  // Lower bounds for the requests not yet assigned: every unit at its best pair.
  const bestPair = options.map((list) => list[0]?.pairKey);
  const suffix: Cost[] = new Array(requests.length + 1);
  const suffixUnits: number[] = new Array(requests.length + 1).fill(0);
  suffix[requests.length] = { worst: 0, nonExact: 0, major: 0, minor: 0, patch: 0 };
  for (let r = requests.length - 1; r >= 0; r--) {
    const next = suffix[r + 1];
    const best = bestPair[r];
    const n = requests[r].count;
    suffix[r] = best && !partial
      ? {
          worst: Math.max(next.worst, best.verdictClass),
          nonExact: next.nonExact + (best.exact ? 0 : n),
          major: next.major + n * best.distance[0],
          minor: next.minor + n * best.distance[1],
          patch: next.patch + n * best.distance[2],
        }
      : next;
    suffixUnits[r] = suffixUnits[r + 1] + (best ? n : 0);
  }

  const allocation: number[][] = requests.map(() => []); // per request: units per option index
  let best: { placedTotal: number; key: AssignmentKey; allocation: number[][] } | undefined;
  const cost: Cost = { worst: 0, nonExact: 0, major: 0, minor: 0, patch: 0 };
  let placedTotal = 0;

  const keyOf = (c: Cost, free: number): AssignmentKey => ({
    worstVerdict: c.worst,
    nonExact: c.nonExact,
    distance: [c.major, c.minor, c.patch],
    freeUnitsAfter: free,
  });
  /** True when nothing below this node can beat the best found so far. */
  const prune = (r: number): boolean => {
    if (!best) return false;
    if (partial) {
      const reachable = placedTotal + suffixUnits[r];
      if (reachable !== best.placedTotal) return reachable < best.placedTotal;
      const bound = keyOf(cost, freeNow);
      return compareAssignmentKeys({ ...bound, freeUnitsAfter: Number.MAX_SAFE_INTEGER }, best.key) >= 0;
    }
    const rest = suffix[r];
    const bound: Cost = {
      worst: Math.max(cost.worst, rest.worst),
      nonExact: cost.nonExact + rest.nonExact,
      major: cost.major + rest.major,
      minor: cost.minor + rest.minor,
      patch: cost.patch + rest.patch,
    };
    return compareAssignmentKeys(keyOf(bound, freeNow - suffixUnits[r]), best.key) >= 0;
  };

  const visitRequest = (r: number): void => {
    if (r === requests.length) {
      const key = keyOf(cost, freeNow);
      if (
        !best ||
        placedTotal > best.placedTotal ||
        (placedTotal === best.placedTotal && compareAssignmentKeys(key, best.key) < 0)
      ) {
        best = { placedTotal, key, allocation: allocation.map((a) => [...a]) };
      }
      return;
    }
    if (prune(r)) return;
    distribute(r, 0, requests[r].count);
  };

  /** Gives request r's remaining `need` units to its options from index o on. */
  const distribute = (r: number, o: number, need: number): void => {
    const list = options[r];
    if (need === 0 || o === list.length) {
      if (need > 0 && !partial) return;
      allocation[r].length = o;
      visitRequest(r + 1);
      return;
    }
    const option = list[o];
    const max = Math.min(need, left[option.cls]);
    for (let n = max; n >= 0; n--) {
      if (n === 0) {
        allocation[r][o] = 0;
        distribute(r, o + 1, need);
        continue;
      }
      const undo = take(option.cls, n);
      if (!undo) continue;
      const saved = { ...cost };
      const k = option.pairKey;
      cost.worst = Math.max(cost.worst, k.verdictClass);
      if (!k.exact) cost.nonExact += n;
      cost.major += n * k.distance[0];
      cost.minor += n * k.distance[1];
      cost.patch += n * k.distance[2];
      placedTotal += n;
      allocation[r][o] = n;
      distribute(r, o + 1, need - n);
      placedTotal -= n;
      Object.assign(cost, saved);
      undo();
    }
  };

  visitRequest(0);
  if (!best || (partial && best.placedTotal === 0)) return undefined;
  const found = best;
  return {
    key: found.key,
    pairs: expand(found.allocation, options, classes, devices),
    placed: found.allocation.map((a) => a.reduce((sum, n) => sum + (n ?? 0), 0)),
  };
}

// ---------------------------------------------------------------------------------------
// Without budgets in play, the key's last term is the host's free units minus the units
// placed, the same for every assignment that places as many: what remains is a min-cost
// flow. Requests -> classes -> sink, with capacities count and free units; each unit's cost
// is its pair's (non-exact, |Δmajor|, |Δminor|, |Δpatch|) compared lexicographically, which
// successive shortest paths minimise exactly (its costs need only be a totally ordered
// group). The worst verdict is a maximum, not a sum: solve with compatible pairs only first,
// and allow pairs with warnings only when that places fewer units.

type FlowCost = [number, number, number, number];

interface Edge {
  readonly to: number;
  cap: number;
  readonly cost: FlowCost;
  /** Index of the reverse edge in graph[to]. */
  readonly rev: number;
  /** For request -> class edges: the option index it stands for. */
  readonly option?: number;
}

function solveByFlow(
  instance: HostInstance,
  classes: readonly DeviceClass[],
  options: readonly Option[][],
  partial: boolean,
): Assignment | undefined {
  const units = instance.requests.reduce((sum, r) => sum + r.count, 0);
  const strict = bestPairsFit(instance, classes, options) ?? flow(instance, classes, options, false);
  const solved = strict.placed === units || !options.some((list) => list.some((o) => o.pairKey.verdictClass === 1))
    ? strict
    : (() => {
        const loose = flow(instance, classes, options, true);
        return loose.placed > strict.placed ? loose : strict;
      })();
  if (solved.placed === 0 || (!partial && solved.placed < units)) return undefined;
  const freeBefore = instance.devices.reduce((sum, d) => sum + Math.max(0, effectiveFree(d, instance.budgetFree)), 0);
  const hostFree = instance.hostFreeUnits ?? freeBefore;
  let worst = 0;
  const cost: FlowCost = [0, 0, 0, 0];
  solved.allocation.forEach((perOption, r) =>
    perOption.forEach((n, o) => {
      if (!n) return;
      const k = options[r][o].pairKey;
      worst = Math.max(worst, k.verdictClass);
      if (!k.exact) cost[0] += n;
      for (let i = 0; i < 3; i++) cost[i + 1] += n * k.distance[i];
    }),
  );
  return {
    key: { worstVerdict: worst, nonExact: cost[0], distance: [cost[1], cost[2], cost[3]], freeUnitsAfter: hostFree - solved.placed },
    pairs: expand(solved.allocation, options, classes, instance.devices),
    placed: solved.allocation.map((a) => a.reduce((sum, n) => sum + (n ?? 0), 0)),
  };
}

/**
 * The common case, answered without a flow: when every unit can have one of its request's
 * best pairs (free units permitting), no assignment can cost less, so this one is optimal.
 * Undefined when some unit cannot, or the best pairs carry warnings (the flow then decides
 * whether compatible-only pairs can place every unit).
 */
function bestPairsFit(
  instance: HostInstance,
  classes: readonly DeviceClass[],
  options: readonly Option[][],
): { placed: number; allocation: number[][] } | undefined {
  const left = classes.map((cls) => cls.capacity);
  const allocation: number[][] = [];
  let placed = 0;
  for (const [r, request] of instance.requests.entries()) {
    const list = options[r];
    if (list.length === 0 || list[0].pairKey.verdictClass !== 0) return undefined;
    const perOption = new Array<number>(list.length).fill(0);
    let need = request.count;
    for (let o = 0; o < list.length && need > 0 && compareRankKeys(list[o].pairKey, list[0].pairKey) === 0; o++) {
      const n = Math.min(need, left[list[o].cls]);
      left[list[o].cls] -= n;
      perOption[o] = n;
      need -= n;
    }
    if (need > 0) return undefined;
    placed += request.count;
    allocation.push(perOption);
  }
  return { placed, allocation };
}

/** A device's free units with its budgets applied, nothing assigned yet. */
function effectiveFree(device: CandidateDevice, budgetFree: ReadonlyMap<string, number>): number {
  let free = device.free;
  for (const draw of device.draws) free = Math.min(free, Math.floor((budgetFree.get(draw.budgetId) ?? 0) / draw.perUnit));
  return free;
}

function flow(
  instance: HostInstance,
  classes: readonly DeviceClass[],
  options: readonly Option[][],
  allowWarnings: boolean,
): { placed: number; allocation: number[][] } {
  const R = instance.requests.length;
  const source = 0;
  const sink = R + classes.length + 1;
  const graph: Edge[][] = Array.from({ length: sink + 1 }, () => []);
  const zero: FlowCost = [0, 0, 0, 0];
  const addEdge = (from: number, to: number, cap: number, cost: FlowCost, option?: number) => {
    graph[from].push({ to, cap, cost, rev: graph[to].length, option });
    graph[to].push({ to: from, cap: 0, cost: [-cost[0], -cost[1], -cost[2], -cost[3]], rev: graph[from].length - 1 });
  };
  instance.requests.forEach((request, r) => {
    addEdge(source, 1 + r, request.count, zero);
    options[r].forEach((option, o) => {
      const k = option.pairKey;
      if (k.verdictClass === 1 && !allowWarnings) return;
      addEdge(1 + r, 1 + R + option.cls, request.count, [k.exact ? 0 : 1, k.distance[0], k.distance[1], k.distance[2]], o);
    });
  });
  classes.forEach((cls, c) => addEdge(1 + R + c, sink, cls.capacity, zero));

  let placed = 0;
  for (;;) {
    // Bellman-Ford over the residual graph (small: tens of nodes), lexicographic costs.
    const dist: (FlowCost | undefined)[] = new Array(sink + 1).fill(undefined);
    const via: ({ node: number; edge: number } | undefined)[] = new Array(sink + 1).fill(undefined);
    dist[source] = zero;
    for (let round = 0, changed = true; changed && round <= sink; round++) {
      changed = false;
      for (let u = 0; u <= sink; u++) {
        const du = dist[u];
        if (!du) continue;
        graph[u].forEach((edge, e) => {
          if (edge.cap <= 0) return;
          const next: FlowCost = [du[0] + edge.cost[0], du[1] + edge.cost[1], du[2] + edge.cost[2], du[3] + edge.cost[3]];
          const dv = dist[edge.to];
          if (!dv || lexLess(next, dv)) {
            dist[edge.to] = next;
            via[edge.to] = { node: u, edge: e };
            changed = true;
          }
        });
      }
    }
    if (!dist[sink]) break;
    let bottleneck = Infinity;
    for (let v = sink; v !== source; v = via[v]!.node) bottleneck = Math.min(bottleneck, graph[via[v]!.node][via[v]!.edge].cap);
    for (let v = sink; v !== source; v = via[v]!.node) {
      const edge = graph[via[v]!.node][via[v]!.edge];
      edge.cap -= bottleneck;
      graph[edge.to][edge.rev].cap += bottleneck;
    }
    placed += bottleneck;
  }
  const allocation = instance.requests.map((request, r) => {
    const perOption = new Array<number>(options[r].length).fill(0);
    for (const edge of graph[1 + r]) if (edge.option !== undefined) perOption[edge.option] = request.count - edge.cap;
    return perOption;
  });
  return { placed, allocation };
}

function lexLess(a: FlowCost, b: FlowCost): boolean {
  for (let i = 0; i < 4; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return false;
}

function emptyAssignment(instance: HostInstance): Assignment {
  return {
    key: { worstVerdict: 0, nonExact: 0, distance: [0, 0, 0], freeUnitsAfter: instance.hostFreeUnits ?? 0 },
    pairs: [],
    placed: instance.requests.map(() => 0),
  };
}

/** Pools devices that share a descriptor and draw on no budget; a budgeted device stands alone. */
function buildClasses(devices: readonly CandidateDevice[]): DeviceClass[] {
  const pooled = new Map<string, number[]>();
  const classes: DeviceClass[] = [];
  devices.forEach((device, d) => {
    if (device.free <= 0 && device.draws.length === 0) return;
    if (device.draws.length > 0) {
      classes.push({ members: [d], draws: device.draws, capacity: Math.max(0, device.free) });
      return;
    }
    const list = pooled.get(device.descriptorKey) ?? [];
    list.push(d);
    pooled.set(device.descriptorKey, list);
  });
  for (const members of pooled.values()) {
    members.sort((a, b) => nameOrder(devices[a].name, devices[b].name));
    classes.push({ members, draws: [], capacity: members.reduce((sum, d) => sum + devices[d].free, 0) });
  }
  return classes;
}

/** Turns units per class into pairs: within a pooled class, devices fill in name order. */
function expand(
  allocation: readonly number[][],
  options: readonly Option[][],
  classes: readonly DeviceClass[],
  devices: readonly CandidateDevice[],
): AssignedPair[] {
  const usedOf = new Map<number, number>();
  const pairs: AssignedPair[] = [];
  allocation.forEach((perOption, request) => {
    let unit = 0;
    perOption.forEach((n, o) => {
      const option = options[request][o];
      let need = n ?? 0;
      for (const d of classes[option.cls].members) {
        while (need > 0 && (usedOf.get(d) ?? 0) < devices[d].free) {
          usedOf.set(d, (usedOf.get(d) ?? 0) + 1);
          pairs.push({ request, unit: unit++, device: d, pairKey: option.pairKey });
          need--;
        }
      }
    });
  });
  return pairs;
}

/** Code-unit order, never the locale's. */
export function nameOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
