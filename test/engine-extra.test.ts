// Our own cases beside the shared vectors (test/fixtures/extra-vectors.json, same format),
// plus the core's behaviour that vectors cannot express: every violation listed with its
// path, canonical keys, proto-loader-shaped input, the verdict's check details.

import test from 'ava';
import { evaluate } from '../server/core/engine.ts';
import { DomainError } from '../server/core/errors.ts';
import type { Descriptor, DescriptorInput } from '../server/core/model.ts';
import { descriptorToJson, validateDescriptor } from '../server/core/validate.ts';
import { parseValue, valueEquals, valueToJson } from '../server/core/values.ts';
import { parseRangeStrict, parseVersion } from '../server/core/version.ts';
import { loadVectors, registerVectorTests } from './helpers/compat-vectors.ts';

registerVectorTests(loadVectors(new URL('./fixtures/extra-vectors.json', import.meta.url)), 'extra-vectors.json');

const base = {
  vendor: '8086',
  device_api: 'vfio-pci',
  type: 'i915-GVTg_V5_4',
  software_version: '1.2.0',
} as const;

function violationsOf(input: unknown, path = ''): string[] {
  try {
    validateDescriptor(input as DescriptorInput, path);
  } catch (error) {
    if (error instanceof DomainError && error.reason === 'INVALID_ARGUMENT') return error.violations.map((v) => v.field);
    throw error;
  }
  throw new Error('validateDescriptor accepted the input');
}

test('parseVersion: loose semver, canonical text keeps build metadata', (t) => {
  t.is(parseVersion('v1.2.3')?.text, '1.2.3');
  t.is(parseVersion('535.104.05')?.text, '535.104.5');
  t.is(parseVersion('v1.2.3-rc.1+build.5')?.text, '1.2.3-rc.1+build.5');
  t.is(parseVersion('1.2'), null);
  t.is(parseVersion('not-a-version'), null);
  t.is(parseVersion(''), null);
});

test('parseRangeStrict: rejects what a loose parse would half-read', (t) => {
  t.truthy(parseRangeStrict('2.0.2 - 2.0.4 || >=2.1.0'));
  t.truthy(parseRangeStrict('^1.2'));
  t.is(parseRangeStrict('>=1.0.0 junk'), null);
  t.is(parseRangeStrict('>>=1..'), null);
  t.is(parseRangeStrict(''), null);
  t.is(parseRangeStrict('   '), null);
});

test('values: int64 forms, canonical sets, proto-JSON shapes', (t) => {
  t.deepEqual(valueToJson(parseValue({ int_value: 2 })), { int_value: '2' });
  t.deepEqual(valueToJson(parseValue({ int_value: '-9223372036854775808' })), { int_value: '-9223372036854775808' });
  t.deepEqual(valueToJson(parseValue({ int_value: 7n })), { int_value: '7' });
  // proto-loader without `longs: String` hands int64 over as a Long.
  t.deepEqual(valueToJson(parseValue({ int_value: { low: 5, high: 0, unsigned: false, toString: () => '5' } as never })), {
    int_value: '5',
  });
  t.deepEqual(valueToJson(parseValue({ set_value: { values: ['b', 'a', 'b'] } })), { set_value: { values: ['a', 'b'] } });
  t.deepEqual(valueToJson(parseValue({ set_value: {} })), { set_value: { values: [] } });
  t.deepEqual(valueToJson(parseValue({ version_value: 'v1.0.0+x' })), { version_value: '1.0.0+x' });
  t.deepEqual(valueToJson(parseValue({ bool_value: false })), { bool_value: false });
  t.deepEqual(valueToJson(parseValue({ string_value: '' })), { string_value: '' });
  t.true(valueEquals(parseValue({ version_value: '1.0.0+a' }), parseValue({ version_value: '1.0.0+b' })));
  t.false(valueEquals(parseValue({ int_value: 1 }), parseValue({ string_value: '1' })));
  t.true(valueEquals(undefined, undefined));
  t.false(valueEquals(parseValue({ set_value: {} }), undefined));
});

test('every violation is listed, each under its own field path', (t) => {
  const fields = violationsOf(
    {
      ...base,
      vendor: '',
      software_version: '1.2',
      compatible_types: ['ok', ''],
      attributes: {
        'Bad Name': { int_value: 1 },
        ids: { set_value: { values: Array.from({ length: 1025 }, (_, i) => `id${i}`) } },
        fence: {},
        n: { int_value: 1.5 },
      },
      rules: { fence: { op: 'COMPARE_OP_UNSPECIFIED' }, fw: { op: 'COMPARE_OP_SEMVER_RANGE', range: '>=1.0.0 junk' } },
    },
    'devices[3].descriptor.',
  );
  const p = 'devices[3].descriptor.';
  t.deepEqual(
    fields.sort(),
    [
      `${p}attributes["Bad Name"]`,
      `${p}attributes["fence"]`,
      `${p}attributes["ids"].set_value.values`,
      `${p}attributes["n"].int_value`,
      `${p}compatible_types[1]`,
      `${p}rules["fence"].op`,
      `${p}rules["fw"].range`,
      `${p}software_version`,
      `${p}vendor`,
    ].sort(),
  );
});

