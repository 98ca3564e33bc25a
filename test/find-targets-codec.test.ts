// The client's hand-written FindTargets decoder (client/find-targets-codec.ts) must give exactly
// what the shared loader's deserializer gives (same fields, same values, same key order): for
// the server's pre-encoded targets of every vector, with and without capacity, in every host
// state, every time a verdict repeats (copies, then the compiled copy); for fields in another
// order, repeated fields, unknown fields and enum values, and the summary. Each decoded target
// is a fresh object. A malformed message is refused, or read leniently, as the loader does.

import test from 'ava';
import protobuf from 'protobufjs';
import { cachedFor, compatVectors } from './helpers/cached-verdicts.ts';
import { decodeFindTargetsResponse } from '../client/find-targets-codec.ts';
import { memoStats } from '../client/result-memo.ts';
import { loadPackageDefinition } from '../proto/load.ts';
import { foundTargetResponse, type FoundTargetFields } from '../server/grpc/verdict-encoding.ts';

const method = (loadPackageDefinition()['devcompat.v1.CompatibilityService'] as Record<string, any>).FindTargets;

const same = (t: import('ava').ExecutionContext, bytes: Buffer) => {
  const expected = method.responseDeserialize(bytes);
  const decoded = decodeFindTargetsResponse(bytes);
  t.deepEqual(decoded, expected);
  t.is(JSON.stringify(decoded), JSON.stringify(expected));
  return decoded;
};

test('every vector as a found target decodes to the loader deserializer object, each time it repeats', (t) => {
  const hostStates = [0, 1, 2, 3];
  const hits = memoStats.hits;
  for (const [i, vector] of compatVectors.vectors.entries()) {
    const cached = cachedFor(vector);
    for (let round = 0; round < 6; round++) {
      const fields: FoundTargetFields = {
        name: `hosts/h${round}/devices/${vector.id}-é`,
        rank: round === 0 ? 0 : i + round,
        cached,
        revision: round === 5 ? 2 ** 40 : 10 + round,
        source: round === 1 ? '' : 'hosts/src/devices/0000:3b:00.2',
        capacity: round % 2 ? { total: 16 + round, available: round === 3 ? 0 : round } : undefined,
        exact: round % 3 === 0,
        hostState: hostStates[round % hostStates.length],
        claimed: round === 4 ? 300 : 0,
      };
      same(t, foundTargetResponse(fields).bytes);
    }
  }
  // The verdicts came from the memo, not from protobufjs: five repeats of each.
  t.true(memoStats.hits - hits >= compatVectors.vectors.length * 5);
});

test('each decoded target is a fresh object: changing one leaves the next alone', (t) => {
  const cached = cachedFor(compatVectors.vectors[0]);
  const fields: FoundTargetFields = {
    name: 'hosts/a/devices/b',
    rank: 1,
    cached,
    revision: 3,
    source: 'hosts/s/devices/d',
    capacity: { total: 4, available: 2 },
    exact: false,
    hostState: 1,
    claimed: 0,
  };
  const bytes = foundTargetResponse(fields).bytes;
  for (let round = 0; round < 8; round++) {
    const decoded = same(t, bytes) as any;
    decoded.target.result.checks.push({ changed: true });
    decoded.target.result.required_settings.changed = 'yes';
    decoded.target.capacity.total = 99;
  }
});

