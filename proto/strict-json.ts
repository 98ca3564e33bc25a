// Strict proto3 JSON reading for files people write (devices.json, descriptor files).
// Every proto3 JSON parser accepts both `device_api` and `deviceApi`; this one also refuses
// any field the schema does not have, naming it, because a typo such as `warnonly` must
// never silently turn a warning rule into a hard one. The result uses proto field names,
// which is what the shared loader (keepCase) encodes.

import protobuf from 'protobufjs';
import { protoRoot } from './load.ts';


export class JsonShapeError extends Error {
  constructor(
    readonly field: string,
    description: string,
  ) {
    super(`${field || '(top level)'}: ${description}`);
    this.name = 'JsonShapeError';
  }
}

/** Checks `value` against message `typeName` (e.g. `devcompat.v1.SyncHostRequest`) and
 * returns it with proto field names. Throws JsonShapeError naming the first bad field. */
export function readMessageJson(typeName: string, value: unknown, at = ''): Record<string, unknown> {
  return readMessage(protoRoot().lookupType(typeName), value, at);
}

function readMessage(type: protobuf.Type, value: unknown, at: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new JsonShapeError(at, `expected an object (${type.name})`);
  }
  const out: Record<string, unknown> = {};
  const oneofSeen = new Map<string, string>();
  for (const [key, raw] of Object.entries(value)) {
    // Own properties only: a key such as "constructor" or "__proto__" is an unknown field.
    const field = Object.hasOwn(type.fields, key)
      ? type.fields[key]
      : Object.values(type.fields).find((candidate) => camel(candidate.name) === key);
    const fieldPath = at ? `${at}.${key}` : key;
    if (!field) {
      const known = Object.values(type.fields)
        .map((candidate) => candidate.name)
        .join(', ');
      throw new JsonShapeError(fieldPath, `unknown field "${key}" in ${type.name} (known: ${known})`);
    }
    if (raw === null) continue; // proto3 JSON: null means the default
    if (field.partOf && !field.partOf.name.startsWith('_')) {
      const other = oneofSeen.get(field.partOf.name);
      if (other) throw new JsonShapeError(fieldPath, `only one of ${other} and ${field.name} may be set`);
      oneofSeen.set(field.partOf.name, field.name);
    }
    out[field.name] = readField(field, raw, fieldPath);
  }
  return out;
}

function readField(field: protobuf.Field, raw: unknown, at: string): unknown {
  field.resolve();
  if (field instanceof protobuf.MapField) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new JsonShapeError(at, 'expected an object (a map)');
    return Object.fromEntries(Object.entries(raw).map(([key, item]) => [key, readSingle(field, item, `${at}["${key}"]`)]));
  }
  if (field.repeated) {
    if (!Array.isArray(raw)) throw new JsonShapeError(at, 'expected an array');
    return raw.map((item, index) => readSingle(field, item, `${at}[${index}]`));
  }
  return readSingle(field, raw, at);
}

function readSingle(field: protobuf.Field, raw: unknown, at: string): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return readMessage(resolved, raw, at);
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