test('the error message names the first field and counts the rest', (t) => {
  const error = t.throws(() => validateDescriptor({ ...base, vendor: '', type: '' }), { instanceOf: DomainError });
  t.is(error?.message, 'vendor: must be set (non-empty) (and 1 more)');
});

test('same descriptor, same key: v prefixes, set order and duplicates, int64 forms', (t) => {
  const a = validateDescriptor({
    ...base,
    software_version: 'v1.2.0',
    compatible_types: ['b', 'a', 'b'],
    attributes: { ids: { set_value: { values: ['y', 'x', 'x'] } }, n: { int_value: 5 }, fw: { version_value: 'v28.41.01' } },
    rules: { agg: { op: 'COMPARE_OP_CLAIMABLE', values: [{ int_value: 2 }, { int_value: '1' }, { int_value: 2 }] } },
  });
  const b = validateDescriptor({
    ...base,
    compatible_types: ['a', 'b'],
    attributes: { fw: { version_value: '28.41.1' }, n: { int_value: '5' }, ids: { set_value: { values: ['x', 'y'] } } },
    rules: { agg: { op: 'COMPARE_OP_CLAIMABLE', values: [{ int_value: 1 }, { int_value: 2 }] } },
  });
  t.is(a.key, b.key);
  // Build metadata is part of the descriptor even though no comparison reads it.
  t.not(validateDescriptor({ ...base, software_version: '1.2.0+a' }).key, validateDescriptor(base).key);
});

test('the key is canonical proto-JSON: sorted keys, proto names, enum names, int64 strings', (t) => {
  const d = validateDescriptor({
    ...base,
    attributes: { b: { int_value: 1 }, a: { set_value: { values: ['z', 'y'] } } },
    rules: { b: { op: 'COMPARE_OP_GE', warn_only: true }, a: { op: 'COMPARE_OP_SUPERSET', warn_only: false, values: [], range: '' } },
  });
  t.is(
    d.key,
    '{"attributes":{"a":{"set_value":{"values":["y","z"]}},"b":{"int_value":"1"}},"compatible_types":[],' +
      '"device_api":"vfio-pci","rules":{"a":{"op":"COMPARE_OP_SUPERSET"},"b":{"op":"COMPARE_OP_GE","warn_only":true}},' +
      '"software_version":"1.2.0","type":"i915-GVTg_V5_4","vendor":"8086"}',
  );
  t.is(JSON.stringify(descriptorToJson(d)), d.key);
  t.is(validateDescriptor(descriptorToJson(d)).key, d.key);
});

test('proto-loader objects (defaults filled, oneof discriminator) validate like JSON', (t) => {
  const fromLoader = validateDescriptor({
    ...base,
    compatible_types: [],
    attributes: {
      agg: { kind: 'int_value', int_value: '2' },
      ids: { kind: 'set_value', set_value: { values: [] } },
      on: { kind: 'bool_value', bool_value: false },
    },
    rules: {
      agg: { op: 'COMPARE_OP_CLAIMABLE', values: [{ kind: 'int_value', int_value: '2' }], range: '', warn_only: false },
      software_version: { op: 'COMPARE_OP_VERSION_GE', values: [], range: '', warn_only: false },
    },
  });
  const fromJson = validateDescriptor({
    ...base,
    attributes: { agg: { int_value: 2 }, ids: { set_value: {} }, on: { bool_value: false } },
    rules: { agg: { op: 'COMPARE_OP_CLAIMABLE', values: [{ int_value: 2 }] }, software_version: { op: 'COMPARE_OP_VERSION_GE' } },
  });
  t.is(fromLoader.key, fromJson.key);
});

test('a rule may be keyed software_version; the limits are inclusive', (t) => {
  const attributes = Object.fromEntries(Array.from({ length: 128 }, (_, i) => [`a${i}`, { int_value: i }]));
  const d = validateDescriptor({
    ...base,
    vendor: 'v'.repeat(256),
    compatible_types: Array.from({ length: 64 }, (_, i) => `t${i}`),
    attributes: { ...attributes, a0: { set_value: { values: Array.from({ length: 1024 }, (_, i) => `m${i}`) } } },
    rules: { software_version: { op: 'COMPARE_OP_IGNORE' }, ['x'.repeat(63)]: { op: 'COMPARE_OP_IGNORE' } },
  });
  t.is(d.attributes.size, 128);
  t.is(d.rules.get('software_version')?.op, 'COMPARE_OP_IGNORE');
});

