// The checks' hot path encodes each cached verdict once. A CompatibilityResult is the same
// bytes for every answer about the same pair of descriptors except three fields (revision,
// source, target): the rest is encoded with protobufjs the first time and kept with the
// cached verdict, and each answer appends the three fields. Protobuf parsers accept fields in
// any order, so the result is a valid message for every client (the tests decode it with
// grpc-js, buf curl and Python's grpcio).

import type * as grpc from '@grpc/grpc-js';
import { protoType } from '../../proto/load.ts';
import type { CachedVerdict } from '../core/registry.ts';
import { verdictMemo } from './convert.ts';
import { varintLength, writeVarint } from '../../proto/varint.ts';
import { WireWriter } from './wire-writer.ts';

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

const CompatibilityResult = () => protoType('devcompat.v1.CompatibilityResult');
const CheckItemResult = () => protoType('devcompat.v1.CheckItemResult');

/** The revision-independent part of a CompatibilityResult, encoded once per cached verdict. */
function bodyBytes(cached: CachedVerdict): Buffer {
  const memo = verdictMemo(cached);
  if (!memo.bytes) {
    const type = CompatibilityResult();
    memo.bytes = Buffer.from(type.encode(type.fromObject(memo.body)).finish());
  }
  return memo.bytes;
}

/** The writer of encodeResult, foundTargetResponse and checkResponse (one message at a time). */
const writer = new WireWriter();

/** The cached body plus revision (4), source (6) and target (7), written after what `writer` holds. */
function writeResult(cached: CachedVerdict, revision: number, source: string, target: string): WireWriter {
  return writer.raw(bodyBytes(cached)).integer(4, revision).string(6, source).string(7, target);
}

/** A CompatibilityResult: the cached body plus revision (4), source (6) and target (7). */
export function encodeResult(cached: CachedVerdict, revision: number, source: string, target: string): Buffer {
  writer.reset();
  return writeResult(cached, revision, source, target).take();
}

/** One FindTargets target as FoundTarget's fields hold it (the verdict as its cached body). */
export interface FoundTargetFields {
  readonly name: string;
  readonly rank: number;
  readonly cached: CachedVerdict;
  readonly revision: number;
  readonly source: string;
  readonly capacity: { readonly total: number; readonly available: number } | undefined;
  readonly exact: boolean;
  /** HostState's number (registry.proto). */
  readonly hostState: number;
  readonly claimed: number;
}

/**
 * FindTargetsResponse { target = 1: FoundTarget { name 1, rank 2, result 3, capacity 4, exact 5,
 * host_state 6, claimed 7 } }, the result being encodeResult's bytes: a search streams up to
 * its limit of targets whose verdicts repeat (a fleet has few distinct descriptors), and
 * building each one's message object for protobufjs cost more than finding it.
 */
export function foundTargetResponse(t: FoundTargetFields): PreEncoded {
  writer.reset();
  const target = writer.begin(1);
  writer.string(1, t.name).integer(2, t.rank);
  const result = writer.begin(3);
  writeResult(t.cached, t.revision, t.source, t.name).end(result);
  if (t.capacity) {
    const capacity = writer.begin(4);
    writer.integer(1, t.capacity.total).integer(2, t.capacity.available).end(capacity);
  }
  return new PreEncoded(writer.bool(5, t.exact).integer(6, t.hostState).integer(7, t.claimed).end(target).take());
}

/** CheckCompatibilityResponse { result = 1 }. */
export function checkResponse(result: Buffer): PreEncoded {
  return new PreEncoded(writer.reset().bytes(1, result).take());
}

/**
 * One streamed check's outcome: a verdict (its cached body and the three per-answer fields,
 * written straight into the response), a result already encoded, or an error (google.rpc.Status).
 */
export type ItemOutcome =
  | { readonly id: string; readonly cached: CachedVerdict; readonly revision: number; readonly source: string; readonly target: string }
  | { readonly id: string; readonly result: Buffer }
  | { readonly id: string; readonly error: object };

