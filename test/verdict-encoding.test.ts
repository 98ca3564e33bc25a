// The pre-encoded CompatibilityResult (cached body + revision, source, target) must decode to
// exactly the message that encoding the whole result object gives, for every vector.

import test from 'ava';
import { cachedFor, compatVectors } from './helpers/cached-verdicts.ts';
import { protoRoot } from '../proto/load.ts';
import { resultMessage } from '../server/grpc/convert.ts';
import { checkResponse, encodeResult, streamResponse } from '../server/grpc/verdict-encoding.ts';

const fixture = compatVectors;
const root = protoRoot();
const Result = root.lookupType('devcompat.v1.CompatibilityResult');
const Response = root.lookupType('devcompat.v1.CheckCompatibilityResponse');
const StreamResponse = root.lookupType('devcompat.v1.CheckCompatibilityStreamResponse');
const asObject = (type: typeof Result, bytes: Uint8Array) => type.toObject(type.decode(bytes), { longs: String, enums: String, defaults: true });

test('pre-encoded results decode to the fully encoded message, for every vector', (t) => {
  t.true(fixture.vectors.length > 0);
  for (const vector of fixture.vectors) {
    const cached = cachedFor(vector);
    for (const [revision, source, target] of [
      [42, 'hosts/a/devices/0000:3b:00.2', 'hosts/b/devices/0000:3b:00.2'],
      [0, '', ''],
      [2 ** 40 + 3, 'hosts/ü/devices/x', ''],
    ] as const) {
      const expected = Result.encode(Result.fromObject(resultMessage(cached, revision, source, target))).finish();
      t.deepEqual(asObject(Result, encodeResult(cached, revision, source, target)), asObject(Result, expected), vector.id);
    }
  }
});

test('the unary and stream envelopes decode to their messages', (t) => {
  const cached = cachedFor(fixture.vectors[0]);
  const result = encodeResult(cached, 7, 'hosts/a/devices/x', '');
  const unary = asObject(Response, checkResponse(result).bytes);
  t.is(unary.result.revision, '7');
  t.is(unary.result.source, 'hosts/a/devices/x');
  const stream = asObject(
    StreamResponse,
    streamResponse([
      { id: 'first', result },
      { id: '', result },
      { id: 'broken', error: { code: 5, message: 'hosts/x/devices/y not found', details: [] } },
    ]).bytes,
  );
  t.deepEqual(stream.results.map((item: { id: string }) => item.id), ['first', '', 'broken']);
  t.is(stream.results[0].result.verdict, unary.result.verdict);
  t.truthy(stream.results[1].result);
  t.is(stream.results[2].error.code, 5);
  t.is(stream.results[2].result, undefined);
});

test('a stream response written from cached verdicts is byte for byte the one built from encoded results', (t) => {
  const error = { code: 5, message: 'hosts/x/devices/y not found', details: [] };
  const answers = fixture.vectors.flatMap((vector, index) => {
    const cached = cachedFor(vector);
    return [
      { id: `v${index}`, cached, revision: 42 + index, source: 'hosts/a/devices/0000:3b:00.2', target: `hosts/ü/devices/${index}` },
      { id: '', cached, revision: 0, source: '', target: '' },
      { id: 'é'.repeat(200), cached, revision: 2 ** 50 + index, source: '', target: `hosts/${'h'.repeat(300)}/devices/z` },
    ];
  });
  const written = streamResponse([...answers, { id: 'broken', error }]).bytes;
  const built = streamResponse([
    ...answers.map((a) => ({ id: a.id, result: encodeResult(a.cached, a.revision, a.source, a.target) })),
    { id: 'broken', error },
  ]).bytes;
  t.true(written.length > 1000);
  t.deepEqual(written, built);
  // And it decodes to what protobufjs encodes from the whole messages.
  const whole = StreamResponse.encode(
    StreamResponse.fromObject({
      results: [...answers.map((a) => ({ id: a.id, result: resultMessage(a.cached, a.revision, a.source, a.target) })), { id: 'broken', error }],
    }),
  ).finish();
  t.deepEqual(asObject(StreamResponse, written), asObject(StreamResponse, whole));
});
