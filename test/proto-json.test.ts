// client/proto-json.ts on the cases the CLI's messages rarely show but the proto3 JSON mapping
// fixes: proto3 `optional` presence, Timestamp precision, Any, int64 in every JavaScript shape,
// lowerCamelCase input keys and Dates (the shapes a client library may hand out). What buf curl
// prints for whole responses is compared in test/cli-output-formats.test.ts.

import test from 'ava';
import protobuf from 'protobufjs';
import { protoRoot } from '../proto/load.ts';
import { timestampText, toProtoJson } from '../client/proto-json.ts';

test('a proto3 optional field is printed when set, even at 0, and left out when unset', (t) => {
  t.deepEqual(toProtoJson('devcompat.v1.SyncHostRequest', { name: 'hosts/a', expected_revision: '0', devices: [] }), {
    name: 'hosts/a',
    expectedRevision: '0',
  });
  t.deepEqual(toProtoJson('devcompat.v1.SyncHostRequest', { name: 'hosts/a', devices: [], labels: {} }), { name: 'hosts/a' });
});

test('Timestamps are RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits, from {seconds, nanos} or a Date', (t) => {
  t.is(timestampText({ seconds: '1796034855', nanos: 0 }), '2026-11-30T10:34:15Z');
  t.is(timestampText({ seconds: '1796034855', nanos: 123_000_000 }), '2026-11-30T10:34:15.123Z');
  t.is(timestampText({ seconds: '1796034855', nanos: 500_000 }), '2026-11-30T10:34:15.000500Z');
  t.is(timestampText({ seconds: 1796034855, nanos: 1 }), '2026-11-30T10:34:15.000000001Z');
  t.is(timestampText(new Date('2026-11-30T10:34:15.120Z')), '2026-11-30T10:34:15.120Z');
  t.is(timestampText(new Date('1969-12-31T23:59:59.500Z')), '1969-12-31T23:59:59.500Z');
});

test('int64 is a decimal string from a string, number, bigint or Long; int32 stays a number; keys may be lowerCamelCase', (t) => {
  for (const revision of ['9007199254740993', 9007199254740993n, (protobuf.util.Long as unknown as { fromString(text: string): object }).fromString('9007199254740993')]) {
    t.deepEqual(toProtoJson('devcompat.v1.FindTargetsSummary', { revision, candidates: 3, distinctDescriptors: 2 }), {
      revision: '9007199254740993',
      candidates: 3,
      distinctDescriptors: 2,
    });
  }
  t.deepEqual(toProtoJson('devcompat.v1.FindTargetsSummary', { revision: 7 }), { revision: '7' });
});

test('a google.rpc.Status prints its details as Any with "@type" and the message fields', (t) => {
  const root = protoRoot();
  const ErrorInfo = root.lookupType('google.rpc.ErrorInfo');
  const value = Buffer.from(ErrorInfo.encode(ErrorInfo.fromObject({ reason: 'NOT_FOUND', domain: 'devcompat', metadata: { resource: 'hosts/a' } })).finish());
  t.deepEqual(
    toProtoJson('google.rpc.Status', { code: 5, message: 'hosts/a not found', details: [{ type_url: 'type.googleapis.com/google.rpc.ErrorInfo', value }] }),
    {
      code: 5,
      message: 'hosts/a not found',
      details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'NOT_FOUND', domain: 'devcompat', metadata: { resource: 'hosts/a' } }],
    },
  );
});

test('oneof members are printed at their default; other defaults, discriminators and unknown keys are not', (t) => {
  t.deepEqual(toProtoJson('devcompat.v1.AttributeValue', { kind: 'int_value', int_value: '0' }), { intValue: '0' });
  t.deepEqual(toProtoJson('devcompat.v1.AttributeValue', { kind: 'bool_value', bool_value: false }), { boolValue: false });
  t.deepEqual(toProtoJson('devcompat.v1.Rule', { op: 'COMPARE_OP_UNSPECIFIED', warn_only: false, values: [] }), {});
  t.deepEqual(toProtoJson('devcompat.v1.Rule', { op: 2, warnOnly: true }), { op: 'COMPARE_OP_SEMVER', warnOnly: true });
});
