// The exact assignment of a VM's device requests to one host's units (server/core/assignment.ts):
// cases a scheduler would notice (a greedy pick fails where an assignment exists, the same
// unit is never given twice, shared budgets hold, the ranking key is minimised in order), and
// a property test against brute force on small random hosts, full and partial.

import test from 'ava';
import fc from 'fast-check';
import {
  assignHost,
  assignHostPartial,
  type Assignment,
  type AssignmentKey,
  type CandidateDevice,
  type HostInstance,
} from '../server/core/assignment.ts';
import type { RankKey } from '../server/core/rank.ts';

const EXACT: RankKey = { verdictClass: 0, exact: true, distance: [0, 0, 0] };
const MINOR_UP: RankKey = { verdictClass: 0, exact: false, distance: [0, 1, 0] };
const WARN: RankKey = { verdictClass: 1, exact: false, distance: [0, 0, 0] };

function device(name: string, descriptorKey: string, free: number, draws: CandidateDevice['draws'] = []): CandidateDevice {
  return { name, descriptorKey, free, draws };
}

/** judge from a table: request index -> descriptor key -> pair key. */
function table(rows: Record<string, RankKey>[]): HostInstance['judge'] {
  return (request, d) => rows[request][d.descriptorKey];
}

function targets(assignment: Assignment | undefined, devices: readonly CandidateDevice[]): string[] {
  return (assignment?.pairs ?? []).map((p) => `${p.request}.${p.unit}->${devices[p.device].name}`);
}

test('a greedy pick fails where an assignment exists: the flexible request yields the one device the other needs', (t) => {
  // Request 0 (a vGPU) fits both GPUs, best on g1; request 1 fits only g1. Giving request 0
  // its best device first leaves request 1 nothing; the matching puts request 0 on g2.
  const devices = [device('hosts/h/devices/g1', 'A', 1), device('hosts/h/devices/g2', 'B', 1)];
  const instance: HostInstance = {
    requests: [{ requestId: 'gpu0', count: 1 }, { requestId: 'gpu1', count: 1 }],
    devices,
    budgetFree: new Map(),
    judge: table([{ A: EXACT, B: MINOR_UP }, { A: EXACT }]),
  };
  const assignment = assignHost(instance);
  t.deepEqual(targets(assignment, devices), ['0.0->hosts/h/devices/g2', '1.0->hosts/h/devices/g1']);
  t.deepEqual(assignment?.key, { worstVerdict: 0, nonExact: 1, distance: [0, 1, 0], freeUnitsAfter: 0 });
});

test('never the same unit twice: two units of one request need two free units', (t) => {
  const devices = [device('hosts/h/devices/vf1', 'VF', 1), device('hosts/h/devices/gpu', 'G', 2)];
  const judge = table([{ VF: EXACT }, { G: EXACT }]);
  const twoVfs = assignHost({ requests: [{ requestId: 'nic', count: 2 }], devices, budgetFree: new Map(), judge });
  t.is(twoVfs, undefined, 'one free VF cannot take two units');
  const twoVgpus = assignHost({ requests: [{ requestId: 'nic', count: 1 }, { requestId: 'gpu', count: 2 }], devices, budgetFree: new Map(), judge });
  t.deepEqual(
    targets(twoVgpus, devices),
    ['0.0->hosts/h/devices/vf1', '1.0->hosts/h/devices/gpu', '1.1->hosts/h/devices/gpu'],
    'a device with 2 free units takes 2',
  );
});

test('the key is minimised in order: verdict, then exactness, then distance, then free units left', (t) => {
  const devices = [device('hosts/h/devices/warn', 'W', 1), device('hosts/h/devices/far', 'F', 1), device('hosts/h/devices/near', 'N', 1)];
  const far: RankKey = { verdictClass: 0, exact: false, distance: [0, 3, 0] };
  const near: RankKey = { verdictClass: 0, exact: false, distance: [0, 1, 9] };
  const assignment = assignHost({
    requests: [{ requestId: 'a', count: 1 }],
    devices,
    budgetFree: new Map(),
    judge: table([{ W: WARN, F: far, N: near }]),
  });
  // WARN has distance 0 but a worse verdict; near beats far on |Δminor| despite |Δpatch| 9.
  t.deepEqual(targets(assignment, devices), ['0.0->hosts/h/devices/near']);
});