test('a string limit counts characters, not UTF-16 units', (t) => {
  t.notThrows(() => validateDescriptor({ ...base, attributes: { s: { string_value: '😀'.repeat(256) } } }));
  t.deepEqual(violationsOf({ ...base, attributes: { s: { string_value: '😀'.repeat(257) } } }), [
    'attributes["s"].string_value',
  ]);
});

test('descriptor-wide violations name the descriptor; unknown fields their own path', (t) => {
  t.deepEqual(violationsOf(null), ['descriptor']);
  t.deepEqual(violationsOf([], 'devices[0].descriptor.'), ['devices[0].descriptor']);
  // A misspelt field is named where it would be: beside the descriptor's other fields.
  t.deepEqual(violationsOf({ ...base, deviceApi: 'vfio-pci' }), ['deviceApi']);
  t.deepEqual(violationsOf({ ...base, deviceApi: 'vfio-pci' }, 'devices[0].descriptor.'), ['devices[0].descriptor.deviceApi']);
});

test('checks carry op, canonical values and equality; built-ins first', (t) => {
  const source = validateDescriptor({
    ...base,
    type: 'old',
    software_version: 'v1.2.0+a',
    attributes: { agg: { int_value: 2 }, ids: { set_value: { values: ['b', 'a'] } } },
  });
  const target = validateDescriptor({
    ...base,
    type: 'new',
    compatible_types: ['old'],
    software_version: '1.2.0+b',
    attributes: { agg: { int_value: 1 }, ids: { set_value: { values: ['a', 'b', 'c'] } } },
    rules: { agg: { op: 'COMPARE_OP_CLAIMABLE', values: [{ int_value: 2 }] }, ids: { op: 'COMPARE_OP_SUPERSET' } },
  });
  const verdict = evaluate(source, target);
  t.is(verdict.verdict, 'VERDICT_COMPATIBLE');
  const summary = verdict.checks.map((c) => ({
    attribute: c.attribute,
    op: c.op,
    result: c.result,
    equal: c.equal,
    source: c.source && valueToJson(c.source),
    target: c.target && valueToJson(c.target),
  }));
  t.deepEqual(summary, [
    { attribute: 'vendor', op: 'COMPARE_OP_EQUAL', result: 'CHECK_RESULT_PASS', equal: true, source: { string_value: '8086' }, target: { string_value: '8086' } },
    { attribute: 'device_api', op: 'COMPARE_OP_EQUAL', result: 'CHECK_RESULT_PASS', equal: true, source: { string_value: 'vfio-pci' }, target: { string_value: 'vfio-pci' } },
    // Accepted through compatible_types, yet not equal: ranking prefers the very type.
    { attribute: 'type', op: 'COMPARE_OP_EQUAL', result: 'CHECK_RESULT_PASS', equal: false, source: { string_value: 'old' }, target: { string_value: 'new' } },
    { attribute: 'software_version', op: 'COMPARE_OP_SEMVER', result: 'CHECK_RESULT_PASS', equal: true, source: { version_value: '1.2.0+a' }, target: { version_value: '1.2.0+b' } },
    { attribute: 'agg', op: 'COMPARE_OP_CLAIMABLE', result: 'CHECK_RESULT_PASS', equal: false, source: { int_value: '2' }, target: { int_value: '1' } },
    { attribute: 'ids', op: 'COMPARE_OP_SUPERSET', result: 'CHECK_RESULT_PASS', equal: false, source: { set_value: { values: ['a', 'b'] } }, target: { set_value: { values: ['a', 'b', 'c'] } } },
  ]);
  t.deepEqual([...verdict.requiredSettings.keys()], ['agg']);
});

test('hand-built descriptors (no index, no compiled range) get the same verdicts', (t) => {
  const strip = (d: Descriptor): Descriptor => {
    const { index: _index, ...rest } = d;
    const rules = new Map([...d.rules].map(([name, { compiledRange: _range, ...rule }]) => [name, rule]));
    return { ...rest, rules };
  };
  const source = validateDescriptor({ ...base, attributes: { iface: { version_value: '2.0.5' }, b: { int_value: 1 }, z: { int_value: 1 } } });
  const target = validateDescriptor({
    ...base,
    attributes: { c: { int_value: 1 }, z: { int_value: 2 } },
    rules: { iface: { op: 'COMPARE_OP_SEMVER_RANGE', range: '>=2.1.0' }, a: { op: 'COMPARE_OP_GE' } },
  });
  const expected = evaluate(source, target);
  const actual = evaluate(strip(source), strip(target));
  t.deepEqual(actual, expected);
  t.is(expected.checks.length, 4 + 5);
});

