// The wire format of CheckCompatibilityStream on the client, written by hand for the hot path
// (a stream carries tens of thousands of checks a second, and the client, not the server, was
// the busier process). Produces exactly what the shared loader's (de)serializer produces.
//
// Requests: a message is written into one buffer sized first. A check whose refs are names is
// written there from its strings (no bytes of its own); any other check goes through the strict
// reader and protobufjs once, when it is submitted (a resend after a reconnect reuses the bytes).
//
// Responses: each item's CompatibilityResult is decoded through the memo of result bodies
// (client/result-memo.ts). Anything unexpected (an error item, an unusual field, a revision
// beyond 2^49) is decoded by protobufjs.

import protobuf from 'protobufjs';
import { PROTO_LOADER_OPTIONS, protoType } from '../proto/load.ts';
import type { CheckCompatibilityStreamResponse__Output } from '../proto/generated/devcompat/v1/CheckCompatibilityStreamResponse.ts';
import type { CheckItemResult__Output } from '../proto/generated/devcompat/v1/CheckItemResult.ts';
import { decodeResult } from './result-memo.ts';
import { cursor, readVarint, varintLength, writeVarint } from '../proto/varint.ts';

const WIRE_VARINT = 0;
const WIRE_LEN = 2;

const typesOf = () => ({
  checkItem: protoType('devcompat.v1.CheckItem'),
  itemResult: protoType('devcompat.v1.CheckItemResult'),
});

/** A check whose refs are both names: written straight into its message (no bytes of its own). */
export interface NamedCheck {
  readonly id: string;
  readonly source: string;
  readonly target: string;
}

/** Bytes of a length-delimited field: its tag, its length, its value. */
function fieldLength(valueLength: number): number {
  return 1 + varintLength(valueLength) + valueLength;
}

/** The encoded length of a named check's body; its strings' byte lengths go to `lengths[at..at+2]`. */
function namedCheckLength(check: NamedCheck, lengths: Int32Array, at: number): number {
  const id = (lengths[at] = Buffer.byteLength(check.id));
  const source = (lengths[at + 1] = Buffer.byteLength(check.source));
  const target = (lengths[at + 2] = Buffer.byteLength(check.target));
  return fieldLength(id) + fieldLength(fieldLength(source)) + fieldLength(fieldLength(target));
}

function writeString(buf: Buffer, pos: number, tag: number, text: string, length: number): number {
  buf[pos++] = tag;
  pos = writeVarint(buf, pos, length);
  return pos + buf.write(text, pos, length, 'utf8');
}

/** A DeviceRef { name = 1 } as field `tag`. */
function writeRef(buf: Buffer, pos: number, tag: number, name: string, length: number): number {
  buf[pos++] = tag;
  pos = writeVarint(buf, pos, fieldLength(length));
  return writeString(buf, pos, (1 << 3) | WIRE_LEN, name, length);
}

function writeNamedCheck(buf: Buffer, pos: number, check: NamedCheck, lengths: Int32Array, at: number): number {
  pos = writeString(buf, pos, (1 << 3) | WIRE_LEN, check.id, lengths[at]);
  pos = writeRef(buf, pos, (2 << 3) | WIRE_LEN, check.source, lengths[at + 1]);
  return writeRef(buf, pos, (3 << 3) | WIRE_LEN, check.target, lengths[at + 2]);
}

/** CheckItem { id = 1; source = 2 { name = 1 }; target = 3 { name = 1 } }, both refs by name, by protobufjs. */
export function encodeNamedCheck(id: string, source: string, target: string): Uint8Array {
  const writer = protobuf.Writer.create();
  writer.uint32((1 << 3) | WIRE_LEN).string(id);
  writer.uint32((2 << 3) | WIRE_LEN).fork().uint32((1 << 3) | WIRE_LEN).string(source).ldelim();
  writer.uint32((3 << 3) | WIRE_LEN).fork().uint32((1 << 3) | WIRE_LEN).string(target).ldelim();
  return writer.finish();
}

/** UTF-16 surrogates: protobufjs writes a lone one differently from Node's UTF-8 encoder. */
const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * A check by names, to be written into its message by encodeRequest; a name with a surrogate
 * (rare) is encoded now by protobufjs, so that the bytes are the loader's in every case.
 */
