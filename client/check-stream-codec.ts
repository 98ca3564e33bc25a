// The wire format of CheckCompatibilityStream on the client, written by hand for the hot path
// (a stream carries tens of thousands of checks a second, and the client, not the server, was
// the busier process). Produces exactly what the shared loader's (de)serializer produces.
//
// Requests: a message is written into one buffer sized first. A check whose refs are names is
// written there from its strings (no bytes of its own); any other check goes through the strict
// reader and protobufjs once, when it is submitted (a resend after a reconnect reuses the bytes).
//
// Responses: a CompatibilityResult is the same bytes for every answer about the same pair of
// descriptors except revision (4), source (6) and target (7) (server/grpc/verdict-encoding.ts).
// The rest is decoded once into a template (protobufjs's toObject with the loader's options),
// and each answer is a fresh copy of it (plain objects with the same keys in the same order;
// a body seen often gets a compiled object literal) with the three fields set. The memo is
// bounded (4,096 bodies, 8 MB of them), and found by a hash of the body's bytes, compared in
// place (no key string made per answer). Anything unexpected (an error item, an unusual field, a
// revision beyond 2^49) is decoded by protobufjs.

import protobuf from 'protobufjs';
import { PROTO_LOADER_OPTIONS, protoType } from '../proto/load.ts';
import type { CheckCompatibilityStreamResponse__Output } from '../proto/generated/devcompat/v1/CheckCompatibilityStreamResponse.ts';
import type { CheckItemResult__Output } from '../proto/generated/devcompat/v1/CheckItemResult.ts';

const WIRE_VARINT = 0;
const WIRE_LEN = 2;

const typesOf = () => ({
  checkItem: protoType('devcompat.v1.CheckItem'),
  itemResult: protoType('devcompat.v1.CheckItemResult'),
  result: protoType('devcompat.v1.CompatibilityResult'),
});

/** A check whose refs are both names: written straight into its message (no bytes of its own). */
export interface NamedCheck {
  readonly id: string;
  readonly source: string;
  readonly target: string;
}

function varintLength(value: number): number {
  let length = 1;
  while (value >= 0x80) {
    value >>>= 7;
    length++;
  }
  return length;
}

function writeVarint(buf: Buffer, pos: number, value: number): number {
  while (value >= 0x80) {
    buf[pos++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  buf[pos++] = value;
  return pos;
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

/** The memo's bounds: bodies, and bytes of bodies (a result's template and copy are a few times its bytes). */
const MEMO_LIMIT = 4096;
const MEMO_BYTES = 8 * 1024 * 1024;
let memoBytes = 0;
/** A body seen this many times gets a compiled factory (compiling costs more than a few copies). */
const COMPILE_AFTER = 4;

interface Template {
  /** The body's bytes (a copy: the response they came in is not kept). */
  readonly body: Buffer;
  /** protobufjs's toObject of the body, with the loader's options: copied, never handed out. */
  readonly value: unknown;
  hits: number;
  make?: () => Record<string, unknown>;
  /** Another body with the same hash. */
  readonly next: Template | undefined;
}

/** Result bodies (fields other than 4, 6, 7) by the hash of their bytes, each with its decoded template. */
const templates = new Map<number, Template>();
let memoCount = 0;

/** How the memo fared since the process started: answers from a template, bodies decoded, whole-memo resets. */
export const memoStats = { hits: 0, misses: 0, resets: 0 };

/** A 30-bit hash of `buf[from, to)`, four bytes at a time (a small integer: a fast Map key). Exported for tests. */
export function hashOf(buf: Buffer, from: number, to: number): number {
  let hash = to - from;
  let i = from;
  for (; i + 3 < to; i += 4) {
    hash = Math.imul(hash ^ (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24)), 0x9e3779b1);
    hash ^= hash >>> 15;
  }
  for (; i < to; i++) hash = Math.imul(hash ^ buf[i], 0x9e3779b1);
  return hash & 0x3fffffff;
}

/** The template of the body `buf[from, to)`, decoded on its first sight. */
function templateOf(buf: Buffer, from: number, to: number): Template {
  const hash = hashOf(buf, from, to);
  let head = templates.get(hash);
  for (let template = head; template !== undefined; template = template.next) {
    if (template.body.length === to - from && buf.compare(template.body, 0, template.body.length, from, to) === 0) {
      memoStats.hits++;
      return template;
    }
  }
  memoStats.misses++;
  const body = Buffer.from(buf.subarray(from, to));
  const type = typesOf().result;
  const value = type.toObject(type.decode(body), PROTO_LOADER_OPTIONS);
  if (memoCount >= MEMO_LIMIT || memoBytes + body.length > MEMO_BYTES) {
    templates.clear();
    memoCount = 0;
    memoBytes = 0;
    memoStats.resets++;
    head = undefined;
  }
  const template: Template = { body, value, hits: 0, next: head };
  templates.set(hash, template);
  memoCount++;
  memoBytes += body.length;
  return template;
}

/** A fresh copy of a template: plain objects with the same keys in the same order. */
function copyOf(template: Template): Record<string, unknown> {
  if (template.make) return template.make();
  if (++template.hits >= COMPILE_AFTER) template.make = compile(template.value);
  return copy(template.value) as Record<string, unknown>;
}

function copy(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copy(value[i]);
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = copy((value as Record<string, unknown>)[key]);
  return out;
}

/**
 * A function returning a fresh copy, as one object literal (V8 builds literals far faster than
 * any copy loop). The literal is the template's JSON, so the source holds data only: a
 * CompatibilityResult has no float fields (no NaN, no -0 that JSON would change) and its int64
 * fields are strings. A `__proto__` key would set a literal's prototype instead of a property,
 * so a template that may hold one keeps the copy loop.
 */
function compile(value: unknown): () => Record<string, unknown> {
  const copyLoop = () => copy(value) as Record<string, unknown>;
  const json = JSON.stringify(value);
  if (json.includes('"__proto__"')) return copyLoop;
  try {
    return new Function(`return ${json};`) as () => Record<string, unknown>;
  } catch {
    return copyLoop; // code generation disallowed (--disallow-code-generation-from-strings)
  }
}

function readVarint(buf: Buffer, pos: number, end: number): number {
  // Returns the value, and leaves the next position in `cursor` (no tuple allocated).
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 7; i++) {
    if (pos >= end) return -1;
    const byte = buf[pos++];
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      cursor = pos;
      return value;
    }
    scale *= 128;
  }
  return -1; // 8 bytes or more (beyond 2^49), or malformed: the slow path decides
}
let cursor = 0;

