// SyncHost's memoizing deserializer (server/grpc/sync-host-decoding.ts) answers exactly as the
// strict generic one it stands in front of: the same object for every request, the same
// refusal for every malformed one (truncated, invalid UTF-8, a bad wire type), whichever
// descriptors the memo already holds. Equal descriptor bytes decode to one shared, frozen
// object, and the memo stays within its bounds.

import test from 'ava';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import type * as grpc from '@grpc/grpc-js';
import { loadServices, protoRoot } from '../proto/load.ts';
import { RefusedRequest, strictServices } from '../server/grpc/strict-decoding.ts';
import { LabelsBytesMemo, memoizingSyncHost } from '../server/grpc/sync-host-decoding.ts';
import { validateDescriptorMemoized } from '../server/core/descriptor-memo.ts';
import { validateLabels } from '../server/core/resources.ts';
import { Violations } from '../server/core/errors.ts';

const requestType = protoRoot().lookupType('devcompat.v1.SyncHostRequest');
const strict = strictServices(loadServices()).RegistryService.service.SyncHost as grpc.MethodDefinition<unknown, unknown>;

function encode(request: object): Buffer {
  return Buffer.from(requestType.encode(requestType.fromObject(request)).finish());
}

const text = fc.string({ maxLength: 8 });
const descriptorArb = fc.record(
  {
    vendor: fc.constantFrom('10de', '8086', '15b3'),
    device_api: fc.constantFrom('vfio-pci', 'mdev'),
    type: text,
    compatible_types: fc.array(text, { maxLength: 3 }),
    software_version: fc.constantFrom('1.0.0', '17.3.0', ''),
    attributes: fc.dictionary(
      fc.constantFrom('fw', 'numa', 'caps'),
      fc.oneof(
        fc.record({ int_value: fc.integer().map(String) }),
        fc.record({ string_value: text }),
        fc.record({ bool_value: fc.boolean() }),
        fc.record({ set_value: fc.record({ values: fc.array(text, { maxLength: 3 }) }) }),
      ),
    ),
    rules: fc.dictionary(fc.constantFrom('fw', 'software_version'), fc.record({ op: fc.constantFrom('COMPARE_OP_EQUAL', 'COMPARE_OP_SUBSET'), warn_only: fc.boolean() })),
  },
  { requiredKeys: ['vendor'] },
);
const requestArb = fc.record(
  {
    name: text.map((s) => `hosts/${s}`),
    labels: fc.dictionary(text, text, { maxKeys: 3 }),
    devices: fc.array(
      fc.record(
        {
          device_id: text,
          descriptor: descriptorArb,
          capacity: fc.record({ total: fc.nat(), available: fc.nat() }, { requiredKeys: [] }),
          labels: fc.dictionary(text, text, { maxKeys: 2 }),
        },
        { requiredKeys: [] },
      ),
      { minLength: 1, maxLength: 6 },
    ),
    // The last two take the generic path (a negative int64, one beyond 2^53), as do budgets.
    expected_revision: fc.oneof(
      { weight: 8, arbitrary: fc.nat().map(String) },
      { weight: 1, arbitrary: fc.constant('-1') },
      { weight: 1, arbitrary: fc.constant('9007199254740993') },
    ),
    budgets: fc.array(fc.record({ budget_id: text, total: fc.nat().map(String) }), { maxLength: 1 }),
  },
  { requiredKeys: ['devices'] },
);

/** Every way the bytes can go wrong that the strict decoder refuses, and some it accepts. */
function damaged(bytes: Buffer, position: number, byte: number): Buffer[] {
  const at = bytes.length === 0 ? 0 : position % bytes.length;
  const flipped = Buffer.from(bytes);
  if (flipped.length > 0) flipped[at] = byte;
  return [bytes.subarray(0, at), flipped, Buffer.concat([bytes, Buffer.from([byte])])];
}

test('the memoizing deserializer decodes every request, damaged or not, as the strict one does', (t) => {
  const memoized = memoizingSyncHost(strict, { maxEntries: 16, maxBytes: 4096 });
  let compared = 0;
  let refused = 0;
  t.notThrows(() =>
    fc.assert(
    fc.property(requestArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (request, position, byte) => {
      const bytes = encode(request);
      for (const input of [bytes, ...damaged(bytes, position, byte)]) {
        const expected = strict.requestDeserialize(input);
        // Twice: once possibly filling the memo, once answered from it.
        if (!isDeepStrictEqual(memoized.requestDeserialize(input), expected)) return false;
        if (!isDeepStrictEqual(memoized.requestDeserialize(input), expected)) return false;
        compared++;
        if (expected instanceof RefusedRequest) refused++;
      }
      return true;
    }),
      { numRuns: 500, seed: 7 },
    ),
  );
  t.true(memoized.memo.hits > 0, 'the memo answered some descriptors');
  t.true(memoized.decoded.fast > 300, `the fast path answered ${memoized.decoded.fast} times`);
  t.true(refused > 50 && refused < compared, `both outcomes were exercised (${refused} refused of ${compared})`);
});

