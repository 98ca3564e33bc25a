// The client's hand-written CheckCompatibilityStream codec (client/check-stream-codec.ts) must
// give exactly what the shared loader's (de)serializer gives: the same request bytes, and the
// same response objects (same fields, same values, same key order), for the server's
// pre-encoded results, for fields in any order, for error items, and every time a body repeats
// (copies, then the compiled copy). Each decoded result is a fresh object.

import test from 'ava';
import { cachedFor, compatVectors } from './helpers/cached-verdicts.ts';
import protobuf from 'protobufjs';
import { decodeResponse, encodeCheck, encodeNamedCheck, encodeRequest, namedCheck } from '../client/check-stream-codec.ts';
import { hashOf, memoStats } from '../client/result-memo.ts';
import { loadPackageDefinition, protoType } from '../proto/load.ts';
import { encodeResult, streamResponse } from '../server/grpc/verdict-encoding.ts';
import { resultMessage } from '../server/grpc/convert.ts';
import { toRequest } from '../client/messages.ts';

const fixture = compatVectors;
const method = (loadPackageDefinition()['devcompat.v1.CompatibilityService'] as Record<string, any>).CheckCompatibilityStream;

test('requests by name encode to the loader serializer bytes', (t) => {
  const cases = [
    ['c0', 'hosts/a/devices/0000:3b:00.2', 'hosts/b/devices/0000:3b:00.2'],
    ['', '', ''],
    ['id-ü', 'hosts/ü/devices/x', `hosts/${'h'.repeat(300)}/devices/y`],
    // Lengths whose varints take two bytes, at every level (a name of 125 bytes makes a ref of 127).
    ['c1', `hosts/${'a'.repeat(113)}/devices/x`, `hosts/${'b'.repeat(120)}/devices/€€`],
    // Surrogates: a pair, and lone ones (protobufjs writes those as three bytes each).
    ['😀', 'hosts/\uD800/devices/x', 'hosts/x/devices/\uDC00y'],
  ] as const;
  const descriptor = fixture.vectors[0].source;
  const inline = toRequest('CheckItem', { id: 'd', source: { descriptor }, target: { name: 'hosts/a/devices/b' } });
  for (const minRevision of [undefined, '0', '7', '9007199254740993', '-1']) {
    const expected = method.requestSerialize({
      checks: cases.map(([id, source, target]) => ({ id, source: { name: source }, target: { name: target } })),
      ...(minRevision === undefined ? {} : { min_revision: minRevision }),
    });
    // Each check encoded alone by protobufjs, and each written into the message from its names.
    for (const encode of [encodeNamedCheck, namedCheck]) {
      const actual = encodeRequest(
        cases.map(([id, source, target]) => encode(id, source, target)),
        minRevision,
      );
      t.deepEqual(Buffer.from(actual), Buffer.from(expected), `min_revision ${minRevision}, ${encode.name}`);
    }
    // Names and encoded checks mixed in one message.
    const mixed = encodeRequest([namedCheck(...cases[0]), encodeCheck(inline), namedCheck(...cases[3])], minRevision);
    const mixedExpected = method.requestSerialize({
      checks: [cases[0], inline, cases[3]].map((c) => (Array.isArray(c) ? { id: c[0], source: { name: c[1] }, target: { name: c[2] } } : c)),
      ...(minRevision === undefined ? {} : { min_revision: minRevision }),
    });
    t.deepEqual(Buffer.from(mixed), Buffer.from(mixedExpected), `mixed, min_revision ${minRevision}`);
  }
  t.true(namedCheck(...cases[4]) instanceof Uint8Array, 'a name with a surrogate is encoded by protobufjs');
  t.false(namedCheck(...cases[0]) instanceof Uint8Array, 'plain names are written into the message');
  t.deepEqual(Buffer.from(encodeRequest([], undefined)), Buffer.from(method.requestSerialize({ checks: [] })));
});

test('requests with an inline descriptor encode to the loader serializer bytes', (t) => {
  const descriptor = fixture.vectors[0].source;
  const check = toRequest('CheckItem', { id: 'd', source: { descriptor }, target: { name: 'hosts/a/devices/b' } });
  t.deepEqual(Buffer.from(encodeRequest([encodeCheck(check)], undefined)), Buffer.from(method.requestSerialize({ checks: [check] })));
});

