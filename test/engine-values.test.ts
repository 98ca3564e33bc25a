// Attribute values (server/core/values.ts) as a client sees them: what a bad value's error
// says and under which field (spec: "bad input gets INVALID_ARGUMENT naming the field"), the
// exact limits (int64 range, 256 characters counted as code points, 1024 set members, control
// characters), the canonical form (sets sorted without duplicates) and EQUAL's sense of
// equality for every kind.

import test from 'ava';
import { DomainError } from '../server/core/errors.ts';
import type { Value } from '../server/core/model.ts';
import { validateDescriptor } from '../server/core/validate.ts';
import { parseValue, valueEquals, valueKey, valueToJson } from '../server/core/values.ts';

/** The violations parseValue reports, as `field: description`. */
function refusal(input: unknown, field = 'value'): string[] {
  try {
    parseValue(input, field);
  } catch (error) {
    if (error instanceof DomainError && error.reason === 'INVALID_ARGUMENT') {
      return error.violations.map((v) => `${v.field}: ${v.description}`);
    }
    throw error;
  }
  throw new Error(`parseValue accepted ${JSON.stringify(input, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`);
}

const json = (input: unknown) => valueToJson(parseValue(input));
const KINDS = 'int_value, string_value, bool_value, version_value, set_value';

test('int64: every accepted form, the exact range, and what each refusal says', (t) => {
  t.deepEqual(json({ int_value: '9223372036854775807' }), { int_value: '9223372036854775807' });
  t.deepEqual(json({ int_value: '-9223372036854775808' }), { int_value: '-9223372036854775808' });
  t.deepEqual(json({ int_value: 9223372036854775807n }), { int_value: '9223372036854775807' });
  t.deepEqual(json({ int_value: -9223372036854775808n }), { int_value: '-9223372036854775808' });
  t.deepEqual(json({ int_value: Number.MAX_SAFE_INTEGER }), { int_value: '9007199254740991' });
  t.deepEqual(json({ int_value: -Number.MAX_SAFE_INTEGER }), { int_value: '-9007199254740991' });
  t.deepEqual(json({ int_value: '-0' }), { int_value: '0' });
  t.deepEqual(json({ int_value: '007' }), { int_value: '7' });
  t.deepEqual(json({ int_value: { low: -1, high: 0x7fffffff, unsigned: false, toString: () => '9223372036854775807' } }), {
    int_value: '9223372036854775807',
  });
  const range = 'value.int_value: out of the int64 range';
  t.deepEqual(refusal({ int_value: '9223372036854775808' }), [range]);
  t.deepEqual(refusal({ int_value: '-9223372036854775809' }), [range]);
  t.deepEqual(refusal({ int_value: 9223372036854775808n }), [range]);
  t.deepEqual(refusal({ int_value: -9223372036854775809n }), [range]);
  t.deepEqual(refusal({ int_value: { low: 0, high: 0, unsigned: true, toString: () => '18446744073709551615' } }), [range]);
  t.deepEqual(refusal({ int_value: 1.5 }), ['value.int_value: must be an integer']);
  t.deepEqual(refusal({ int_value: Number.NaN }), ['value.int_value: must be an integer']);
  const unsafe = 'value.int_value: integers beyond ±2^53 must be sent as decimal strings';
  t.deepEqual(refusal({ int_value: Number.MAX_SAFE_INTEGER + 1 }), [unsafe]);
  t.deepEqual(refusal({ int_value: -Number.MAX_SAFE_INTEGER - 1 }), [unsafe]);
  const notInteger = 'value.int_value: must be an integer (a number or a decimal string)';
  for (const raw of ['', ' 1', '1 ', '+1', '1.0', '1e3', '0x10', '--1', '1-', 'one']) {
    t.deepEqual(refusal({ int_value: raw }), [notInteger], JSON.stringify(raw));
  }
  // Only a string is read as decimal text, only a plain object as a Long: an array or an object
  // whose text happens to be digits is not an integer.
  const digitsArray = ['5'];
  const digitsObject = { toString: () => '5' };
  const arrayLikeLong = Object.assign([], { low: 5, high: 0, unsigned: false });
  for (const raw of [digitsArray, digitsObject, arrayLikeLong]) t.deepEqual(refusal({ int_value: raw }), [notInteger]);
  for (const raw of [true, [], {}, { low: 1, high: 0 }, { low: 1, high: 0, unsigned: 'no' }, { low: '1', high: 0, unsigned: false }, { low: 1, high: '0', unsigned: false }]) {
    t.deepEqual(refusal({ int_value: raw }), [notInteger], JSON.stringify(raw));
  }
});

