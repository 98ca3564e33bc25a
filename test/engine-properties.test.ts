// Property tests of the core: canonical keys, round trips, self-compatibility, the shape of
// every verdict, operator duality, and the ranking order. Descriptors are generated as
// models and rendered into raw input with random (seeded) choices of spelling: set order
// and duplicates, `v`/`=` prefixes and leading zeros in versions, int64 as number, string
// or bigint, map key order, proto-loader defaults and oneof discriminators.

import test from 'ava';
import fc from 'fast-check';
import { compare, evaluate } from '../server/core/engine.ts';
import { COMPARE_OPS } from '../server/core/model.ts';
import type { CompareOp, DescriptorInput, Value, Verdict } from '../server/core/model.ts';
import { compareRanked, isExactMatch, rankKey } from '../server/core/rank.ts';
import type { RankCandidate } from '../server/core/rank.ts';
import { descriptorToJson, validateDescriptor } from '../server/core/validate.ts';
import { parseValue, valueEquals, valueToJson } from '../server/core/values.ts';

// ---------------------------------------------------------------------------------------
// Models.

interface VersionModel {
  major: number;
  minor: number;
  patch: number;
  pre: string | null;
  build: string | null;
}

type ValueModel =
  | { kind: 'int'; int: bigint }
  | { kind: 'string'; str: string }
  | { kind: 'bool'; bool: boolean }
  | { kind: 'version'; version: VersionModel }
  | { kind: 'set'; members: string[] };

interface RuleModel {
  op: CompareOp;
  values: ValueModel[];
  range: string;
  warnOnly: boolean;
}

interface DescriptorModel {
  vendor: string;
  deviceApi: string;
  type: string;
  compatibleTypes: string[];
  softwareVersion: VersionModel;
  attributes: [string, ValueModel][];
  rules: [string, RuleModel][];
}

// A small pool of names so that source and target share attributes often.
const NAMES = ['a', 'b', 'c', 'fw', 'ids', 'n', 'x.y', 'z-1', 'q_2'];
const RANGES = ['>=1.0.0', '^2.1.0', '1.2.3 - 2.3.4 || >=5.0.0', '~0.3', '<3.0.0-0'];

const versionArb: fc.Arbitrary<VersionModel> = fc.record({
  major: fc.nat(3),
  minor: fc.nat(3),
  patch: fc.nat(3),
  pre: fc.option(fc.constantFrom('rc.1', 'rc.2', 'alpha', 'beta.10'), { freq: 4 }),
  build: fc.option(fc.constantFrom('b1', 'build.7'), { freq: 4 }),
});

const memberArb = fc.string({ maxLength: 4 });

const valueArb: fc.Arbitrary<ValueModel> = fc.oneof(
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((int) => ({ kind: 'int' as const, int })),
  fc.integer({ min: -3, max: 3 }).map((n) => ({ kind: 'int' as const, int: BigInt(n) })),
  fc.constantFrom('x', 'y', '').map((str) => ({ kind: 'string' as const, str })),
  fc.boolean().map((bool) => ({ kind: 'bool' as const, bool })),
  versionArb.map((version) => ({ kind: 'version' as const, version })),
  fc.uniqueArray(memberArb, { maxLength: 4 }).map((members) => ({ kind: 'set' as const, members })),
);

function ruleArb(ops: readonly CompareOp[]): fc.Arbitrary<RuleModel> {
  return fc.record({
    op: fc.constantFrom(...ops),
    values: fc.array(valueArb, { minLength: 1, maxLength: 3 }),
    range: fc.constantFrom(...RANGES),
    warnOnly: fc.boolean(),
  }).map((rule) => ({
    op: rule.op,
    // Values only where the op reads them (CLAIMABLE also without, meaning 1:1), a range
    // only for SEMVER_RANGE: what a sensible client sends.
    values: rule.op === 'COMPARE_OP_ONE_OF' || (rule.op === 'COMPARE_OP_CLAIMABLE' && rule.values.length > 1) ? rule.values : [],
    range: rule.op === 'COMPARE_OP_SEMVER_RANGE' ? rule.range : '',
    warnOnly: rule.warnOnly,
  }));
}