test("the server's pre-encoded responses decode as the loader decodes them, every time a body repeats", (t) => {
  t.true(fixture.vectors.length > 0);
  const items = fixture.vectors.flatMap((vector, index) => {
    const cached = cachedFor(vector);
    return [
      { id: `v${index}`, result: encodeResult(cached, 42 + index, 'hosts/a/devices/0000:3b:00.2', `hosts/b/devices/${index}`) },
      { id: '', result: encodeResult(cached, 0, '', '') },
      { id: `big${index}`, result: encodeResult(cached, 2 ** 52 + index, 'hosts/ü/devices/x', '') },
    ];
  });
  items.push({ id: 'broken', error: { code: 5, message: 'hosts/x/devices/y not found', details: [] } } as never);
  const bytes = streamResponse(items).bytes;
  const expected = method.responseDeserialize(bytes);
  for (let round = 0; round < 8; round++) {
    const decoded = decodeResponse(bytes);
    t.deepEqual(decoded, expected, `round ${round}`);
    t.is(JSON.stringify(decoded), JSON.stringify(expected), `key order, round ${round}`);
    // Fresh objects: what one caller does to its result is not seen by the next decode.
    (decoded.results[0].result!.checks as unknown[]).length = 0;
    (decoded.results[0].result as { verdict: string }).verdict = 'changed';
  }
});

test('results with fields in any order, repeated or unknown decode as the loader decodes them', (t) => {
  const cached = cachedFor(fixture.vectors[1] ?? fixture.vectors[0]);
  const body = encodeResult(cached, 0, '', '');
  const writer = protobuf.Writer.create();
  // revision, then target, then the body, then source twice (the last one wins), an unknown
  // field, and revision again (the last one wins).
  const raw = Buffer.concat([
    Buffer.from(protobuf.Writer.create().uint32(4 << 3).uint64(99).uint32((7 << 3) | 2).string('hosts/t/devices/1').finish()),
    body,
    Buffer.from(protobuf.Writer.create().uint32((6 << 3) | 2).string('first').uint32((6 << 3) | 2).string('second').finish()),
    Buffer.from(protobuf.Writer.create().uint32((99 << 3) | 0).uint32(5).finish()),
    Buffer.from(protobuf.Writer.create().uint32(4 << 3).uint64(7).finish()),
  ]);
  writer.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string('odd').uint32((2 << 3) | 2).bytes(raw).ldelim();
  // An item whose revision is beyond 2^49 and one with an unknown field in the item.
  const wide = Buffer.concat([body, Buffer.from(protobuf.Writer.create().uint32(4 << 3).uint64('123456789012345678').finish())]);
  writer.uint32((1 << 3) | 2).fork().uint32((2 << 3) | 2).bytes(wide).uint32((1 << 3) | 2).string('wide').ldelim();
  writer.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string('extra').uint32((9 << 3) | 2).string('?').uint32((2 << 3) | 2).bytes(body).ldelim();
  const bytes = Buffer.from(writer.finish());
  const expected = method.responseDeserialize(bytes);
  t.is(expected.results[0].result.revision, '7');
  t.is(expected.results[0].result.source, 'second');
  for (let round = 0; round < 6; round++) {
    const decoded = decodeResponse(bytes);
    t.deepEqual(decoded, expected);
    t.is(JSON.stringify(decoded), JSON.stringify(expected));
  }
});

/** A response of one result whose body is a verdict and one check on attribute `name` (field 2: Check { attribute = 1 }). */
function resultWithCheck(name: string, id: string): Buffer {
  const body = protobuf.Writer.create().uint32(1 << 3).uint32(1).uint32((2 << 3) | 2).fork().uint32((1 << 3) | 2).string(name).ldelim().finish();
  const result = Buffer.concat([Buffer.from(body), Buffer.from(protobuf.Writer.create().uint32(4 << 3).uint64(3).finish())]);
  return Buffer.from(protobuf.Writer.create().uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string(id).uint32((2 << 3) | 2).bytes(result).ldelim().finish());
}