test('strings: 256 characters counted as code points; control characters refused, the message says which', (t) => {
  t.deepEqual(json({ string_value: 'x'.repeat(256) }), { string_value: 'x'.repeat(256) });
  t.deepEqual(refusal({ string_value: 'x'.repeat(257) }), ['value.string_value: at most 256 characters']);
  // 200 emoji are 400 UTF-16 units but 200 characters.
  t.deepEqual(json({ string_value: '😀'.repeat(200) }), { string_value: '😀'.repeat(200) });
  t.deepEqual(json({ string_value: `${'😀'.repeat(255)}x` }), { string_value: `${'😀'.repeat(255)}x` });
  t.deepEqual(refusal({ string_value: `${'😀'.repeat(256)}x` }), ['value.string_value: at most 256 characters']);
  const control = 'value.string_value: must not contain control characters (NUL, newline, escape, DEL, C1)';
  for (const c of ['\u0000', '\n', '\u001b', '\u001f', '\u007f', '\u0080', '\u009f']) {
    t.deepEqual(refusal({ string_value: `a${c}b` }), [control], JSON.stringify(c));
  }
  for (const c of [' ', '~', '\u00a0', 'é']) t.deepEqual(json({ string_value: `a${c}b` }), { string_value: `a${c}b` });
  t.deepEqual(refusal({ string_value: 5 }), ['value.string_value: must be a string']);
});

test('bool and version values: what each refusal says', (t) => {
  t.deepEqual(json({ bool_value: true }), { bool_value: true });
  t.deepEqual(refusal({ bool_value: 'true' }), ['value.bool_value: must be true or false']);
  t.deepEqual(refusal({ bool_value: 1 }), ['value.bool_value: must be true or false']);
  const notVersion = 'value.version_value: must be a semantic version such as 1.2.3';
  t.deepEqual(refusal({ version_value: '1.2' }), [notVersion]);
  t.deepEqual(refusal({ version_value: 123 }), [notVersion]);
  t.deepEqual(refusal({ version_value: `1.2.3-${'a'.repeat(300)}` }), [notVersion]);
  t.deepEqual(json({ version_value: '1.2.3-rc.1+b' }), { version_value: '1.2.3-rc.1+b' });
});

test('sets: sorted without duplicates; members, size and shape refused each with its own message', (t) => {
  t.deepEqual(json({ set_value: { values: ['b', 'a', 'b', 'a', 'c', 'a'] } }), { set_value: { values: ['a', 'b', 'c'] } });
  t.deepEqual(json({ set_value: { values: ['a', 'a'] } }), { set_value: { values: ['a'] } });
  t.deepEqual(json({ set_value: { values: ['B', 'a', 'Z', '_'] } }), { set_value: { values: ['B', 'Z', '_', 'a'] } });
  t.deepEqual(json({ set_value: { values: null } }), { set_value: { values: [] } });
  const members = (n: number) => Array.from({ length: n }, (_, i) => `m${i}`);
  t.is((parseValue({ set_value: { values: members(1024) } }) as Extract<Value, { kind: 'set' }>).set.length, 1024);
  t.deepEqual(refusal({ set_value: { values: members(1025) } }), ['value.set_value.values: at most 1024 members; got 1025']);
  // Counted before duplicates are removed: the limit bounds what a client may send.
  t.deepEqual(refusal({ set_value: { values: Array(1025).fill('x') } }), ['value.set_value.values: at most 1024 members; got 1025']);
  t.deepEqual(refusal({ set_value: { values: 'a' } }), ['value.set_value.values: must be a list of strings']);
  t.deepEqual(refusal({ set_value: { values: ['ok', 7, 'x'.repeat(257), 'a\u0000'] } }), [
    'value.set_value.values[1]: must be a string',
    'value.set_value.values[2]: at most 256 characters',
    'value.set_value.values[3]: must not contain control characters (NUL, newline, escape, DEL, C1)',
  ]);
  t.deepEqual(refusal({ set_value: ['a'] }), ['value.set_value: must be an object {"values": [strings]}']);
  t.deepEqual(refusal({ set_value: 'a' }), ['value.set_value: must be an object {"values": [strings]}']);
  t.deepEqual(refusal({ set_value: { values: [], vals: ['a'] } }), ['value.set_value.vals: unknown field "vals"']);
});

test('exactly one kind: none, two, unknown fields, and what is not an object, each named', (t) => {
  t.deepEqual(refusal(null), [`value: must be an object with exactly one of ${KINDS}`]);
  t.deepEqual(refusal([{ int_value: 1 }]), [`value: must be an object with exactly one of ${KINDS}`]);
  t.deepEqual(refusal('1'), [`value: must be an object with exactly one of ${KINDS}`]);
  t.deepEqual(refusal({}), [`value: exactly one of ${KINDS} must be set; none is set`]);
  // proto3 JSON reads null as absent.
  t.deepEqual(refusal({ int_value: null, string_value: null }), [`value: exactly one of ${KINDS} must be set; none is set`]);
  t.deepEqual(json({ int_value: null, string_value: 'x' }), { string_value: 'x' });
  t.deepEqual(refusal({ int_value: 1, bool_value: false }), [`value: exactly one of ${KINDS} must be set; got int_value and bool_value`]);
  // An unknown sibling invalidates a value whose member parsed; proto-loader's `kind` does not.
  t.deepEqual(refusal({ int_value: 1, intvalue: 2 }), ['value.intvalue: unknown field "intvalue"']);
  t.deepEqual(json({ kind: 'int_value', int_value: 1 }), { int_value: '1' });
  t.deepEqual(refusal({ bool_value: 'x' }, 'rules["r"].values[2]'), ['rules["r"].values[2].bool_value: must be true or false']);
  // Without a field, the error names `value`.
  const error = t.throws(() => parseValue({ bool_value: 'x' }), { instanceOf: DomainError });
  t.is(error?.message, 'value.bool_value: must be true or false');
});

