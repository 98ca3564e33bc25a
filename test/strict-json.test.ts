// The strict proto3 JSON reader behind every file the CLI reads: both spellings of a field
// are accepted, anything else is refused with its path, and nothing is silently changed.

import test from 'ava';
import { JsonShapeError, readMessageJson } from '../proto/strict-json.ts';

const refusal = (t: import('ava').ExecutionContext, value: unknown, field: string, message: RegExp) => {
  const error = t.throws(() => readMessageJson('devcompat.v1.SyncHostRequest', value), { instanceOf: JsonShapeError });
  t.is(error?.field, field);
  t.regex(error?.message ?? '', message);
};

test('proto field names and lowerCamelCase are both read, into proto field names', (t) => {
  const read = readMessageJson('devcompat.v1.SyncHostRequest', {
    name: 'hosts/a',
    expectedRevision: 3,
    devices: [{ deviceId: '0000:3b:00.2', descriptor: { deviceApi: 'vfio-pci', rules: { x: { op: 'COMPARE_OP_GE', warnOnly: true } } } }],
  });
  t.deepEqual(read, {
    name: 'hosts/a',
    expected_revision: '3',
    devices: [{ device_id: '0000:3b:00.2', descriptor: { device_api: 'vfio-pci', rules: { x: { op: 'COMPARE_OP_GE', warn_only: true } } } }],
  });
});

test('a typo such as warnonly is refused with its path', (t) => {
  refusal(t, { devices: [{ descriptor: { rules: { x: { op: 'COMPARE_OP_GE', warnonly: true } } } }] }, 'devices[0].descriptor.rules["x"].warnonly', /unknown field "warnonly" in Rule/);
});

test('keys that name Object.prototype members are unknown fields, not crashes', (t) => {
  refusal(t, { devices: [{ constructor: 1 }] }, 'devices[0].constructor', /unknown field "constructor"/);
  refusal(t, JSON.parse('{"__proto__": {}}'), '__proto__', /unknown field "__proto__"/);
  refusal(t, { devices: [{ descriptor: { rules: { x: { op: 'toString' } } } }] }, 'devices[0].descriptor.rules["x"].op', /expected one of COMPARE_OP_UNSPECIFIED/);
});

test('int64 beyond 2^53 must be a decimal string: a JSON number has already lost digits', (t) => {
  refusal(t, { expected_revision: 9007199254740993 }, 'expected_revision', /decimal string/);
  t.is(readMessageJson('devcompat.v1.SyncHostRequest', { expected_revision: '9007199254740993' }).expected_revision, '9007199254740993');
  t.is(readMessageJson('devcompat.v1.SyncHostRequest', { expected_revision: 9007199254740991 }).expected_revision, '9007199254740991');
});

test('two members of one oneof are refused', (t) => {
  const error = t.throws(
    () => readMessageJson('devcompat.v1.AttributeValue', { int_value: 1, string_value: 'x' }),
    { instanceOf: JsonShapeError },
  );
  t.regex(error?.message ?? '', /only one of int_value and string_value/);
});