test('unusual messages decode as the loader decodes them', (t) => {
  const cached = cachedFor(compatVectors.vectors[1]);
  const target = foundTargetResponse({
    name: 'hosts/a/devices/b',
    rank: 2,
    cached,
    revision: 5,
    source: 'hosts/s/devices/d',
    capacity: { total: 8, available: 8 },
    exact: true,
    hostState: 2,
    claimed: 1,
  }).bytes;
  // The FoundTarget's own bytes (after its tag and length).
  const reader = protobuf.Reader.create(target);
  reader.uint32();
  const inner = Buffer.from(reader.bytes());
  const wrap = (found: Uint8Array) => Buffer.from(protobuf.Writer.create().uint32((1 << 3) | 2).bytes(found).finish());
  const fields = (build: (w: protobuf.Writer) => protobuf.Writer) => build(protobuf.Writer.create()).finish();
  const cases: [string, Buffer][] = [
    ['an empty target', wrap(new Uint8Array())],
    ['fields in reverse order', wrap(fields((w) => w.uint32((7 << 3) | 0).uint32(4).uint32((6 << 3) | 0).uint32(3).uint32((2 << 3) | 0).uint32(9).uint32((1 << 3) | 2).string('x')))],
    ['a repeated name (the last wins)', wrap(Buffer.concat([inner, fields((w) => w.uint32((1 << 3) | 2).string('second'))]))],
    ['a repeated result (merged)', wrap(Buffer.concat([inner, fields((w) => w.uint32((3 << 3) | 2).fork().uint32((6 << 3) | 2).string('other').ldelim())]))],
    ['a repeated capacity (merged)', wrap(Buffer.concat([inner, fields((w) => w.uint32((4 << 3) | 2).fork().uint32((2 << 3) | 0).uint32(1).ldelim())]))],
    ['an unknown field', wrap(Buffer.concat([inner, fields((w) => w.uint32((42 << 3) | 2).string('?'))]))],
    ['an unknown host state', wrap(fields((w) => w.uint32((1 << 3) | 2).string('x').uint32((6 << 3) | 0).uint32(77)))],
    ['exact as 2', wrap(fields((w) => w.uint32((5 << 3) | 0).uint32(2)))],
    ['a rank past 32 bits', wrap(fields((w) => w.uint32((2 << 3) | 0).uint64(2 ** 33 + 5)))],
    ['a capacity with an unknown field', wrap(fields((w) => w.uint32((4 << 3) | 2).fork().uint32((1 << 3) | 0).uint32(3).uint32((3 << 3) | 0).uint32(1).ldelim()))],
    ['a target then a summary', Buffer.concat([target, fields((w) => w.uint32((2 << 3) | 2).fork().uint32((1 << 3) | 0).uint32(4).ldelim())])],
    ['a summary', Buffer.from(fields((w) => w.uint32((2 << 3) | 2).fork().uint32((1 << 3) | 0).uint64(12).uint32((2 << 3) | 0).uint32(1006).ldelim()))],
    ['an empty message', Buffer.alloc(0)],
    ['a name that is not UTF-8', wrap(Buffer.from([(1 << 3) | 2, 3, 0x61, 0xff, 0xc3]))],
    ['host state 0 and exact 0 written out', wrap(fields((w) => w.uint32((5 << 3) | 0).uint32(0).uint32((6 << 3) | 0).uint32(0)))],
    ['an empty result', wrap(fields((w) => w.uint32((3 << 3) | 2).bytes(new Uint8Array())))],
    ['an empty capacity', wrap(fields((w) => w.uint32((4 << 3) | 2).bytes(new Uint8Array())))],
    ['a rank of 2^32 - 1', wrap(fields((w) => w.uint32((2 << 3) | 0).uint32(2 ** 32 - 1)))],
  ];
  for (const [name, bytes] of cases) {
    const expected = method.responseDeserialize(bytes);
    t.deepEqual(decodeFindTargetsResponse(bytes), expected, name);
    t.is(JSON.stringify(decodeFindTargetsResponse(bytes)), JSON.stringify(expected), name);
  }
});

test('a malformed response is refused, or read leniently, as the loader does', (t) => {
  const cached = cachedFor(compatVectors.vectors[0]);
  const bytes = foundTargetResponse({ name: 'a', rank: 1, cached, revision: 1, source: 's', capacity: undefined, exact: false, hostState: 1, claimed: 0 }).bytes;
  for (const cut of [1, 3, 10]) {
    const truncated = bytes.subarray(0, bytes.length - cut);
    t.throws(() => method.responseDeserialize(truncated));
    t.throws(() => decodeFindTargetsResponse(truncated));
  }
  // The target's own length fits the message, but a field inside it runs past the target's end:
  // the hand decoder's bounds, not only the outer one's. protobufjs refuses some and reads
  // others leniently; the decoder does as it does.
  for (const inner of [
    Buffer.from([(1 << 3) | 2, 5, 0x61]), // the name
    Buffer.from([(3 << 3) | 2, 9, (4 << 3) | 0, 1]), // the result
    Buffer.from([(3 << 3) | 2, 2, (6 << 3) | 2, 7]), // the result's source
    Buffer.from([(2 << 3) | 0, 0x80]), // the rank's varint
  ]) {
    const malformed = Buffer.concat([Buffer.from([(1 << 3) | 2, inner.length]), inner]);
    let expected: unknown;
    try {
      expected = method.responseDeserialize(malformed);
    } catch {
      t.throws(() => decodeFindTargetsResponse(malformed), undefined, inner.toString('hex'));
      continue;
    }
    t.deepEqual(decodeFindTargetsResponse(malformed), expected, inner.toString('hex'));
  }
});
