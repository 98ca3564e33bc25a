// Descriptor validation and canonical form (server/core/validate.ts), pure: what each refusal
// says and under which field path (several at once, in the order the walk meets them), every
// limit at its exact bound (one under, at, one over), the rules' checks, the canonical form
// (what means the same gives the same key, what differs gives a different one) and the index
// the engine reads. The values inside (int64 forms, sets, strings) are test/engine-values.test.ts;
// the field paths of a mixed refusal and the key's exact text are test/engine-extra.test.ts.

import test from 'ava';
import { DomainError } from '../server/core/errors.ts';
import type { Descriptor, DescriptorInput } from '../server/core/model.ts';
import { COMPARE_OPS } from '../server/core/model.ts';
import { descriptorKey, descriptorToJson, indexDescriptor, validateDescriptor } from '../server/core/validate.ts';

const base = { vendor: 'nvidia', device_api: 'vfio-pci', type: 'nvidia-a10-4q', software_version: '1.0.0' } as const;

const NAME_PATTERN = '^[a-z][a-z0-9_.-]{0,62}$';
const OPS = COMPARE_OPS.join(', ');

/** What a refusal lists, in order, as `field: description`. */
function refusals(input: unknown, path = ''): string[] {
  try {
    validateDescriptor(input as DescriptorInput, path);
  } catch (error) {
    if (error instanceof DomainError && error.reason === 'INVALID_ARGUMENT') {
      return error.violations.map((v) => `${v.field}: ${v.description}`);
    }
    throw error;
  }
  throw new Error(`validateDescriptor accepted ${JSON.stringify(input)}`);
}