test('compatible_types: at most 64; a list refused for one problem is not checked again for another', (t) => {
  const base = { vendor: 'v', device_api: 'vfio-pci', type: 't', software_version: '1.0.0' };
  const types = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`);
  const violations = (input: object) => {
    const error = t.throws(() => validateDescriptor({ ...base, ...input }), { instanceOf: DomainError });
    return error?.violations.map((v) => `${v.field}: ${v.description}`);
  };
  t.is(validateDescriptor({ ...base, compatible_types: types(64) }).compatibleTypes.length, 64);
  t.deepEqual(violations({ compatible_types: types(65) }), ['compatible_types: at most 64 members; got 65']);
  t.deepEqual(violations({ compatible_types: ['a', ''] }), ['compatible_types[1]: must be non-empty']);
  // An empty member is reported only when the list is otherwise valid.
  t.deepEqual(violations({ compatible_types: ['', ...types(64)] }), ['compatible_types: at most 64 members; got 65']);
  t.deepEqual(violations({ compatible_types: [7, ''] }), ['compatible_types[0]: must be a string']);
  t.deepEqual(violations({ compatible_types: ['x'.repeat(257), ''] }), ['compatible_types[0]: at most 256 characters']);
  t.deepEqual(violations({ compatible_types: ['a\u0000', ''] }), [
    'compatible_types[0]: must not contain control characters (NUL, newline, escape, DEL, C1)',
  ]);
});

test('a rule value with a bad set member is refused naming the member', (t) => {
  const base = { vendor: 'v', device_api: 'vfio-pci', type: 't', software_version: '1.0.0' };
  const error = t.throws(
    () => validateDescriptor({ ...base, rules: { caps: { op: 'COMPARE_OP_ONE_OF', values: [{ set_value: { values: [7] } }] } } } as never),
    { instanceOf: DomainError },
  );
  t.deepEqual(error?.violations.map((v) => `${v.field}: ${v.description}`), ['rules["caps"].values[0].set_value.values[0]: must be a string']);
});

test('EQUAL compares each kind by value: a difference in any one of them is unequal', (t) => {
  const v = (input: unknown) => parseValue(input);
  const pairs: [unknown, unknown, boolean][] = [
    [{ int_value: 5 }, { int_value: '5' }, true],
    [{ int_value: 5 }, { int_value: 6 }, false],
    [{ string_value: 'a' }, { string_value: 'a' }, true],
    [{ string_value: 'a' }, { string_value: 'b' }, false],
    [{ bool_value: true }, { bool_value: true }, true],
    [{ bool_value: true }, { bool_value: false }, false],
    [{ version_value: '1.2.3' }, { version_value: 'v1.2.3+x' }, true],
    [{ version_value: '1.2.3' }, { version_value: '1.2.4' }, false],
    [{ version_value: '1.2.3' }, { version_value: '1.2.3-rc.1' }, false],
    [{ set_value: { values: ['a', 'b'] } }, { set_value: { values: ['b', 'a', 'a'] } }, true],
    [{ set_value: { values: ['a', 'b'] } }, { set_value: { values: ['a', 'c'] } }, false],
    [{ set_value: { values: ['a', 'b'] } }, { set_value: { values: ['a'] } }, false],
    [{ set_value: { values: ['a'] } }, { set_value: { values: ['a', 'b'] } }, false],
    [{ set_value: { values: [] } }, { set_value: { values: [] } }, true],
    [{ int_value: 1 }, { bool_value: true }, false],
    [{ string_value: 'a' }, { set_value: { values: ['a'] } }, false],
  ];
  for (const [a, b, equal] of pairs) {
    t.is(valueEquals(v(a), v(b)), equal, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    t.is(valueEquals(v(b), v(a)), equal, `${JSON.stringify(b)} vs ${JSON.stringify(a)}`);
    t.is(valueKey(v(a)) === valueKey(v(b)), equal && !JSON.stringify(b).includes('+x'), 'canonical keys');
  }
  t.false(valueEquals(v({ int_value: 0 }), undefined));
  t.false(valueEquals(undefined, v({ bool_value: false })));
  t.is(valueKey(v({ set_value: { values: ['b', 'a'] } })), '{"set_value":{"values":["a","b"]}}');
  t.is(valueKey(v({ int_value: -3 })), '{"int_value":"-3"}');
});