test('two bodies with the same hash each decode to their own result', (t) => {
  // Find two check names whose bodies hash alike (a 30-bit hash: expected within ~40,000 names).
  const seen = new Map<number, string>();
  let pair: [string, string] | undefined;
  for (let i = 0; i < 1_000_000 && !pair; i++) {
    const name = `check-${i}`;
    const body = Buffer.from(protobuf.Writer.create().uint32(1 << 3).uint32(1).uint32((2 << 3) | 2).fork().uint32((1 << 3) | 2).string(name).ldelim().finish());
    const hash = hashOf(body, 0, body.length);
    const other = seen.get(hash);
    if (other !== undefined) pair = [other, name];
    else seen.set(hash, name);
  }
  if (!pair) return t.fail('no two bodies with the same hash found');
  for (let round = 0; round < 6; round++) {
    for (const name of round % 2 ? pair : [...pair].reverse()) {
      const bytes = resultWithCheck(name, `${name}/${round}`);
      const decoded = decodeResponse(bytes);
      t.deepEqual(decoded, method.responseDeserialize(bytes));
      t.is(decoded.results[0].result!.checks[0].attribute, name);
    }
  }
});

/** A response of one result with `settings` as its required_settings (a map: keys are data). */
function resultWithSettings(settings: Record<string, unknown>, id: string): Buffer {
  const type = protoType('devcompat.v1.CompatibilityResult');
  const body = type.encode(type.fromObject({ verdict: 1, required_settings: settings, revision: 5 })).finish();
  return Buffer.from(protobuf.Writer.create().uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string(id).uint32((2 << 3) | 2).bytes(body).ldelim().finish());
}

test('map keys that are awkward in code decode as the loader decodes them, every time (a __proto__ key stays a key)', (t) => {
  const withProto: Record<string, unknown> = {};
  Object.defineProperty(withProto, '__proto__', { value: { string_value: 'p' }, enumerable: true });
  withProto.after = { int_value: 1 };
  const cases: Record<string, unknown>[] = [
    withProto,
    { 'quo"te': { int_value: 5 }, 'back\\slash': { bool_value: true }, 'line\u2028sep\u2029': { string_value: 'x' }, '0': { bool_value: false }, constructor: { string_value: 'c' } },
  ];
  for (const settings of cases) {
    const bytes = resultWithSettings(settings, 'awkward');
    const expected = method.responseDeserialize(bytes);
    const expectedSettings = expected.results[0].result.required_settings;
    for (let round = 0; round < 8; round++) {
      const decoded = decodeResponse(bytes);
      const actual = decoded.results[0].result!.required_settings as Record<string, unknown>;
      t.deepEqual(decoded, expected, `round ${round}`);
      t.is(JSON.stringify(decoded), JSON.stringify(expected), `key order, round ${round}`);
      t.deepEqual(Object.keys(actual), Object.keys(expectedSettings), `own keys, round ${round}`);
      t.is(Object.getPrototypeOf(actual), Object.prototype, `prototype, round ${round}`);
    }
  }
});

test('bodies of one shape each decode to their own values, every time (copies, then the shape compiled once)', (t) => {
  const versions = Array.from({ length: 12 }, (_, i) => `1.${i}.0`);
  for (let round = 0; round < 8; round++) {
    for (const version of round % 2 ? versions : [...versions].reverse()) {
      const bytes = resultWithSettings({ software_version: { version_value: version }, note: { string_value: `n${version}` } }, `${version}/${round}`);
      const decoded = decodeResponse(bytes);
      t.deepEqual(decoded, method.responseDeserialize(bytes));
      const settings = decoded.results[0].result!.required_settings as Record<string, { version_value?: string }>;
      t.is(settings.software_version.version_value, version);
      settings.software_version.version_value = 'changed'; // the next answer of this shape must not see it
    }
  }
});

test('the memo stays bounded: past 4,096 bodies it starts again, and answers stay right', (t) => {
  const resets = memoStats.resets;
  for (let i = 0; i < 5000; i++) {
    const bytes = resultWithCheck(`bounded-${i}`, String(i));
    if (i % 500 === 0 || i > 4090) t.deepEqual(decodeResponse(bytes), method.responseDeserialize(bytes));
    else decodeResponse(bytes);
  }
  t.true(memoStats.resets > resets);
  const again = resultWithCheck('bounded-1', 'again');
  t.deepEqual(decodeResponse(again), method.responseDeserialize(again));
});

test('a malformed response is refused as the loader refuses it', (t) => {
  const cached = cachedFor(fixture.vectors[0]);
  const bytes = streamResponse([{ id: 'x', result: encodeResult(cached, 1, 'a', 'b') }]).bytes;
  const truncated = bytes.subarray(0, bytes.length - 3);
  t.throws(() => method.responseDeserialize(truncated));
  t.throws(() => decodeResponse(truncated));
});