test('invalid UTF-8 in a descriptor is refused naming the field even when a valid twin is memoized', (t) => {
  const memoized = memoizingSyncHost(strict);
  const good = { name: 'hosts/a', devices: [{ device_id: 'd0', descriptor: { vendor: 'QQQQ', type: 't' } }] };
  const first = memoized.requestDeserialize(encode(good)) as { devices: { descriptor: object }[] };
  t.false(first instanceof RefusedRequest);
  const bytes = encode(good);
  const at = bytes.indexOf(Buffer.from('QQQQ'));
  Buffer.from([0xff, 0xfe, 0xfd, 0xfc]).copy(bytes, at);
  const answer = memoized.requestDeserialize(bytes);
  t.true(answer instanceof RefusedRequest);
  t.deepEqual((answer as RefusedRequest).violation, { field: 'devices[0].descriptor.vendor', description: 'is not valid UTF-8' });
  // A truncated request whose descriptors are all memoized is still refused.
  const truncated = encode(good).subarray(0, encode(good).length - 2);
  t.true(memoized.requestDeserialize(truncated) instanceof RefusedRequest);
});

test('equal descriptor bytes decode to one frozen object, validated once by identity', (t) => {
  const memoized = memoizingSyncHost(strict);
  const descriptor = { vendor: '10de', device_api: 'vfio-pci', type: 'nvidia-525', software_version: '17.3.0' };
  const request = (host: string) =>
    encode({ name: `hosts/${host}`, devices: [0, 1, 2].map((i) => ({ device_id: `d${i}`, descriptor })) });
  type Decoded = { devices: { descriptor: Record<string, unknown> }[] };
  const a = memoized.requestDeserialize(request('a')) as Decoded;
  const b = memoized.requestDeserialize(request('b')) as Decoded;
  const shared = a.devices[0].descriptor;
  t.true([...a.devices, ...b.devices].every((device) => device.descriptor === shared));
  t.true(Object.isFrozen(shared));
  t.throws(() => {
    'use strict';
    shared.vendor = 'changed';
  });
  t.is(memoized.memo.misses, 1);
  t.is(memoized.memo.hits, 5);
  t.is(validateDescriptorMemoized(shared as never), validateDescriptorMemoized(b.devices[2].descriptor as never));
});

test('the memo stays within its entry and byte bounds, keeping the most recently used', (t) => {
  const memoized = memoizingSyncHost(strict, { maxEntries: 4, maxBytes: 1_000_000 });
  const sync = (types: string[]) =>
    memoized.requestDeserialize(encode({ name: 'hosts/a', devices: types.map((type, i) => ({ device_id: `d${i}`, descriptor: { vendor: 'v', type } })) }));
  sync(['t0', 't1', 't2', 't3']);
  sync(['t0']); // t0 is now the most recent
  sync(['t4', 't5', 't6']);
  t.is(memoized.memo.size, 4);
  const misses = memoized.memo.misses;
  sync(['t0']);
  t.is(memoized.memo.misses, misses, 't0 was kept');
  sync(['t1']);
  t.is(memoized.memo.misses, misses + 1, 't1 was evicted');

  const small = memoizingSyncHost(strict, { maxEntries: 1000, maxBytes: 40 });
  const long = 'x'.repeat(30);
  small.requestDeserialize(encode({ name: 'hosts/a', devices: ['a', 'b', 'c'].map((s, i) => ({ device_id: `d${i}`, descriptor: { vendor: long + s } })) }));
  t.is(small.memo.size, 1, 'at most 40 bytes of keys are held');
});

test('a descriptor repeating the one before it is a hit that keeps the memo in recency order, and an evicted one is decoded again', (t) => {
  const memoized = memoizingSyncHost(strict, { maxEntries: 2, maxBytes: 1_000_000 });
  type Decoded = { devices: { descriptor: Record<string, unknown> }[] };
  const sync = (types: string[]) =>
    memoized.requestDeserialize(
      encode({ name: 'hosts/a', devices: types.map((type, i) => ({ device_id: `d${i}`, descriptor: { vendor: 'v', type } })) }),
    ) as Decoded;
  const first = sync(['t0', 't1', 't1', 't1']);
  t.is(first.devices[1].descriptor, first.devices[3].descriptor);
  t.deepEqual({ misses: memoized.memo.misses, hits: memoized.memo.hits }, { misses: 2, hits: 2 });
  // t1 repeated stays the most recent: t2 evicts t0, not t1.
  sync(['t2']);
  t.is(memoized.memo.size, 2);
  const misses = memoized.memo.misses;
  t.is(sync(['t1', 't1']).devices[1].descriptor, first.devices[1].descriptor, 't1 was kept, the same object');
  t.is(memoized.memo.misses, misses);
  sync(['t0']);
  t.is(memoized.memo.misses, misses + 1, 't0 was evicted');
  // t0 evicted t2 (t1 was used after it); t2 repeated twice is one miss, then a hit.
  const again = sync(['t2', 't2']);
  t.is(memoized.memo.misses, misses + 2);
  t.is(again.devices[0].descriptor, again.devices[1].descriptor);
  t.deepEqual(again.devices[0].descriptor, { vendor: 'v', type: 't2', device_api: '', compatible_types: [], software_version: '', attributes: {}, rules: {} });
});