/** Bytes of a length-delimited field (tag, length, payload) holding `length` payload bytes. */
const delimited = (length: number) => 1 + varintLength(length) + length;

/**
 * CheckCompatibilityStreamResponse { repeated CheckItemResult results = 1 }, written into one
 * buffer sized in a first pass (a streamed check allocates no buffer of its own). Each item's
 * result is the bytes encodeResult writes, item after item.
 */
export function streamResponse(items: readonly ItemOutcome[]): PreEncoded {
  const n = items.length;
  // Per item: [id bytes, source bytes, target bytes, result bytes, item bytes] (first pass).
  const sizes = new Array<number>(n * 5);
  // Per item: its cached body, or its whole encoded error item.
  const encoded: (Buffer | undefined)[] = new Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const item = items[i];
    const idBytes = Buffer.byteLength(item.id);
    let sourceBytes = 0;
    let targetBytes = 0;
    let resultBytes: number;
    if ('cached' in item) {
      sourceBytes = Buffer.byteLength(item.source);
      targetBytes = Buffer.byteLength(item.target);
      const body = bodyBytes(item.cached);
      encoded[i] = body;
      resultBytes =
        body.length +
        (item.revision === 0 ? 0 : 1 + varintLength(item.revision)) +
        (sourceBytes === 0 ? 0 : delimited(sourceBytes)) +
        (targetBytes === 0 ? 0 : delimited(targetBytes));
    } else if ('result' in item) resultBytes = item.result.length;
    else {
      const error = Buffer.from(CheckItemResult().encode(CheckItemResult().fromObject(item)).finish());
      encoded[i] = error;
      sizes[i * 5 + 4] = error.length;
      total += delimited(error.length);
      continue;
    }
    const itemBytes = (idBytes === 0 ? 0 : delimited(idBytes)) + delimited(resultBytes);
    sizes[i * 5] = idBytes;
    sizes[i * 5 + 1] = sourceBytes;
    sizes[i * 5 + 2] = targetBytes;
    sizes[i * 5 + 3] = resultBytes;
    sizes[i * 5 + 4] = itemBytes;
    total += delimited(itemBytes);
  }
  const buf = Buffer.allocUnsafe(total);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const item = items[i];
    buf[pos++] = (1 << 3) | WIRE_LEN;
    pos = writeVarint(buf, pos, sizes[i * 5 + 4]);
    if (!('cached' in item) && !('result' in item)) {
      pos += encoded[i]!.copy(buf, pos);
      continue;
    }
    const idBytes = sizes[i * 5];
    if (idBytes !== 0) {
      buf[pos++] = (1 << 3) | WIRE_LEN;
      pos = writeVarint(buf, pos, idBytes);
      pos += buf.write(item.id, pos, idBytes, 'utf8');
    }
    buf[pos++] = (2 << 3) | WIRE_LEN;
    pos = writeVarint(buf, pos, sizes[i * 5 + 3]);
    if ('cached' in item) {
      pos += encoded[i]!.copy(buf, pos);
      if (item.revision !== 0) {
        buf[pos++] = (4 << 3) | WIRE_VARINT;
        pos = writeVarint(buf, pos, item.revision);
      }
      const sourceBytes = sizes[i * 5 + 1];
      if (sourceBytes !== 0) {
        buf[pos++] = (6 << 3) | WIRE_LEN;
        pos = writeVarint(buf, pos, sourceBytes);
        pos += buf.write(item.source, pos, sourceBytes, 'utf8');
      }
      const targetBytes = sizes[i * 5 + 2];
      if (targetBytes !== 0) {
        buf[pos++] = (7 << 3) | WIRE_LEN;
        pos = writeVarint(buf, pos, targetBytes);
        pos += buf.write(item.target, pos, targetBytes, 'utf8');
      }
    } else if ('result' in item) pos += item.result.copy(buf, pos);
  }
  if (pos !== total) throw new Error(`stream response: wrote ${pos} of ${total} bytes`);
  return new PreEncoded(buf);
}