test('shared budgets: sibling types of one parent never draw more than it has, and the assignment keeps the most units free', (t) => {
  // Two parent GPUs. Type A uses 2 units of its parent's memory per instance, type B 1.
  // p1 has 2 units of memory free, p2 has 8. Before: p1-A 1, p1-B 2, p2-A 2, p2-B 4 = 9 free.
  const devices = [
    device('hosts/h/devices/p1-A', 'A', 2, [{ budgetId: 'p1', perUnit: 2 }]),
    device('hosts/h/devices/p1-B', 'B', 4, [{ budgetId: 'p1', perUnit: 1 }]),
    device('hosts/h/devices/p2-A', 'A', 2, [{ budgetId: 'p2', perUnit: 2 }]),
    device('hosts/h/devices/p2-B', 'B', 4, [{ budgetId: 'p2', perUnit: 1 }]),
  ];
  const budgetFree = new Map([['p1', 2], ['p2', 8]]);
  const judge = table([{ A: EXACT }]);
  const request = (count: number) => assignHost({ requests: [{ requestId: 'gpu', count }], devices, budgetFree, judge });
  // One A on p1 would leave p1-B nothing (6 left in all); on p2 it leaves p2-B its 4 (8 left).
  t.deepEqual(targets(request(1), devices), ['0.0->hosts/h/devices/p2-A']);
  t.is(request(1)?.key.freeUnitsAfter, 8);
  // Two: both on p2 leaves p1 3 + p2 4 = 7; one on each leaves 0 + 5 = 5.
  t.deepEqual(targets(request(2), devices), ['0.0->hosts/h/devices/p2-A', '0.1->hosts/h/devices/p2-A']);
  t.is(request(2)?.key.freeUnitsAfter, 7);
  // Three fit only as one on p1 and two on p2; four never fit (p1's memory holds one A).
  t.deepEqual(targets(request(3), devices).sort(), ['0.0->hosts/h/devices/p1-A', '0.1->hosts/h/devices/p2-A', '0.2->hosts/h/devices/p2-A'].sort());
  t.is(request(4), undefined);
});

test('a partial assignment places the most units and says which requests fall short', (t) => {
  const devices = [device('hosts/h/devices/g1', 'A', 1)];
  const partial = assignHostPartial({
    requests: [{ requestId: 'gpu', count: 2 }, { requestId: 'nic', count: 1 }],
    devices,
    budgetFree: new Map(),
    judge: table([{ A: EXACT }, {}]),
  });
  t.deepEqual(partial.placed, [1, 0]);
  t.deepEqual(targets(partial, devices), ['0.0->hosts/h/devices/g1']);
});

// ---------------------------------------------------------------------------------------
// Brute force: every way to give each unit a device (or none, for partial), checked directly.

interface Brute {
  placed: number;
  key: AssignmentKey;
}

function bruteForce(instance: HostInstance, partial: boolean): Brute | undefined {
  const units: number[] = [];
  instance.requests.forEach((r, i) => {
    for (let u = 0; u < r.count; u++) units.push(i);
  });
  const n = instance.devices.length;
  const choice = new Array<number>(units.length).fill(partial ? -1 : 0);
  const effective = (used: number[]) =>
    instance.devices.map((d, j) => {
      let free = d.free - used[j];
      for (const draw of d.draws) {
        const drawn = instance.devices.reduce((s, e, k) => s + used[k] * (e.draws.find((x) => x.budgetId === draw.budgetId)?.perUnit ?? 0), 0);
        free = Math.min(free, Math.floor(((instance.budgetFree.get(draw.budgetId) ?? 0) - drawn) / draw.perUnit));
      }
      return Math.max(0, free);
    });
  const before = effective(new Array(n).fill(0)).reduce((a, b) => a + b, 0);
  const hostFree = instance.hostFreeUnits ?? before;
  let best: Brute | undefined;
  const low = partial ? -1 : 0;
  for (;;) {
    const used = new Array<number>(n).fill(0);
    let ok = true;
    let worst = 0, nonExact = 0, major = 0, minor = 0, patch = 0, placed = 0;
    units.forEach((r, u) => {
      const j = choice[u];
      if (j < 0) return;
      const key = instance.judge(r, instance.devices[j]);
      if (!key || key.verdictClass >= 2) ok = false;
      else {
        used[j]++;
        placed++;
        worst = Math.max(worst, key.verdictClass);
        if (!key.exact) nonExact++;
        major += key.distance[0];
        minor += key.distance[1];
        patch += key.distance[2];
      }
    });
    if (ok) ok = instance.devices.every((d, j) => used[j] <= Math.max(0, d.free));
    if (ok) {
      const budgets = new Set(instance.devices.flatMap((d) => d.draws.map((x) => x.budgetId)));
      for (const b of budgets) {
        const drawn = instance.devices.reduce((s, e, k) => s + used[k] * (e.draws.find((x) => x.budgetId === b)?.perUnit ?? 0), 0);
        if (drawn > (instance.budgetFree.get(b) ?? 0)) ok = false;
      }
    }
    if (ok && (partial || placed === units.length) && (!partial || placed > 0)) {
      const after = effective(used).reduce((a, b) => a + b, 0);
      const key: AssignmentKey = { worstVerdict: worst, nonExact, distance: [major, minor, patch], freeUnitsAfter: hostFree - (before - after) };
      if (!best || placed > best.placed || (placed === best.placed && lexicographicallyBetter(key, best.key))) best = { placed, key };
    }
    let i = 0;
    while (i < units.length && choice[i] === n - 1) choice[i++] = low;
    if (i === units.length) break;
    choice[i]++;
  }
  return best;
}