test('a label map read again right after is found without a key; one evicted meanwhile is not found', (t) => {
  const memo = new LabelsBytesMemo({ maxEntries: 1, maxBytes: 1024 });
  const bytes = Buffer.from('aabbaa'); // the "encoded" label runs a (0-2), b (2-4), a (4-6)
  t.is(memo.get(bytes, 0, 2), undefined);
  const a = memo.remember(bytes, 0, 2, { k: 'a' });
  t.is(memo.get(bytes, 4, 6), a, 'the same bytes elsewhere');
  t.is(memo.get(bytes, 4, 6), a);
  const b = memo.remember(bytes, 2, 4, { k: 'b' });
  t.is(memo.size, 1);
  t.is(memo.get(bytes, 0, 2), undefined, 'a was evicted by b');
  t.is(memo.get(bytes, 2, 4), b);
  t.is(memo.get(bytes, 2, 4), b);
  const tiny = new LabelsBytesMemo({ maxEntries: 8, maxBytes: 1 });
  tiny.remember(bytes, 0, 2, { k: 'a' });
  t.is(tiny.get(bytes, 0, 2), undefined, 'a key beyond the byte bound is never held');
});

test("equal device label bytes decode to one frozen map, validated once by identity; a bad one is refused each time naming its field", (t) => {
  const memoized = memoizingSyncHost(strict);
  const descriptor = { vendor: '15b3', type: 'mlx5' };
  const request = (host: string, labels: Record<string, string>) =>
    encode({ name: `hosts/${host}`, devices: [0, 1, 2].map((i) => ({ device_id: `d${i}`, descriptor, labels })) });
  type Decoded = { devices: { labels: Record<string, string> }[] };
  const a = memoized.requestDeserialize(request('a', { pf: '0000:5e:00.0', family: 'mlx5' })) as Decoded;
  const b = memoized.requestDeserialize(request('b', { pf: '0000:5e:00.0', family: 'mlx5' })) as Decoded;
  const shared = a.devices[0].labels;
  t.deepEqual(shared, { pf: '0000:5e:00.0', family: 'mlx5' });
  t.true([...a.devices, ...b.devices].every((device) => device.labels === shared));
  t.true(Object.isFrozen(shared));
  t.is(memoized.labelsMemo.size, 1);
  const other = memoized.requestDeserialize(request('c', { pf: '0000:5e:00.1', family: 'mlx5' })) as Decoded;
  t.not(other.devices[0].labels, shared);
  t.deepEqual(other.devices[0].labels, { pf: '0000:5e:00.1', family: 'mlx5' });

  const violations = new Violations();
  const valid = validateLabels(shared, 'devices[0].labels', violations);
  t.deepEqual(Object.keys(valid), ['family', 'pf'], 'sorted by key');
  t.is(validateLabels(b.devices[2].labels, 'devices[2].labels', violations), valid, 'validated once');
  t.true(violations.empty);

  const bad = (memoized.requestDeserialize(request('d', { 'Bad Key': 'x' })) as Decoded).devices;
  t.is(bad[0].labels, bad[1].labels);
  for (const [index, device] of bad.entries()) {
    const found = new Violations();
    validateLabels(device.labels, `devices[${index}].labels`, found);
    t.deepEqual(found.list.map((v) => v.field), [`devices[${index}].labels["Bad Key"]`]);
  }
});

test("a device's labels split by its other fields (one map, as protobuf merges it) decode as the strict decoder decodes them, the first time and from the memo", (t) => {
  const memoized = memoizingSyncHost(strict, { maxEntries: 16, maxBytes: 4096 });
  const deviceType = requestType.fields.devices.resolvedType as protobuf.Type;
  const part = (device: object) => Buffer.from(deviceType.encode(deviceType.fromObject(device)).finish());
  // Labels, then the device id and descriptor, then more labels (one of them again): valid
  // protobuf, the entries of one map; no encoder writes it, so the generic path may decide.
  const device = Buffer.concat([
    part({ labels: { a: '1', b: '2' } }),
    part({ device_id: 'gpu0', descriptor: { vendor: '10de', device_api: 'vfio-pci', type: 'nvidia-525' } }),
    part({ labels: { c: '3', a: '4' } }),
  ]);
  const writer = protobuf.Writer.create();
  writer.uint32((requestType.fields.name.id << 3) | 2).string('hosts/h1');
  writer.uint32((requestType.fields.devices.id << 3) | 2).bytes(device);
  const bytes = Buffer.from(writer.finish());
  const expected = strict.requestDeserialize(bytes) as { devices: { labels: Record<string, string> }[] };
  t.deepEqual(expected.devices[0].labels, { a: '4', b: '2', c: '3' });
  // The first run of labels alone, remembered first: the split device must not take its map.
  memoized.requestDeserialize(encode({ name: 'hosts/h0', devices: [{ device_id: 'gpu0', labels: { a: '1', b: '2' } }] }));
  for (let i = 0; i < 2; i++) t.deepEqual(memoized.requestDeserialize(bytes), expected);
});