test('hand-built descriptors: a range rule without its compiled range still passes a version inside it', (t) => {
  const strip = (d: Descriptor): Descriptor => {
    const { index: _index, ...rest } = d;
    const rules = new Map([...d.rules].map(([name, { compiledRange: _range, ...rule }]) => [name, rule]));
    return { ...rest, rules };
  };
  const target = validateDescriptor({ ...base, rules: { iface: { op: 'COMPARE_OP_SEMVER_RANGE', range: '2.0.2 - 2.0.4 || >=2.1.0' } } });
  for (const [version, verdict] of [
    ['2.0.3', 'VERDICT_COMPATIBLE'],
    ['2.1.7', 'VERDICT_COMPATIBLE'],
    ['2.0.5', 'VERDICT_INCOMPATIBLE'],
  ] as const) {
    const source = validateDescriptor({ ...base, attributes: { iface: { version_value: version } } });
    t.is(evaluate(strip(source), strip(target)).verdict, verdict, version);
    t.is(evaluate(source, target).verdict, verdict, `${version}, validated`);
  }
});

test('kind before missing, and missing on either side, for every op that needs both values', (t) => {
  /** The reason of attribute `x` with T's rule `op`, S's value `s` and T's value `t` (absent when undefined). */
  const reason = (op: string, s: object | undefined, tv: object | undefined, values?: object[]) => {
    const source = validateDescriptor({ ...base, attributes: s ? { x: s } : {} });
    const target = validateDescriptor({ ...base, attributes: tv ? { x: tv } : {}, rules: { x: { op, ...(values && { values }) } } });
    const check = evaluate(source, target).checks.find((c) => c.attribute === 'x');
    return check?.reason;
  };
  const version = { version_value: '1.2.0' };
  const int = { int_value: 2 };
  const set = { set_value: { values: ['a'] } };
  // A present value of the wrong kind is KIND_MISMATCH even when the other side is missing.
  for (const op of ['COMPARE_OP_SEMVER', 'COMPARE_OP_VERSION_GE']) {
    t.is(reason(op, int, undefined), 'KIND_MISMATCH', `${op}: source int, target missing`);
    t.is(reason(op, undefined, int), 'KIND_MISMATCH', `${op}: source missing, target int`);
    t.is(reason(op, int, version), 'KIND_MISMATCH', `${op}: source int`);
    t.is(reason(op, version, int), 'KIND_MISMATCH', `${op}: target int`);
    t.is(reason(op, version, undefined), 'ATTRIBUTE_MISSING', `${op}: target missing`);
    t.is(reason(op, undefined, version), 'ATTRIBUTE_MISSING', `${op}: source missing`);
    t.is(reason(op, version, version), '', `${op}: both present`);
  }
  for (const op of ['COMPARE_OP_GE', 'COMPARE_OP_LE']) {
    t.is(reason(op, undefined, int), 'ATTRIBUTE_MISSING', `${op}: source missing`);
    t.is(reason(op, int, undefined), 'ATTRIBUTE_MISSING', `${op}: target missing`);
  }
  for (const op of ['COMPARE_OP_SUPERSET', 'COMPARE_OP_SUBSET']) {
    t.is(reason(op, int, set), 'KIND_MISMATCH', `${op}: source int`);
    t.is(reason(op, set, int), 'KIND_MISMATCH', `${op}: target int`);
    t.is(reason(op, int, undefined), 'KIND_MISMATCH', `${op}: source int, target missing`);
    t.is(reason(op, undefined, int), 'KIND_MISMATCH', `${op}: source missing, target int`);
  }
  // CLAIMABLE without values is 1:1 with the target's value: both are needed.
  t.is(reason('COMPARE_OP_CLAIMABLE', undefined, int), 'ATTRIBUTE_MISSING', 'CLAIMABLE: source missing');
  t.is(reason('COMPARE_OP_CLAIMABLE', int, undefined), 'ATTRIBUTE_MISSING', 'CLAIMABLE: target missing');
  t.is(reason('COMPARE_OP_CLAIMABLE', int, int), '');
});

test('a hand-built range rule whose range does not parse fails VERSION_NOT_IN_RANGE rather than throwing', (t) => {
  const source = validateDescriptor({ ...base, attributes: { iface: { version_value: '2.0.3' } } });
  const target = validateDescriptor({ ...base, rules: { iface: { op: 'COMPARE_OP_SEMVER_RANGE', range: '>=2.0.0' } } });
  const rule = target.rules.get('iface')!;
  const { index: _index, ...rest } = target;
  const broken: Descriptor = { ...rest, rules: new Map([['iface', { ...rule, range: '>>=2..', compiledRange: undefined }]]) };
  const verdict = evaluate(source, broken);
  t.deepEqual(
    verdict.checks.filter((c) => c.result !== 'CHECK_RESULT_PASS').map((c) => [c.attribute, c.reason]),
    [['iface', 'VERSION_NOT_IN_RANGE']],
  );
});