/** One CompatibilityResult from `buf[from, to)`, or undefined when the slow path must decode it. */
function fastResult(buf: Buffer, from: number, to: number): Record<string, unknown> | undefined {
  let revision: number | undefined;
  let source: string | undefined;
  let target: string | undefined;
  // The body: the ranges of every other field; contiguous unless the fields are interleaved.
  let bodyFrom = -1;
  let bodyTo = -1;
  let pieces: Buffer[] | undefined;
  let pos = from;
  while (pos < to) {
    const fieldStart = pos;
    const tag = readVarint(buf, pos, to);
    if (tag < 0) return undefined;
    pos = cursor;
    const number = Math.floor(tag / 8);
    const wire = tag % 8;
    let valueStart = pos;
    if (wire === WIRE_VARINT) {
      const value = readVarint(buf, pos, to);
      if (value < 0) return undefined;
      pos = cursor;
      if (number === 4) {
        revision = value;
        continue;
      }
    } else if (wire === WIRE_LEN) {
      const length = readVarint(buf, pos, to);
      if (length < 0 || cursor + length > to) return undefined;
      valueStart = cursor;
      pos = cursor + length;
      if (number === 6 || number === 7) {
        const text = buf.toString('utf8', valueStart, pos);
        if (number === 6) source = text;
        else target = text;
        continue;
      }
    } else return undefined;
    if (number === 4 || number === 6 || number === 7 || number === 0) return undefined; // an unexpected wire type
    if (bodyTo === fieldStart) bodyTo = pos;
    else if (bodyFrom < 0) {
      bodyFrom = fieldStart;
      bodyTo = pos;
    } else {
      pieces ??= [];
      pieces.push(buf.subarray(bodyFrom, bodyTo));
      bodyFrom = fieldStart;
      bodyTo = pos;
    }
  }
  if (pos !== to) return undefined;
  let template: Template;
  if (bodyFrom < 0) template = templateOf(buf, 0, 0);
  else if (pieces) {
    const body = Buffer.concat([...pieces, buf.subarray(bodyFrom, bodyTo)]);
    template = templateOf(body, 0, body.length);
  } else template = templateOf(buf, bodyFrom, bodyTo);
  const result = copyOf(template);
  if (revision !== undefined) result.revision = String(revision);
  if (source !== undefined) result.source = source;
  if (target !== undefined) result.target = target;
  return result;
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
  const result = resultFrom < 0 ? undefined : fastResult(buf, resultFrom, resultTo);
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