const valid = (input: object) => validateDescriptor({ ...base, ...input } as DescriptorInput);
const refused = (input: object) => refusals({ ...base, ...input });
const named = (prefix: string, count: number, value: (i: number) => unknown) =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}${i}`, value(i)]));

test('every violation is listed with its field path and what is wrong, in the order of the descriptor\'s fields', (t) => {
  const p = 'devices[2].descriptor.';
  t.deepEqual(
    refusals(
      {
        deviceApi: 'x',
        vendor: '',
        device_api: 7,
        type: 'a\nb',
        compatible_types: 'mdev',
        software_version: '1.2',
        attributes: { 'Bad Name': { int_value: 1 }, vendor: { string_value: 'x' }, zz: { int_value: 'x' } },
        rules: { type: { op: 'COMPARE_OP_EQUAL' }, r: 'ge', s: { op: 'GE' } },
      },
      p,
    ),
    [
      `${p}deviceApi: unknown field "deviceApi"`,
      `${p}vendor: must be set (non-empty)`,
      `${p}device_api: must be a string`,
      `${p}type: must not contain control characters (NUL, newline, escape, DEL, C1)`,
      `${p}compatible_types: must be a list of strings`,
      `${p}software_version: must be a semantic version such as 1.2.3 (major.minor.patch); got "1.2"`,
      `${p}attributes["Bad Name"]: attribute names must match ${NAME_PATTERN}`,
      `${p}attributes["vendor"]: "vendor" is a built-in field and cannot name an attribute`,
      `${p}attributes["zz"].int_value: must be an integer (a number or a decimal string)`,
      `${p}rules["r"]: a rule must be an object with at least an op`,
      `${p}rules["s"].op: unknown op "GE"; expected one of ${OPS}`,
      `${p}rules["type"]: "type" is a built-in field and cannot name a rule`,
    ],
  );
});

test('the error names the first violation and counts the rest', (t) => {
  const error = t.throws(() => validateDescriptor({ ...base, vendor: undefined, type: 'x'.repeat(257), software_version: '' } as never), {
    instanceOf: DomainError,
  });
  t.is(error?.reason, 'INVALID_ARGUMENT');
  t.is(error?.message, 'vendor: must be set (non-empty) (and 2 more)');
  t.deepEqual(error?.violations, [
    { field: 'vendor', description: 'must be set (non-empty)' },
    { field: 'type', description: 'at most 256 characters' },
    { field: 'software_version', description: 'must be set to a semantic version such as 1.2.3' },
  ]);
});

test('what is not a descriptor is refused whole, under the descriptor\'s own name', (t) => {
  for (const input of [null, undefined, 'nvidia', 7, [base]]) {
    t.deepEqual(refusals(input), ['descriptor: a descriptor must be an object']);
  }
  t.deepEqual(refusals(null, 'devices[1].descriptor.'), ['devices[1].descriptor: a descriptor must be an object']);
  t.deepEqual(refusals(null, 'source'), ['source: a descriptor must be an object']);
});

test('the required strings: missing, null, empty, not a string, too long, control characters', (t) => {
  t.deepEqual(refusals({}), [
    'vendor: must be set (non-empty)',
    'device_api: must be set (non-empty)',
    'type: must be set (non-empty)',
    'software_version: must be set to a semantic version such as 1.2.3',
  ]);
  t.deepEqual(refused({ vendor: null, device_api: '', type: false }), [
    'vendor: must be set (non-empty)',
    'device_api: must be set (non-empty)',
    'type: must be a string',
  ]);
  // 256 characters at most, counted as characters.
  t.is(valid({ vendor: 'v'.repeat(256), device_api: 'é'.repeat(256), type: '😀'.repeat(256) }).type, '😀'.repeat(256));
  t.deepEqual(refused({ vendor: 'v'.repeat(257), device_api: 'é'.repeat(257), type: '😀'.repeat(257) }), [
    'vendor: at most 256 characters',
    'device_api: at most 256 characters',
    'type: at most 256 characters',
  ]);
  // A string both too long and with a control character is refused for its length.
  t.deepEqual(refused({ vendor: '\u0000'.repeat(257), device_api: 'a\u007fb', type: 'tab\there' }), [
    'vendor: at most 256 characters',
    'device_api: must not contain control characters (NUL, newline, escape, DEL, C1)',
    'type: must not contain control characters (NUL, newline, escape, DEL, C1)',
  ]);
});

test('software_version: a semantic version, v prefix and leading zeros accepted; 256 characters at most', (t) => {
  t.is(valid({ software_version: 'v2.10.0' }).softwareVersion.text, '2.10.0');
  t.is(valid({ software_version: '535.104.05' }).softwareVersion.text, '535.104.5');
  t.deepEqual(refused({ software_version: null }), ['software_version: must be set to a semantic version such as 1.2.3']);
  t.deepEqual(refused({ software_version: 7 }), ['software_version: must be a semantic version such as 1.2.3 (major.minor.patch); got 7']);
  t.deepEqual(refused({ software_version: 'latest' }), [
    'software_version: must be a semantic version such as 1.2.3 (major.minor.patch); got "latest"',
  ]);
  const at = `1.2.3-${'a'.repeat(250)}`;
  t.is(at.length, 256);
  t.is(valid({ software_version: at }).softwareVersion.text, at);
  t.deepEqual(refused({ software_version: `${at}b` }), [
    `software_version: must be a semantic version such as 1.2.3 (major.minor.patch); got "${at}b"`,
  ]);
});

test('attribute and rule names: a lower-case letter then up to 62 of [a-z0-9_.-]; the built-ins cannot be names', (t) => {
  const ok = ['a', 'a0', 'x.y-z_w', `a${'b'.repeat(62)}`];
  const d = valid({ attributes: Object.fromEntries(ok.map((name) => [name, { bool_value: true }])), rules: Object.fromEntries(ok.map((name) => [name, { op: 'COMPARE_OP_IGNORE' }])) });
  t.deepEqual([...d.attributes.keys()], [...ok].sort());
  t.deepEqual([...d.rules.keys()], [...ok].sort());
  const bad = ['', '0a', 'A', 'aB', '_a', 'a b', 'a/b', `a${'b'.repeat(63)}`];
  // A refused name's value is not looked at (here it is no value at all).
  t.deepEqual(
    refused({ attributes: Object.fromEntries(bad.map((name) => [name, { bool_value: 'x' }])) }),
    [...bad].sort().map((name) => `attributes${JSON.stringify([name])}: attribute names must match ${NAME_PATTERN}`),
  );
  t.deepEqual(
    refused({ rules: Object.fromEntries(bad.map((name) => [name, { op: 'COMPARE_OP_IGNORE' }])) }),
    [...bad].sort().map((name) => `rules${JSON.stringify([name])}: rule names must match ${NAME_PATTERN}`),
  );
  const builtins = ['device_api', 'software_version', 'type', 'vendor'];
  t.deepEqual(
    refused({ attributes: Object.fromEntries(builtins.map((name) => [name, { bool_value: 'x' }])) }),
    builtins.map((name) => `attributes["${name}"]: "${name}" is a built-in field and cannot name an attribute`),
  );
  // Only software_version may key a rule: it chooses the op of the built-in version check.
  t.deepEqual(
    refused({ rules: Object.fromEntries(builtins.map((name) => [name, { op: name === 'software_version' ? 'COMPARE_OP_IGNORE' : 'X' }])) }),
    ['device_api', 'type', 'vendor'].map((name) => `rules["${name}"]: "${name}" is a built-in field and cannot name a rule`),
  );
});

test('attributes and rules: maps, at most 128 entries each', (t) => {
  t.deepEqual(refused({ attributes: [{ int_value: 1 }], rules: 'none' }), [
    'attributes: must be a map from attribute name to value',
    'rules: must be a map from rule name to value',
  ]);
  t.is(valid({ attributes: null, rules: null }).attributes.size, 0);
  const d = valid({ attributes: named('a', 128, (i) => ({ int_value: i })), rules: named('r', 128, () => ({ op: 'COMPARE_OP_IGNORE' })) });
  t.deepEqual([d.attributes.size, d.rules.size], [128, 128]);
  t.deepEqual(refused({ attributes: named('a', 129, (i) => ({ int_value: i })), rules: named('r', 129, () => ({ op: 'COMPARE_OP_IGNORE' })) }), [
    'attributes: at most 128 attributes; got 129',
    'rules: at most 128 rules; got 129',
  ]);
  // The count is reported with the entries' own problems.
  t.deepEqual(refused({ attributes: { ...named('a', 129, (i) => ({ int_value: i })), a5: { int_value: 'x' } } }).length, 2);
});

test('a rule: an object with a known op, optional values, range and warn_only, and nothing else', (t) => {
  const rule = (r: unknown) => refused({ rules: { r } });
  t.deepEqual(rule(null), ['rules["r"]: a rule must be an object with at least an op']);
  t.deepEqual(rule(['COMPARE_OP_EQUAL']), ['rules["r"]: a rule must be an object with at least an op']);
  for (const op of [undefined, null, '', 'COMPARE_OP_UNSPECIFIED']) {
    t.deepEqual(rule({ op }), ['rules["r"].op: must be set to a COMPARE_OP_* value']);
  }
  t.deepEqual(rule({ op: 'COMPARE_OP_EQUALS' }), [`rules["r"].op: unknown op "COMPARE_OP_EQUALS"; expected one of ${OPS}`]);
  t.deepEqual(rule({ op: 3 }), [`rules["r"].op: unknown op 3; expected one of ${OPS}`]);
  t.deepEqual(rule({ op: 'COMPARE_OP_GE', warnOnly: true, value: [] }), [
    'rules["r"].warnOnly: unknown field "warnOnly"',
    'rules["r"].value: unknown field "value"',
  ]);
  t.deepEqual(rule({ op: 'COMPARE_OP_GE', warn_only: 'yes' }), ['rules["r"].warn_only: must be true or false']);
  t.deepEqual(rule({ op: 'COMPARE_OP_ONE_OF', values: { int_value: 1 } }), ['rules["r"].values: must be a list of values']);
  t.deepEqual(rule({ op: 'COMPARE_OP_ONE_OF' }), ['rules["r"].values: COMPARE_OP_ONE_OF needs at least one value']);
  t.deepEqual(rule({ op: 'COMPARE_OP_ONE_OF', values: [] }), ['rules["r"].values: COMPARE_OP_ONE_OF needs at least one value']);
  t.deepEqual(rule({ op: 'COMPARE_OP_ONE_OF', values: [{ int_value: 1 }, { bool_value: 1 }, {}] }), [
    'rules["r"].values[1].bool_value: must be true or false',
    'rules["r"].values[2]: exactly one of int_value, string_value, bool_value, version_value, set_value must be set; none is set',
  ]);
  // Each op but ONE_OF takes no values as none.
  for (const op of COMPARE_OPS.filter((o) => o !== 'COMPARE_OP_ONE_OF' && o !== 'COMPARE_OP_SEMVER_RANGE')) {
    t.deepEqual(valid({ rules: { r: { op } } }).rules.get('r'), { op, values: [], range: '', warnOnly: false, compiledRange: undefined });
  }
  // Several problems in one rule, and in two rules, are all listed.
  t.deepEqual(refused({ rules: { a: { op: 'X', warn_only: 1 }, b: { values: 1, extra: true } } }), [
    `rules["a"].op: unknown op "X"; expected one of ${OPS}`,
    'rules["a"].warn_only: must be true or false',
    'rules["b"].extra: unknown field "extra"',
    'rules["b"].op: must be set to a COMPARE_OP_* value',
    'rules["b"].values: must be a list of values',
  ]);
});

test('rule values: at most 1024; canonical, sorted by their canonical JSON, duplicates removed', (t) => {
  const values = (n: number) => Array.from({ length: n }, (_, i) => ({ int_value: i }));
  t.is(valid({ rules: { r: { op: 'COMPARE_OP_ONE_OF', values: values(1024) } } }).rules.get('r')?.values.length, 1024);
  t.deepEqual(refused({ rules: { r: { op: 'COMPARE_OP_ONE_OF', values: values(1025) } } }), ['rules["r"].values: at most 1024 values; got 1025']);
  const rule = valid({
    rules: {
      r: {
        op: 'COMPARE_OP_ONE_OF',
        values: [{ string_value: 'b' }, { int_value: '10' }, { int_value: 9 }, { string_value: 'a' }, { int_value: 10 }, { bool_value: true }, { string_value: 'b' }],
      },
    },
  }).rules.get('r');
  t.deepEqual(rule?.values, [
    { kind: 'bool', bool: true },
    { kind: 'int', int: 10n },
    { kind: 'int', int: 9n },
    { kind: 'string', str: 'a' },
    { kind: 'string', str: 'b' },
  ]);
});

test('a range: a strict node-semver range, required by SEMVER_RANGE, kept (and checked) under any op', (t) => {
  const rule = (r: object) => refused({ rules: { r } });
  const NEEDS = 'rules["r"].range: COMPARE_OP_SEMVER_RANGE needs a range, such as ">=1.2.0 <2.0.0"';
  t.deepEqual(rule({ op: 'COMPARE_OP_SEMVER_RANGE' }), [NEEDS]);
  t.deepEqual(rule({ op: 'COMPARE_OP_SEMVER_RANGE', range: '' }), [NEEDS]);
  t.deepEqual(rule({ op: 'COMPARE_OP_SEMVER_RANGE', range: '   ' }), [NEEDS]);
  t.deepEqual(rule({ op: 'COMPARE_OP_SEMVER_RANGE', range: '>=1.0.0 junk' }), [
    'rules["r"].range: must be a node-semver range such as ">=1.2.0 <2.0.0"; got ">=1.0.0 junk"',
  ]);
  t.deepEqual(rule({ op: 'COMPARE_OP_EQUAL', range: '   ' }), ['rules["r"].range: must be a node-semver range such as ">=1.2.0 <2.0.0"; got "   "']);
  t.deepEqual(rule({ op: 'COMPARE_OP_EQUAL', range: 'q' }), ['rules["r"].range: must be a node-semver range such as ">=1.2.0 <2.0.0"; got "q"']);
  for (const range of [7, true, { text: '^1.0.0' }, ['^1.0.0']]) {
    t.deepEqual(rule({ op: 'COMPARE_OP_SEMVER_RANGE', range }), ['rules["r"].range: must be a string']);
  }
  // 256 characters at most: at the bound the range is parsed, over it only its length is reported.
  t.deepEqual(rule({ op: 'COMPARE_OP_SEMVER_RANGE', range: 'q'.repeat(256) }), [
    `rules["r"].range: must be a node-semver range such as ">=1.2.0 <2.0.0"; got "${'q'.repeat(256)}"`,
  ]);
  t.deepEqual(rule({ op: 'COMPARE_OP_SEMVER_RANGE', range: 'q'.repeat(257) }), ['rules["r"].range: at most 256 characters']);

  const ranged = valid({ rules: { r: { op: 'COMPARE_OP_SEMVER_RANGE', range: '>=1.2.0 <2.0.0', warn_only: true } } }).rules.get('r')!;
  t.like(ranged, { op: 'COMPARE_OP_SEMVER_RANGE', range: '>=1.2.0 <2.0.0', warnOnly: true, values: [] });
  t.true(ranged.compiledRange?.test('1.5.0'));
  t.false(ranged.compiledRange?.test('2.0.0'));
  // Under another op the range is kept as given, not compiled: nothing the client sent is dropped.
  const kept = valid({ rules: { r: { op: 'COMPARE_OP_EQUAL', range: '^1.0.0', warn_only: null } } }).rules.get('r');
  t.deepEqual(kept, { op: 'COMPARE_OP_EQUAL', values: [], range: '^1.0.0', warnOnly: false, compiledRange: undefined });
  t.is(valid({ rules: { r: { op: 'COMPARE_OP_EQUAL', range: null } } }).rules.get('r')?.range, '');
});

test('the encoded size: at most 65536 bytes of canonical JSON, in UTF-8 bytes, reported with the other violations', (t) => {
  // A set of 252 long members comes within a string's reach of the limit.
  const members = Array.from({ length: 252 }, (_, i) => `${String(i).padStart(4, '0')}${'x'.repeat(252)}`);
  const sized = (last: string) => ({ attributes: { s: { set_value: { values: members } }, z: { string_value: last } } });
  const overhead = Buffer.byteLength(valid(sized('')).key);
  const room = 65536 - overhead;
  t.true(room > 0 && room <= 256, `the filler leaves ${room} bytes`);
  const atLimit = valid(sized('x'.repeat(room)));
  t.is(Buffer.byteLength(atLimit.key), 65536);
  t.deepEqual(refused(sized('x'.repeat(room + 1))), ['descriptor: a descriptor is at most 65536 bytes encoded (canonical JSON); got at least 65537']);
  // Counted in bytes, not characters: one two-byte character in place of one ASCII one.
  t.deepEqual(refused(sized(`é${'x'.repeat(room - 1)}`)), [
    'descriptor: a descriptor is at most 65536 bytes encoded (canonical JSON); got at least 65537',
  ]);
  // Measured on what validated: a lower bound, reported beside the other violations, under the path.
  t.deepEqual(refusals({ ...base, vendor: '', ...sized('x'.repeat(room + 10)) }, 'devices[0].descriptor.'), [
    'devices[0].descriptor.vendor: must be set (non-empty)',
    `devices[0].descriptor: a descriptor is at most 65536 bytes encoded (canonical JSON); got at least ${65536 + 10 - 'nvidia'.length}`,
  ]);
});

test('the canonical form: the Descriptor returned, its fields sorted, and its proto-JSON', (t) => {
  const d = validateDescriptor({
    type: 't',
    vendor: 'v',
    device_api: 'a',
    software_version: 'v1.02.3-rc.1+b7',
    compatible_types: ['t3', 't1', 't3', 't2'],
    attributes: { zeta: { set_value: { values: ['b', 'a', 'b'] } }, alpha: { int_value: '-5' }, mid: { version_value: 'v2.0.0' } },
    rules: {
      zeta: { op: 'COMPARE_OP_SUPERSET', warn_only: true },
      software_version: { op: 'COMPARE_OP_VERSION_GE' },
      beta: { op: 'COMPARE_OP_CLAIMABLE', values: [{ int_value: 2 }, { int_value: '2' }, { int_value: 1 }], range: '', warn_only: false },
      gamma: { op: 'COMPARE_OP_SEMVER_RANGE', range: '^1.2.0' },
    },
  } as DescriptorInput);
  t.is(d.vendor, 'v');
  t.is(d.deviceApi, 'a');
  t.is(d.type, 't');
  t.deepEqual(d.compatibleTypes, ['t1', 't2', 't3']);
  // A type is never empty: the first empty one is named.
  t.deepEqual(refused({ compatible_types: ['a', '', 'b', ''] }), ['compatible_types[1]: must be non-empty']);
  t.is(d.softwareVersion.text, '1.2.3-rc.1+b7');
  t.deepEqual([...d.attributes.keys()], ['alpha', 'mid', 'zeta']);
  t.deepEqual([...d.rules.keys()], ['beta', 'gamma', 'software_version', 'zeta']);
  const json = descriptorToJson(d);
  t.deepEqual(json, {
    attributes: {
      alpha: { int_value: '-5' },
      mid: { version_value: '2.0.0' },
      zeta: { set_value: { values: ['a', 'b'] } },
    },
    compatible_types: ['t1', 't2', 't3'],
    device_api: 'a',
    rules: {
      beta: { op: 'COMPARE_OP_CLAIMABLE', values: [{ int_value: '1' }, { int_value: '2' }] },
      gamma: { op: 'COMPARE_OP_SEMVER_RANGE', range: '^1.2.0' },
      software_version: { op: 'COMPARE_OP_VERSION_GE' },
      zeta: { op: 'COMPARE_OP_SUPERSET', warn_only: true },
    },
    software_version: '1.2.3-rc.1+b7',
    type: 't',
    vendor: 'v',
  });
  t.deepEqual(Object.keys(json.attributes), ['alpha', 'mid', 'zeta']);
  t.deepEqual(Object.keys(json.rules), ['beta', 'gamma', 'software_version', 'zeta']);
  t.is(d.key, JSON.stringify(json));
  t.is(descriptorKey(d), d.key);
  // The canonical JSON validates back to itself.
  t.is(validateDescriptor(JSON.parse(d.key)).key, d.key);
  t.is(validateDescriptor(json as unknown as DescriptorInput).key, d.key);
});

test('descriptorKey sorts a hand-built descriptor\'s maps too', (t) => {
  const d = valid({ attributes: { a: { int_value: 1 }, b: { int_value: 2 } }, rules: { a: { op: 'COMPARE_OP_GE' }, b: { op: 'COMPARE_OP_LE' } } });
  const reversed = {
    ...d,
    attributes: new Map([...d.attributes].reverse()),
    rules: new Map([...d.rules].reverse()),
  };
  t.is(descriptorKey(reversed), d.key);
});

test('the same meaning gives the same key, whatever the form', (t) => {
  const same = [
    valid({}),
    valid({ software_version: 'v1.0.0', compatible_types: [], attributes: {}, rules: {} }),
    valid({ software_version: '1.0.00', compatible_types: null, attributes: null, rules: null }),
  ];
  t.deepEqual(new Set(same.map((d) => d.key)).size, 1);
  const full = (order: 'one' | 'other') =>
    order === 'one'
      ? valid({
          compatible_types: ['b', 'a', 'a'],
          attributes: { n: { int_value: 9007199254740993n }, s: { set_value: { values: ['y', 'x', 'y'] } }, v: { version_value: 'v3.1.0' } },
          rules: { n: { op: 'COMPARE_OP_ONE_OF', values: [{ int_value: 2 }, { int_value: '1' }, { int_value: 2 }], warn_only: false }, v: { op: 'COMPARE_OP_EQUAL', range: null } },
        })
      : valid({
          rules: { v: { op: 'COMPARE_OP_EQUAL' }, n: { values: [{ int_value: 1 }, { int_value: '2' }], op: 'COMPARE_OP_ONE_OF' } },
          attributes: { v: { version_value: '3.1.0' }, s: { set_value: { values: ['x', 'y'] } }, n: { int_value: '9007199254740993' } },
          compatible_types: ['a', 'b'],
        });
  t.is(full('one').key, full('other').key);
});

test('a different meaning gives a different key: each field counts', (t) => {
  const variants = [
    {},
    { vendor: 'amd' },
    { device_api: 'mdev' },
    { type: 'nvidia-a10-8q' },
    { software_version: '1.0.1' },
    { software_version: '1.0.0+build' },
    { software_version: '1.0.0-rc.1' },
    { compatible_types: ['x'] },
    { compatible_types: ['x', 'y'] },
    { attributes: { a: { int_value: 1 } } },
    { attributes: { a: { int_value: 2 } } },
    { attributes: { a: { string_value: '1' } } },
    { attributes: { b: { int_value: 1 } } },
    { attributes: { a: { set_value: { values: ['1'] } } } },
    { attributes: { a: { set_value: {} } } },
    { attributes: { a: { bool_value: false } } },
    { attributes: { a: { version_value: '1.0.0' } } },
    { rules: { a: { op: 'COMPARE_OP_GE' } } },
    { rules: { a: { op: 'COMPARE_OP_LE' } } },
    { rules: { a: { op: 'COMPARE_OP_GE', warn_only: true } } },
    { rules: { a: { op: 'COMPARE_OP_GE', range: '^1.0.0' } } },
    { rules: { a: { op: 'COMPARE_OP_GE', values: [{ int_value: 1 }] } } },
    { rules: { a: { op: 'COMPARE_OP_GE', values: [{ int_value: 1 }, { int_value: 2 }] } } },
    { rules: { software_version: { op: 'COMPARE_OP_GE' } } },
  ];
  const keys = variants.map((v) => valid(v).key);
  t.is(new Set(keys).size, variants.length);
});

test('the index: attribute names, target names (attributes and rules but the software_version rule), built-ins as values', (t) => {
  const d = valid({
    software_version: 'v2.1.0',
    attributes: { b: { int_value: 1 }, a: { bool_value: true } },
    rules: { software_version: { op: 'COMPARE_OP_SEMVER' }, c: { op: 'COMPARE_OP_IGNORE' }, a: { op: 'COMPARE_OP_EQUAL' } },
  });
  const { softwareVersion, ...rest } = d.index!;
  t.deepEqual(rest, {
    attributeNames: ['a', 'b'],
    targetNames: ['a', 'b', 'c'],
    vendor: { kind: 'string', str: 'nvidia' },
    deviceApi: { kind: 'string', str: 'vfio-pci' },
    type: { kind: 'string', str: 'nvidia-a10-4q' },
  });
  t.is(softwareVersion.kind, 'version');
  t.is(softwareVersion.kind === 'version' && softwareVersion.version, d.softwareVersion);
  // The index of a hand-built descriptor sorts its names too.
  const hand: Omit<Descriptor, 'key' | 'index'> = {
    ...d,
    attributes: new Map([...d.attributes].reverse()),
    rules: new Map([...d.rules].reverse()),
  };
  t.deepEqual(indexDescriptor(hand).attributeNames, ['a', 'b']);
  t.deepEqual(indexDescriptor(hand).targetNames, ['a', 'b', 'c']);
});
