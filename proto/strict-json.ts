// Strict reading of messages people write: proto3 JSON files (devices.json, descriptor files)
// for the CLI and the agent, and the request objects a program hands the client library.
// Every proto3 JSON parser accepts both `device_api` and `deviceApi`; this one also refuses
// any field the schema does not have, naming it, because a typo such as `warnonly` must
// never silently turn a warning rule into a hard one. The result uses proto field names,
// which is what the shared loader (keepCase) encodes.
//
// Two modes share the one walk. `json` (files): proto field names or their JSON (lowerCamel)
// names. `library` (the client library's requests, whose types use proto field names only):
// a lowerCamel name such as `warnOnly` is refused like any other unknown field, int64 fields
// also take a bigint, a google.protobuf.Timestamp also takes a Date, `undefined` means unset,
// and a oneof's discriminator (`kind: 'int_value'`, which the client's own answers carry) is
// accepted when it names the member that is set.

import protobuf from 'protobufjs';
import { protoType } from './load.ts';


export class JsonShapeError extends Error {
  constructor(
    readonly field: string,
    readonly description: string,
  ) {
    super(`${field || '(top level)'}: ${description}`);
    this.name = 'JsonShapeError';
  }
}

export type ReadMode = 'json' | 'library';

/** Checks `value` against message `typeName` (e.g. `devcompat.v1.SyncHostRequest`) and
 * returns it with proto field names. Throws JsonShapeError naming the first bad field. */
export function readMessageJson(typeName: string, value: unknown, at = '', mode: ReadMode = 'json'): Record<string, unknown> {
  return readMessage(protoType(typeName), value, at, mode);
}

function readMessage(type: protobuf.Type, value: unknown, at: string, mode: ReadMode): Record<string, unknown> {
  if (mode === 'library' && value instanceof Date && type.fullName === '.google.protobuf.Timestamp') return timestampOf(value, at);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new JsonShapeError(at, `expected an object (${type.name})`);
  }
  const out: Record<string, unknown> = {};
  const oneofSeen = new Map<string, string>();
  const discriminators = new Map<string, { member: string; at: string }>();
  for (const [key, raw] of Object.entries(value)) {
    // Own properties only: a key such as "constructor" or "__proto__" is an unknown field.
    const field = Object.hasOwn(type.fields, key)
      ? type.fields[key]
      : mode === 'json'
        ? Object.values(type.fields).find((candidate) => camel(candidate.name) === key)
        : undefined;
    const fieldPath = at ? `${at}.${key}` : key;
    if (!field && mode === 'library' && type.oneofs && Object.hasOwn(type.oneofs, key)) {
      const members = type.oneofs[key].oneof;
      if (raw === undefined) continue;
      if (typeof raw !== 'string' || !members.includes(raw)) throw new JsonShapeError(fieldPath, `expected one of ${members.join(', ')}`);
      discriminators.set(key, { member: raw, at: fieldPath });
      continue;
    }
    if (!field) {
      const known = Object.values(type.fields)
        .map((candidate) => candidate.name)
        .join(', ');
      throw new JsonShapeError(fieldPath, `unknown field "${key}" in ${type.name} (known: ${known})`);
    }
    if (raw === null || (raw === undefined && mode === 'library')) continue; // proto3 JSON: null means the default
    if (field.partOf && !field.partOf.name.startsWith('_')) {
      const other = oneofSeen.get(field.partOf.name);
      if (other) throw new JsonShapeError(fieldPath, `only one of ${other} and ${field.name} may be set`);
      oneofSeen.set(field.partOf.name, field.name);
    }
    out[field.name] = readField(field, raw, fieldPath, mode);
  }
  for (const [oneof, { member, at: where }] of discriminators) {
    const set = oneofSeen.get(oneof);
    if (set !== member) throw new JsonShapeError(where, `says ${member} but ${set ?? 'no member'} is set`);
  }
  return out;
}

function readField(field: protobuf.Field, raw: unknown, at: string, mode: ReadMode): unknown {
  field.resolve();
  if (field instanceof protobuf.MapField) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new JsonShapeError(at, 'expected an object (a map)');
    return Object.fromEntries(Object.entries(raw).map(([key, item]) => [key, readSingle(field, item, `${at}["${key}"]`, mode)]));
  }
  if (field.repeated) {
    if (!Array.isArray(raw)) throw new JsonShapeError(at, 'expected an array');
    return raw.map((item, index) => readSingle(field, item, `${at}[${index}]`, mode));
  }
  return readSingle(field, raw, at, mode);
}

/** A Date as a google.protobuf.Timestamp (millisecond precision, as a Date has). */
function timestampOf(date: Date, at: string): Record<string, unknown> {
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new JsonShapeError(at, 'is an invalid Date');
  const seconds = Math.floor(ms / 1000);
  return { seconds: String(seconds), nanos: (ms - seconds * 1000) * 1_000_000 };
}

function readSingle(field: protobuf.Field, raw: unknown, at: string, mode: ReadMode): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return readMessage(resolved, raw, at, mode);
  if (resolved instanceof protobuf.Enum) {
    if (typeof raw === 'string' && Object.hasOwn(resolved.values, raw)) return raw;
    if (typeof raw === 'number' && Number.isInteger(raw) && Object.hasOwn(resolved.valuesById, raw)) return resolved.valuesById[raw];
    throw new JsonShapeError(at, `expected one of ${Object.keys(resolved.values).join(', ')}`);
  }
  switch (field.type) {
    case 'string':
      if (typeof raw !== 'string') throw new JsonShapeError(at, 'expected a string');
      return raw;
    case 'bool':
      if (typeof raw !== 'boolean') throw new JsonShapeError(at, 'expected true or false');
      return raw;
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'int32':
    case 'uint32':
    case 'sint32': {
      if (mode === 'library' && typeof raw === 'bigint') raw = String(raw);
      // A JSON number beyond 2^53 has already lost digits when it was parsed: refuse it
      // rather than store a value nobody wrote.
      if (typeof raw === 'number' && !Number.isSafeInteger(raw) && Number.isInteger(raw)) {
        throw new JsonShapeError(at, 'is beyond 2^53 as a JSON number: write it as a decimal string');
      }
      const text = typeof raw === 'number' ? (Number.isInteger(raw) ? String(raw) : '') : typeof raw === 'string' ? raw : '';
      if (!/^-?\d+$/.test(text)) throw new JsonShapeError(at, 'expected an integer (a number or a decimal string)');
      const big = BigInt(text);
      const [min, max] = field.type.endsWith('32')
        ? field.type.startsWith('u')
          ? [0n, 4294967295n]
          : [-2147483648n, 2147483647n]
        : field.type.startsWith('u')
          ? [0n, 18446744073709551615n]
          : [-9223372036854775808n, 9223372036854775807n];
      if (big < min || big > max) throw new JsonShapeError(at, `out of range for ${field.type}`);
      return field.type.endsWith('32') ? Number(big) : text;
    }
    default:
      return raw;
  }
}

function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}
