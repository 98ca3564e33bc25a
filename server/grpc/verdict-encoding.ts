// The checks' hot path encodes each cached verdict once. A CompatibilityResult is the same
// bytes for every answer about the same pair of descriptors except three fields (revision,
// source, target): the rest is encoded with protobufjs the first time and kept with the
// cached verdict, and each answer appends the three fields. Protobuf parsers accept fields in
// any order, so the result is a valid message for every client (the tests decode it with
// grpc-js, buf curl and Python's grpcio).

import type * as grpc from '@grpc/grpc-js';
import { protoRoot } from '../../proto/load.ts';
import type { CachedVerdict } from '../core/registry.ts';
import { verdictMemo } from './convert.ts';

const WIRE_VARINT = 0;
const WIRE_LEN = 2;

/** A response already encoded; the patched serializer sends its bytes as they are. */
export class PreEncoded {
  constructor(readonly bytes: Buffer) {}
}

/** A method definition whose serializer passes PreEncoded responses through. */
export function acceptingPreEncoded<T extends grpc.MethodDefinition<unknown, unknown>>(method: T): T {
  const serialize = method.responseSerialize;
  return {
    ...method,
    responseSerialize: (value: unknown) => (value instanceof PreEncoded ? value.bytes : serialize(value)),
  };
}

function varint(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return bytes;
}

function lengthDelimited(field: number, payload: Buffer): Buffer[] {
  return [Buffer.from([(field << 3) | WIRE_LEN, ...varint(payload.length)]), payload];
}

function stringField(field: number, text: string): Buffer[] {
  return text === '' ? [] : lengthDelimited(field, Buffer.from(text, 'utf8'));
}

function varintField(field: number, value: number): Buffer[] {
  return value === 0 ? [] : [Buffer.from([(field << 3) | WIRE_VARINT, ...varint(value)])];
}

const CompatibilityResult = () => protoRoot().lookupType('devcompat.v1.CompatibilityResult');
const CheckItemResult = () => protoRoot().lookupType('devcompat.v1.CheckItemResult');

/** The revision-independent part of a CompatibilityResult, encoded once per cached verdict. */
function bodyBytes(cached: CachedVerdict): Buffer {
  const memo = verdictMemo(cached);
  if (!memo.bytes) {
    const type = CompatibilityResult();
    memo.bytes = Buffer.from(type.encode(type.fromObject(memo.body)).finish());
  }
  return memo.bytes;
}

/** A CompatibilityResult: the cached body plus revision (4), source (6) and target (7). */
export function encodeResult(cached: CachedVerdict, revision: number, source: string, target: string): Buffer {
  return Buffer.concat([bodyBytes(cached), ...varintField(4, revision), ...stringField(6, source), ...stringField(7, target)]);
}

/** CheckCompatibilityResponse { result = 1 }. */
export function checkResponse(result: Buffer): PreEncoded {
  return new PreEncoded(Buffer.concat(lengthDelimited(1, result)));
}

export type ItemOutcome = { readonly id: string; readonly result: Buffer } | { readonly id: string; readonly error: object };

/** CheckCompatibilityStreamResponse { repeated CheckItemResult results = 1 }. */
export function streamResponse(items: readonly ItemOutcome[]): PreEncoded {
  const parts: Buffer[] = [];
  for (const item of items) {
    const encoded =
      'result' in item
        ? Buffer.concat([...stringField(1, item.id), ...lengthDelimited(2, item.result)])
        : Buffer.from(CheckItemResult().encode(CheckItemResult().fromObject(item)).finish());
    parts.push(...lengthDelimited(1, encoded));
  }
  return new PreEncoded(Buffer.concat(parts));
}
