// SyncHost's hand-written response serializer (server/grpc/sync-host-encoding.ts) gives the
// bytes protobufjs's serializer gives (proto/load.ts, what grpc-js used before), byte for
// byte, for any response the handler can make and for awkward ones it does not (absent and
// null fields, zeros, negative and large int64s, non-ASCII text, budgets); what it does not
// expect goes to protobufjs's serializer, which answers or refuses exactly as before.

import test from 'ava';
import fc from 'fast-check';
import type * as grpc from '@grpc/grpc-js';
import { serviceDefinitions } from '../proto/load.ts';
import { encodeSyncHostResponse, encodingSyncHostResponse } from '../server/grpc/sync-host-encoding.ts';

const generic = serviceDefinitions().RegistryService.service.SyncHost as grpc.MethodDefinition<unknown, unknown>;
const encoding = encodingSyncHostResponse(generic);

const int64Text = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 31 }),
  fc.maxSafeInteger(),
  fc.integer({ min: -(2 ** 40), max: -1 }),
  fc.constantFrom(0, 1, 127, 128, 16_383, 16_384, 2 ** 32, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER),
).map(String);
const text = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 6 }), fc.string({ maxLength: 200 }));
const timestampArb = fc.oneof(
  fc.record({ seconds: int64Text, nanos: fc.oneof(fc.integer({ min: 0, max: 999_999_999 }), fc.integer({ min: -5, max: 5 })) }, { requiredKeys: [] }),
  fc.constant(null),
);
const budgetArb = fc.record({
  budget: fc.record({
    budget_id: text,
    parent: text,
    total: fc.nat().map(String),
    available: fc.nat().map(String),
    consumption: fc.dictionary(fc.string({ maxLength: 6 }), fc.integer({ min: 1, max: 2 ** 40 }).map(String), { maxKeys: 3 }),
  }),
  claimed: fc.nat().map(String),
});
const hostArb = fc.record(
  {
    budgets: fc.oneof(fc.constant([]), fc.array(budgetArb, { maxLength: 3 })),
    name: text.map((s) => `hosts/${s}`),
    labels: fc.dictionary(fc.string({ maxLength: 10 }), text, { maxKeys: 5 }),
    revision: int64Text,
    create_revision: int64Text,
    create_time: timestampArb,
    update_time: timestampArb,
    last_sync_time: timestampArb,
    device_count: fc.oneof(fc.nat(), fc.constantFrom(0, 2 ** 32 - 1)),
    state: fc.constantFrom('HOST_STATE_UNSPECIFIED', 'HOST_STATE_READY', 'HOST_STATE_UNREACHABLE', 'HOST_STATE_DRAINING'),
    draining: fc.boolean(),
    lease_expire_time: timestampArb,
  },
  { requiredKeys: [] },
);
const responseArb = fc.record(
  {
    revision: int64Text,
    host: fc.oneof(hostArb, fc.constant(null)),
    changed: fc.boolean(),
    devices_created: fc.nat({ max: 5000 }),
    devices_updated: fc.nat({ max: 5000 }),
    devices_deleted: fc.nat({ max: 5000 }),
    head_hash: fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), text),
  },
  { requiredKeys: [] },
);

test('any response encodes to protobufjs bytes, byte for byte', (t) => {
  fc.assert(
    fc.property(responseArb, (response) => {
      const expected = generic.responseSerialize(response);
      const fast = encodeSyncHostResponse(response);
      // The one input the arbitraries make that the encoder hands over: a `__proto__` label key.
      if (fast === undefined) return response.host?.labels !== undefined && Object.keys(response.host.labels).includes('__proto__');
      return Buffer.compare(fast, expected) === 0;
    }),
    { numRuns: 3000 },
  );
  t.pass();
});

test("the handler's answer for a new host, as the server makes it, encodes as protobufjs does", (t) => {
  const response = {
    revision: '10000',
    host: {
      budgets: [],
      name: 'hosts/gpu-node-0042',
      labels: { rack: 'r12', zone: 'eu-west-1a', 'topology.kubernetes.io/region': 'é-ünïcode' },
      revision: '10000',
      create_revision: '10000',
      create_time: { seconds: '1764572400', nanos: 123_000_000 },
      update_time: { seconds: '1764572400', nanos: 123_000_000 },
      last_sync_time: { seconds: '1764572400', nanos: 0 },
      device_count: 16,
      state: 'HOST_STATE_READY',
      draining: false,
      lease_expire_time: { seconds: '1764658800', nanos: 123_000_000 },
    },
    changed: true,
    devices_created: 16,
    devices_updated: 0,
    devices_deleted: 0,
    head_hash: 'a'.repeat(64),
  };
  const fast = encodeSyncHostResponse(response);
  t.truthy(fast);
  t.deepEqual(fast, generic.responseSerialize(response));
  // And a client decodes what the handler gave (int64s as strings, enums by name, zeros as defaults).
  const decoded = generic.responseDeserialize(fast!) as Record<string, unknown>;
  t.like(decoded, { revision: '10000', changed: true, devices_created: 16, devices_updated: 0, head_hash: 'a'.repeat(64) });
  t.like(decoded.host as object, { name: 'hosts/gpu-node-0042', state: 'HOST_STATE_READY', labels: response.host.labels, device_count: 16 });
});

test('what the encoder does not expect is decided by protobufjs: the same bytes, or the same refusal', (t) => {
  const base = { revision: '7', head_hash: 'ab', host: { name: 'hosts/h', state: 'HOST_STATE_READY', labels: { a: 'b' } } };
  const unexpected: object[] = [
    { ...base, revision: '9223372036854775807' }, // beyond 2^53: protobufjs's long
    { ...base, revision: '007' },
    { ...base, revision: 7 },
    { ...base, host: { ...base.host, state: 'HOST_STATE_NOT_A_STATE' } },
    { ...base, host: { ...base.host, state: 2 } },
    { ...base, host: { ...base.host, create_time: { seconds: '-9223372036854775808', nanos: 1 } } },
    { ...base, host: { ...base.host, labels: JSON.parse('{"__proto__": "x", "b": "c"}') } },
  ];
  for (const response of unexpected) {
    t.deepEqual(encoding.responseSerialize(response), generic.responseSerialize(response), JSON.stringify(response));
  }
  t.is(encodeSyncHostResponse({ ...base, revision: '9223372036854775807' }), undefined);
  // Refused alike.
  const refused: object[] = [
    { ...base, host: 'hosts/h' },
    { ...base, host: { ...base.host, labels: 'a=b' } },
    { ...base, host: { ...base.host, create_time: 5 } },
    { ...base, host: { ...base.host, budgets: [7] } },
  ];
  for (const response of refused) {
    const message = t.throws(() => generic.responseSerialize(response))?.message;
    t.is(t.throws(() => encoding.responseSerialize(response))?.message, message, JSON.stringify(response));
  }
  t.throws(() => encoding.responseSerialize([base]));
});