const nameArb = fc.constantFrom(...NAMES);

function descriptorArb(ruleFor: (name: string) => fc.Arbitrary<RuleModel>): fc.Arbitrary<DescriptorModel> {
  return fc.record({
    vendor: fc.constantFrom('8086', '10de'),
    deviceApi: fc.constantFrom('vfio-pci', 'vfio-ccw'),
    type: fc.constantFrom('t1', 't2'),
    compatibleTypes: fc.uniqueArray(fc.constantFrom('t1', 't2', 't3'), { maxLength: 2 }),
    softwareVersion: versionArb,
    attributes: fc.uniqueArray(fc.tuple(nameArb, valueArb), { selector: ([name]) => name, maxLength: 6 }),
    rules: fc.uniqueArray(fc.tuple(fc.constantFrom(...NAMES, 'software_version'), fc.constant(null)), {
      selector: ([name]) => name,
      maxLength: 5,
    }).chain((names) =>
      names.length === 0
        ? fc.constant([] as [string, RuleModel][])
        : fc.tuple(...names.map(([name]) => ruleFor(name).map((rule): [string, RuleModel] => [name, rule]))),
    ),
  });
}

const anyDescriptorArb = descriptorArb(() => ruleArb(COMPARE_OPS));

// ---------------------------------------------------------------------------------------
// Rendering a model into raw input, with seeded random spelling choices.

function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x ^= x + Math.imul(x ^ (x >>> 7), 61 | x);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(random: () => number, choices: readonly T[]): T {
  return choices[Math.floor(random() * choices.length)];
}