export function namedCheck(id: string, source: string, target: string): NamedCheck | Uint8Array {
  if (SURROGATE.test(id) || SURROGATE.test(source) || SURROGATE.test(target)) return encodeNamedCheck(id, source, target);
  return { id, source, target };
}

/** A CheckItem already read by the strict reader (proto field names), encoded. */
export function encodeCheck(message: Record<string, unknown>): Uint8Array {
  const type = typesOf().checkItem;
  return type.encode(type.fromObject(message)).finish();
}

/**
 * CheckCompatibilityStreamRequest { repeated CheckItem checks = 1; int64 min_revision = 2 }, in
 * one buffer sized first: each check is its encoded bytes, or written here from its names.
 */
export function encodeRequest(checks: readonly (Uint8Array | NamedCheck)[], minRevision: string | undefined): Buffer {
  const bodies = new Int32Array(checks.length);
  const refs = new Int32Array(checks.length * 3);
  let total = 0;
  for (let i = 0; i < checks.length; i++) {
    const check = checks[i];
    const length = check instanceof Uint8Array ? check.length : namedCheckLength(check, refs, i * 3);
    bodies[i] = length;
    total += fieldLength(length);
  }
  // min_revision: int64 as protobufjs writes it (a negative value takes ten bytes), appended by it.
  const tail = minRevision === undefined ? undefined : protobuf.Writer.create().uint32((2 << 3) | WIRE_VARINT).int64(minRevision).finish();
  const buf = Buffer.allocUnsafe(total + (tail?.length ?? 0));
  let pos = 0;
  for (let i = 0; i < checks.length; i++) {
    const check = checks[i];
    buf[pos++] = (1 << 3) | WIRE_LEN;
    pos = writeVarint(buf, pos, bodies[i]);
    if (check instanceof Uint8Array) {
      buf.set(check, pos);
      pos += check.length;
    } else pos = writeNamedCheck(buf, pos, check, refs, i * 3);
  }
  if (tail) buf.set(tail, pos);
  return buf;
}

/** One CheckItemResult from `buf[from, to)`. */
function item(buf: Buffer, from: number, to: number): CheckItemResult__Output {
  let id = '';
  let resultFrom = -1;
  let resultTo = -1;
  let pos = from;
  while (pos < to) {
    const tag = readVarint(buf, pos, to);
    if (tag < 0 || tag % 8 !== WIRE_LEN) return slowItem(buf, from, to);
    const length = readVarint(buf, cursor, to);
    if (length < 0 || cursor + length > to) return slowItem(buf, from, to);
    const number = Math.floor(tag / 8);
    const valueFrom = cursor;
    pos = valueFrom + length;
    if (number === 1) id = buf.toString('utf8', valueFrom, pos);
    else if (number === 2 && resultFrom < 0) {
      resultFrom = valueFrom;
      resultTo = pos;
    } else return slowItem(buf, from, to); // an error, a repeated result, an unknown field
  }
  const result = resultFrom < 0 ? undefined : decodeResult(buf, resultFrom, resultTo);
  if (!result) return slowItem(buf, from, to);
  return { id, result: result as unknown as CheckItemResult__Output['result'], outcome: 'result' } as CheckItemResult__Output;
}

function slowItem(buf: Buffer, from: number, to: number): CheckItemResult__Output {
  const type = typesOf().itemResult;
  return type.toObject(type.decode(buf.subarray(from, to)), PROTO_LOADER_OPTIONS) as CheckItemResult__Output;
}

/** CheckCompatibilityStreamResponse { repeated CheckItemResult results = 1 }, as the loader decodes it. */
export function decodeResponse(buf: Buffer): CheckCompatibilityStreamResponse__Output {
  const results: CheckItemResult__Output[] = [];
  let pos = 0;
  const end = buf.length;
  while (pos < end) {
    const tag = readVarint(buf, pos, end);
    const length = tag === ((1 << 3) | WIRE_LEN) ? readVarint(buf, cursor, end) : -1;
    const from = cursor;
    if (length < 0 || from + length > end) return slowResponse(buf);
    pos = from + length;
    results.push(item(buf, from, pos));
  }
  return { results };
}

function slowResponse(buf: Buffer): CheckCompatibilityStreamResponse__Output {
  const type = protoType('devcompat.v1.CheckCompatibilityStreamResponse');
  return type.toObject(type.decode(buf), PROTO_LOADER_OPTIONS) as CheckCompatibilityStreamResponse__Output;
}