/** The key written out as a tuple, independently of compareAssignmentKeys. */
function lexicographicallyBetter(a: AssignmentKey, b: AssignmentKey): boolean {
  const tuple = (k: AssignmentKey) => [k.worstVerdict, k.nonExact, ...k.distance, -k.freeUnitsAfter];
  const x = tuple(a);
  const y = tuple(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] < y[i];
  return false;
}

/** Checks an assignment against its instance: compatible pairs, no unit twice, budgets, and its key. */
function verify(instance: HostInstance, assignment: Assignment): string | undefined {
  const used = new Array<number>(instance.devices.length).fill(0);
  for (const pair of assignment.pairs) {
    const key = instance.judge(pair.request, instance.devices[pair.device]);
    if (!key || key.verdictClass >= 2) return `pair ${pair.request}.${pair.unit} is not compatible`;
    used[pair.device]++;
  }
  for (const [j, d] of instance.devices.entries()) if (used[j] > d.free) return `${d.name} given ${used[j]} units, ${d.free} free`;
  const budgets = new Set(instance.devices.flatMap((d) => d.draws.map((x) => x.budgetId)));
  for (const b of budgets) {
    const drawn = instance.devices.reduce((s, e, k) => s + used[k] * (e.draws.find((x) => x.budgetId === b)?.perUnit ?? 0), 0);
    if (drawn > (instance.budgetFree.get(b) ?? 0)) return `budget ${b} overdrawn`;
  }
  const placed = instance.requests.map((_, r) => assignment.pairs.filter((p) => p.request === r).length);
  if (JSON.stringify(placed) !== JSON.stringify(assignment.placed)) return 'placed counts do not match pairs';
  return undefined;
}

const rankKeyArb: fc.Arbitrary<RankKey | undefined> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(undefined) },
  {
    weight: 3,
    arbitrary: fc.record({
      verdictClass: fc.integer({ min: 0, max: 1 }),
      exact: fc.boolean(),
      distance: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
    }),
  },
);

const instanceArb: fc.Arbitrary<HostInstance> = fc
  .record({
    counts: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
    devices: fc.array(
      fc.record({
        descriptorKey: fc.constantFrom('A', 'B', 'C'),
        free: fc.integer({ min: 0, max: 3 }),
        draws: fc.subarray(['b1', 'b2']).chain((ids) =>
          fc.tuple(...ids.map((id) => fc.record({ budgetId: fc.constant(id), perUnit: fc.integer({ min: 1, max: 3 }) }))),
        ),
      }),
      { minLength: 1, maxLength: 5 },
    ),
    budgetFree: fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 })),
    keys: fc.array(fc.tuple(rankKeyArb, rankKeyArb, rankKeyArb), { minLength: 3, maxLength: 3 }),
    extraFree: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
    // Half the hosts declare no budgets: the solver then takes its min-cost-flow path.
    budgets: fc.boolean(),
  })
  .filter(({ counts }) => counts.reduce((a, b) => a + b, 0) <= 5)
  .map(({ counts, devices, budgetFree, keys, extraFree, budgets }) => {
    const list = devices.map((d, i) => ({ ...d, draws: budgets ? d.draws : [], name: `hosts/h/devices/d${i}` }));
    const judge = (request: number, d: CandidateDevice) => keys[request][['A', 'B', 'C'].indexOf(d.descriptorKey)];
    const instance: HostInstance = {
      requests: counts.map((count, i) => ({ requestId: `r${i}`, count })),
      devices: list,
      budgetFree: new Map([['b1', budgetFree[0]], ['b2', budgetFree[1]]]),
      judge,
    };
    // A host with other devices too: hostFreeUnits counts units the assignment cannot touch.
    return extraFree === undefined ? instance : { ...instance, hostFreeUnits: 20 + extraFree };
  });

test('property: the full assignment equals brute force on small random hosts (budgets, pooled devices, counts)', (t) => {
  fc.assert(
    fc.property(instanceArb, (instance) => {
      const expected = bruteForce(instance, false);
      const actual = assignHost(instance);
      if (!expected) return actual === undefined;
      if (!actual) return false;
      const problem = verify(instance, actual);
      if (problem) throw new Error(problem);
      return JSON.stringify(actual.key) === JSON.stringify(expected.key);
    }),
    { numRuns: 400, seed: 11 },
  );
  t.pass();
});

test('property: the partial assignment places as many units as brute force, with its key', (t) => {
  fc.assert(
    fc.property(instanceArb, (instance) => {
      const expected = bruteForce(instance, true);
      const actual = assignHostPartial(instance);
      const problem = verify(instance, actual);
      if (problem) throw new Error(problem);
      const placed = actual.placed.reduce((a, b) => a + b, 0);
      if (!expected) return placed === 0;
      return placed === expected.placed && JSON.stringify(actual.key) === JSON.stringify(expected.key);
    }),
    { numRuns: 300, seed: 12 },
  );
  t.pass();
});
