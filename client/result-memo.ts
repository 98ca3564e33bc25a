// A CompatibilityResult as the client decodes it on its hot paths (CheckCompatibilityStream's
// answers, client/check-stream-codec.ts; FindTargets' targets, client/find-targets-codec.ts):
// the same object the shared loader's deserializer gives (protobufjs's toObject with
// PROTO_LOADER_OPTIONS), for a fraction of its cost.
//
// A CompatibilityResult is the same bytes for every answer about the same pair of descriptors
// except revision (4), source (6) and target (7) (server/grpc/verdict-encoding.ts). The rest is
// decoded once into a template, and each answer is a fresh copy of it (plain objects with the
// same keys in the same order; a body seen often is built by an object literal compiled for its
// shape, which all bodies of that shape share) with the three fields set: the caller may change
// what it gets. The memo is bounded (4,096 bodies, 8 MB of them), and found by a hash of the
// body's bytes, compared in place (no key string made per answer). Both hot paths share it: a
// process whose searches meet many distinct verdicts may fill it and start it again, and its
// check streams then decode those bodies anew. Anything unexpected (an unusual wire type, a
// revision beyond 2^49) is left to protobufjs (`undefined`).

import { PROTO_LOADER_OPTIONS, protoType } from '../proto/load.ts';
import { cursor, readVarint } from '../proto/varint.ts';

const WIRE_VARINT = 0;
const WIRE_LEN = 2;

/** The memo's bounds: bodies, and bytes of bodies (a result's template and copy are a few times its bytes). */
const MEMO_LIMIT = 4096;
const MEMO_BYTES = 8 * 1024 * 1024;
let memoBytes = 0;
/** A body seen this many times is built by its shape's factory (compiling one costs more than a few copies). */
const COMPILE_AFTER = 4;

interface Template {
  /** The body's bytes (a copy: the response they came in is not kept). */
  readonly body: Buffer;
  /** protobufjs's toObject of the body, with the loader's options: copied, never handed out. */
  readonly value: unknown;
  hits: number;
  /** Its shape's factory (once seen COMPILE_AFTER times), and the leaves it is called with. */
  make?: Factory;
  leaves?: readonly unknown[];
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
  const type = protoType('devcompat.v1.CompatibilityResult');
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
  if (template.make) return template.make(template.leaves!);
  // Tried once: a template whose shape cannot be compiled keeps the copy loop.
  if (++template.hits === COMPILE_AFTER) {
    const leaves: unknown[] = [];
    const make = factoryOf(template.value, leaves);
    if (make) {
      template.leaves = leaves;
      template.make = make;
    }
  }
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
  for (const key of Object.keys(value)) {
    const item = copy((value as Record<string, unknown>)[key]);
    // An own `__proto__` (a map key, as the loader gives it): an assignment would set the prototype.
    if (key === '__proto__') Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
    else out[key] = item;
  }
  return out;
}

/** A factory building a fresh copy of any template of one shape from that template's leaves. */
type Factory = (leaves: readonly unknown[]) => Record<string, unknown>;

/**
 * Factories by shape: the object literal's source, which names every key and array slot and
 * reads each leaf (a string, number, boolean or null) from the template's own list. Bodies
 * differ in their values far more than in their shapes (the benchmark's fleet: 3,340 bodies,
 * 79 shapes), so each factory is shared and soon optimised, where one function per body ran
 * thousands of functions a few times each, mostly unoptimised. Bounded like the memo.
 */
const factories = new Map<string, Factory>();
const FACTORY_LIMIT = 1024;

/** The literal that rebuilds `value`, its leaves appended to `leaves`; undefined for a `__proto__` key. */
function literalOf(value: unknown, leaves: unknown[]): string | undefined {
  if (value === null || typeof value !== 'object') {
    leaves.push(value);
    return `l[${leaves.length - 1}]`;
  }
  const parts: string[] = [];
  if (Array.isArray(value)) {
    for (const item of value) {
      const part = literalOf(item, leaves);
      if (part === undefined) return undefined;
      parts.push(part);
    }
    return `[${parts.join(',')}]`;
  }
  for (const key of Object.keys(value)) {
    // A `__proto__` key in a literal sets the object's prototype instead of a property.
    if (key === '__proto__') return undefined;
    const part = literalOf((value as Record<string, unknown>)[key], leaves);
    if (part === undefined) return undefined;
    parts.push(`${JSON.stringify(key)}:${part}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * The factory for `value`'s shape (V8 builds an object literal far faster than any copy loop),
 * its leaves appended to `leaves`; undefined where the copy loop must stay: a `__proto__` key,
 * or code generation disallowed (--disallow-code-generation-from-strings). The source holds keys
 * and leaf indices only, never a value: keys are written as JSON strings, which are JavaScript
 * string literals.
 */
function factoryOf(value: unknown, leaves: unknown[]): Factory | undefined {
  const source = literalOf(value, leaves);
  if (source === undefined) return undefined;
  let factory = factories.get(source);
  if (factory) return factory;
  try {
    factory = new Function('l', `return ${source};`) as Factory;
  } catch {
    return undefined;
  }
  if (factories.size >= FACTORY_LIMIT) factories.clear();
  factories.set(source, factory);
  return factory;
}

/** One CompatibilityResult from `buf[from, to)`, as the loader decodes it; undefined when protobufjs must decode it. */
export function decodeResult(buf: Buffer, from: number, to: number): Record<string, unknown> | undefined {
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