function shuffle<T>(random: () => number, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Shuffled, with some members repeated: the same set. */
function messySet<T>(random: () => number, members: readonly T[]): T[] {
  return shuffle(random, [...members, ...members.filter(() => random() < 0.3)]);
}

function renderVersion(random: () => number, v: VersionModel): string {
  const part = (n: number) => (random() < 0.2 ? `0${n}` : `${n}`);
  const prefix = pick(random, ['', 'v', '=']);
  return `${prefix}${part(v.major)}.${part(v.minor)}.${part(v.patch)}${v.pre ? `-${v.pre}` : ''}${v.build ? `+${v.build}` : ''}`;
}

function renderValue(random: () => number, v: ValueModel, loader: boolean): Record<string, unknown> {
  let rendered: Record<string, unknown>;
  switch (v.kind) {
    case 'int': {
      const safe = v.int >= BigInt(Number.MIN_SAFE_INTEGER) && v.int <= BigInt(Number.MAX_SAFE_INTEGER);
      const form = pick(random, safe ? ['number', 'string', 'bigint'] : ['string', 'bigint']);
      rendered = { int_value: form === 'number' ? Number(v.int) : form === 'string' ? v.int.toString() : v.int };
      break;
    }
    case 'string':
      rendered = { string_value: v.str };
      break;
    case 'bool':
      rendered = { bool_value: v.bool };
      break;
    case 'version':
      rendered = { version_value: renderVersion(random, v.version) };
      break;
    case 'set':
      rendered = { set_value: v.members.length === 0 && random() < 0.5 ? {} : { values: messySet(random, v.members) } };
      break;
  }
  // proto-loader (`oneofs: true`) names the set member of the oneof in `kind`.
  if (loader) rendered.kind = Object.keys(rendered)[0];
  return rendered;
}

function renderRule(random: () => number, rule: RuleModel, loader: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { op: rule.op };
  // proto-loader fills every default; JSON may or may not spell them out.
  const spellDefaults = loader || random() < 0.3;
  if (rule.values.length > 0 || spellDefaults) out.values = messySet(random, rule.values).map((v) => renderValue(random, v, loader));
  if (rule.range !== '' || spellDefaults) out.range = rule.range;
  if (rule.warnOnly || spellDefaults) out.warn_only = rule.warnOnly;
  return out;
}

function render(model: DescriptorModel, seed: number): DescriptorInput {
  const random = prng(seed);
  const loader = random() < 0.5;
  const input: Record<string, unknown> = {
    vendor: model.vendor,
    device_api: model.deviceApi,
    type: model.type,
    software_version: renderVersion(random, model.softwareVersion),
    attributes: Object.fromEntries(shuffle(random, model.attributes).map(([n, v]) => [n, renderValue(random, v, loader)])),
    rules: Object.fromEntries(shuffle(random, model.rules).map(([n, r]) => [n, renderRule(random, r, loader)])),
  };
  if (model.compatibleTypes.length > 0 || loader) input.compatible_types = messySet(random, model.compatibleTypes);
  return input as DescriptorInput;
}

const seedArb = fc.integer();

// ---------------------------------------------------------------------------------------
// Properties.

test('the key ignores spelling: set order and duplicates, version prefixes, int64 forms, defaults', (t) => {
  fc.assert(
    fc.property(anyDescriptorArb, seedArb, seedArb, (model, seedA, seedB) => {
      const a = validateDescriptor(render(model, seedA));
      const b = validateDescriptor(render(model, seedB));
      return a.key === b.key;
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('descriptorToJson is the key and validates back to the same descriptor', (t) => {
  fc.assert(
    fc.property(anyDescriptorArb, seedArb, (model, seed) => {
      const d = validateDescriptor(render(model, seed));
      const json = descriptorToJson(d);
      t.is(JSON.stringify(json), d.key);
      const again = validateDescriptor(json);
      t.is(again.key, d.key);
      t.deepEqual(descriptorToJson(again), json);
    }),
    { numRuns: 300 },
  );
});

/** The model's meaning as text, normalized independently of the core. */
function modelKey(m: DescriptorModel): string {
  const version = (v: VersionModel) => `${v.major}.${v.minor}.${v.patch}${v.pre ? `-${v.pre}` : ''}${v.build ? `+${v.build}` : ''}`;
  const value = (v: ValueModel) =>
    JSON.stringify(
      v.kind === 'int' ? ['i', v.int.toString()]
      : v.kind === 'string' ? ['s', v.str]
      : v.kind === 'bool' ? ['b', v.bool]
      : v.kind === 'version' ? ['v', version(v.version)]
      : ['set', [...v.members].sort()],
    );
  const byName = <T,>(entries: [string, T][]) => [...entries].sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify({
    vendor: m.vendor,
    deviceApi: m.deviceApi,
    type: m.type,
    compatibleTypes: [...new Set(m.compatibleTypes)].sort(),
    softwareVersion: version(m.softwareVersion),
    attributes: byName(m.attributes).map(([n, v]) => [n, value(v)]),
    rules: byName(m.rules).map(([n, r]) => [n, r.op, [...new Set(r.values.map(value))].sort(), r.range, r.warnOnly]),
  });
}

/** Small changes of meaning; each may not apply to a given model, leaving it unchanged. */
const MUTATIONS: ((m: DescriptorModel) => DescriptorModel)[] = [
  (m) => ({ ...m, softwareVersion: { ...m.softwareVersion, build: m.softwareVersion.build === null ? 'b1' : null } }),
  (m) => ({ ...m, softwareVersion: { ...m.softwareVersion, pre: m.softwareVersion.pre === null ? 'rc.1' : null } }),
  (m) => ({ ...m, compatibleTypes: m.compatibleTypes.includes('t9') ? m.compatibleTypes : [...m.compatibleTypes, 't9'] }),
  (m) => ({ ...m, rules: m.rules.map(([n, r], i): [string, RuleModel] => [n, i === 0 ? { ...r, warnOnly: !r.warnOnly } : r]) }),
  (m) => ({
    ...m,
    attributes: m.attributes.map(([n, v], i): [string, ValueModel] => [
      n,
      i === 0 && v.kind === 'set' ? { kind: 'set', members: v.members.includes('zz') ? v.members.filter((x) => x !== 'zz') : [...v.members, 'zz'] }
      : i === 0 && v.kind === 'int' ? { kind: 'int', int: v.int > 0n ? v.int - 1n : v.int + 1n }
      : i === 0 && v.kind === 'version' ? { kind: 'version', version: { ...v.version, build: v.version.build === null ? 'b1' : null } }
      : v,
    ]),
  }),
  (m) => ({ ...m, attributes: m.attributes.slice(1) }),
  (m) => m,
];

test('same key exactly when the same descriptor', (t) => {
  fc.assert(
    fc.property(anyDescriptorArb, fc.nat(MUTATIONS.length - 1), seedArb, seedArb, (model, mutation, seedA, seedB) => {
      const other = MUTATIONS[mutation](model);
      const a = validateDescriptor(render(model, seedA));
      const b = validateDescriptor(render(other, seedB));
      t.is(a.key === b.key, modelKey(model) === modelKey(other), `${modelKey(model)}\n${modelKey(other)}`);
    }),
    { numRuns: 500 },
  );
});

/** Ops that hold between equal values of a kind. */
function selfOps(kind: ValueModel['kind'] | undefined): CompareOp[] {
  const ops: CompareOp[] = ['COMPARE_OP_EQUAL', 'COMPARE_OP_IGNORE'];
  if (kind === 'int') ops.push('COMPARE_OP_GE', 'COMPARE_OP_LE');
  if (kind === 'version') ops.push('COMPARE_OP_SEMVER', 'COMPARE_OP_VERSION_GE');
  if (kind === 'set' || kind === 'string') ops.push('COMPARE_OP_SUPERSET', 'COMPARE_OP_SUBSET');
  // A rule-only name is absent on both sides, where any op holds.
  if (kind === undefined) return COMPARE_OPS.filter((op) => !['COMPARE_OP_ONE_OF', 'COMPARE_OP_CLAIMABLE', 'COMPARE_OP_SEMVER_RANGE'].includes(op));
  return ops;
}

test('a descriptor without CLAIMABLE, ONE_OF or SEMVER_RANGE rules is an exact match for itself', (t) => {
  const selfArb = fc
    .uniqueArray(fc.tuple(nameArb, valueArb), { selector: ([n]) => n, maxLength: 6 })
    .chain((attributes) => {
      // Rules chosen to fit the kinds of the attributes they will compare.
      const kinds = new Map(attributes.map(([n, v]) => [n, v.kind]));
      return descriptorArb((name) =>
        ruleArb(name === 'software_version' ? ['COMPARE_OP_SEMVER', 'COMPARE_OP_VERSION_GE', 'COMPARE_OP_EQUAL', 'COMPARE_OP_IGNORE'] : selfOps(kinds.get(name))),
      ).map((model): DescriptorModel => ({ ...model, attributes }));
    });
  fc.assert(
    fc.property(selfArb, seedArb, seedArb, (model, seedA, seedB) => {
      const a = validateDescriptor(render(model, seedA));
      const b = validateDescriptor(render(model, seedB));
      const verdict = evaluate(a, b);
      t.is(verdict.verdict, 'VERDICT_COMPATIBLE', JSON.stringify(verdict.checks.filter((c) => c.reason !== '')));
      t.true(isExactMatch(verdict));
      t.deepEqual(rankKey(a, b, verdict), { verdictClass: 0, exact: true, distance: [0, 0, 0] });
      t.is(verdict.requiredSettings.size, 0);
    }),
    { numRuns: 300 },
  );
});

test('every verdict has one check per name in S.attributes ∪ T.attributes ∪ T.rules, and adds up', (t) => {
  fc.assert(
    fc.property(anyDescriptorArb, anyDescriptorArb, seedArb, (sm, tm, seed) => {
      const source = validateDescriptor(render(sm, seed));
      const target = validateDescriptor(render(tm, seed));
      const verdict = evaluate(source, target);
      const names = new Set([
        ...sm.attributes.map(([n]) => n),
        ...tm.attributes.map(([n]) => n),
        ...tm.rules.map(([n]) => n).filter((n) => n !== 'software_version'),
      ]);
      t.deepEqual(
        verdict.checks.map((c) => c.attribute),
        ['vendor', 'device_api', 'type', 'software_version', ...[...names].sort()],
      );
      const results = verdict.checks.map((c) => c.result);
      const expected = results.includes('CHECK_RESULT_FAIL')
        ? 'VERDICT_INCOMPATIBLE'
        : results.includes('CHECK_RESULT_WARN')
          ? 'VERDICT_COMPATIBLE_WITH_WARNINGS'
          : 'VERDICT_COMPATIBLE';
      t.is(verdict.verdict, expected);
      const claimed: [string, unknown][] = [];
      for (const check of verdict.checks) {
        const rule = target.rules.get(check.attribute);
        t.is(check.op, rule?.op ?? (check.attribute === 'software_version' ? 'COMPARE_OP_SEMVER' : 'COMPARE_OP_EQUAL'));
        t.is(check.reason === '', check.result === 'CHECK_RESULT_PASS');
        if (check.result === 'CHECK_RESULT_WARN') t.true(rule?.warnOnly);
        t.is(check.equal, valueEquals(check.source, check.target));
        if (check.op === 'COMPARE_OP_CLAIMABLE' && check.result === 'CHECK_RESULT_PASS' && check.source) {
          claimed.push([check.attribute, valueToJson(check.source)]);
        }
      }
      t.deepEqual([...verdict.requiredSettings].map(([n, v]) => [n, valueToJson(v)]), claimed);
      // The source's own rules never matter.
      const withoutRules = validateDescriptor({ ...descriptorToJson(source), rules: {} });
      t.deepEqual(verdictJson(evaluate(withoutRules, target)), verdictJson(verdict));
    }),
    { numRuns: 300 },
  );
});

/** A verdict with values in proto-JSON, comparable with deepEqual. */
function verdictJson(verdict: Verdict): unknown {
  return {
    verdict: verdict.verdict,
    checks: verdict.checks.map((c) => ({
      ...c,
      source: c.source && valueToJson(c.source),
      target: c.target && valueToJson(c.target),
    })),
    requiredSettings: [...verdict.requiredSettings].map(([n, v]) => [n, valueToJson(v)]),
  };
}

const setLikeArb: fc.Arbitrary<Value | undefined> = fc.option(
  fc.oneof(
    fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 4 }).map((members) => parseValue({ set_value: { values: members } })),
    fc.constantFrom('a', 'b').map((str) => parseValue({ string_value: str })),
    fc.constant(parseValue({ int_value: 1 })),
  ),
  { nil: undefined },
);

test('SUPERSET from S to T is SUBSET from T to S', (t) => {
  fc.assert(
    fc.property(setLikeArb, setLikeArb, (s, target) => {
      const superset = compare('COMPARE_OP_SUPERSET', undefined, s, target);
      const subset = compare('COMPARE_OP_SUBSET', undefined, target, s);
      t.is(superset === '', subset === '');
      t.is(superset === 'KIND_MISMATCH', subset === 'KIND_MISMATCH');
    }),
    { numRuns: 500 },
  );
});

test('ranking is a total order: any input order sorts the same', (t) => {
  const candidateArb = fc.record({
    key: fc.record({
      verdictClass: fc.nat(1),
      exact: fc.boolean(),
      distance: fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2)),
    }),
    available: fc.option(fc.nat(3), { nil: undefined }),
  });
  const listArb = fc
    .uniqueArray(fc.constantFrom('h/a', 'h/b', 'h/c', 'h/d', 'h/e', 'h/f'), { minLength: 1 })
    .chain((names) => fc.tuple(...names.map((name) => candidateArb.map((c): RankCandidate => ({ ...c, name })))));
  fc.assert(
    fc.property(listArb, seedArb, (list, seed) => {
      const sorted = [...list].sort(compareRanked).map((c) => c.name);
      t.deepEqual(shuffle(prng(seed), list).sort(compareRanked).map((c) => c.name), sorted);
      for (const a of list) {
        for (const b of list) t.is(Math.sign(compareRanked(a, b)), 0 - Math.sign(compareRanked(b, a)));
      }
    }),
    { numRuns: 300 },
  );
});
