// The canonical proto3 JSON mapping of a message, walked from the protos' descriptors (the
// protobufjs reflection proto/load.ts loads), so every command's `-o json` prints what
// `buf curl`, grpcurl and every other protojson printer print for the same message:
// lowerCamelCase names (the field's json_name), int64 as decimal strings, enums by name,
// Timestamps in RFC 3339 (UTC, 0, 3, 6 or 9 fractional digits), bytes in base64, Any with its
// "@type", and fields at their default value left out — except the members of a oneof and the
// proto3 `optional` fields, whose presence is data.
//
// It reads the objects the client library hands out, whichever of the usual JavaScript shapes
// a value takes: proto or lowerCamelCase keys, int64 as string, number, bigint or Long,
// Timestamps as `{ seconds, nanos }` or `Date`, enums by name or number. Keys that are not
// fields (proto-loader's oneof discriminators) are not printed.

import protobuf from 'protobufjs';
import { protoRoot } from '../proto/load.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** `value`, a message of type `typeName` (e.g. `devcompat.v1.Host`), in proto3 JSON. */
export function toProtoJson(typeName: string, value: unknown): Record<string, Json> {
  const json = message(protoRoot().lookupType(typeName), value);
  return json as Record<string, Json>;
}

function message(type: protobuf.Type, value: unknown): Json {
  const special = WELL_KNOWN[type.fullName];
  if (special) return special(value);
  const source = (value ?? {}) as Record<string, unknown>;
  const out: Record<string, Json> = {};
  for (const field of type.fieldsArray) {
    field.resolve();
    const raw = fieldValue(source, field);
    if (raw === undefined || raw === null) continue;
    // A oneof member or a proto3 `optional` field that is set is printed even at its default.
    const present = field.partOf !== null && field.partOf !== undefined;
    if (field.map) {
      const entries = Object.entries(raw instanceof Map ? Object.fromEntries(raw) : (raw as Record<string, unknown>));
      if (entries.length === 0) continue;
      out[jsonName(field)] = Object.fromEntries(entries.map(([key, item]) => [key, single(field, item)]));
    } else if (field.repeated) {
      const items = raw as unknown[];
      if (items.length === 0) continue;
      out[jsonName(field)] = items.map((item) => single(field, item));
    } else {
      const json = single(field, raw);
      if (!present && isDefault(field, json)) continue;
      out[jsonName(field)] = json;
    }
  }
  return out;
}

/** The field's value under its proto name or its lowerCamelCase JSON name. */
function fieldValue(source: Record<string, unknown>, field: protobuf.Field): unknown {
  if (Object.hasOwn(source, field.name)) return source[field.name];
  const json = jsonName(field);
  if (Object.hasOwn(source, json)) return source[json];
  return undefined;
}

/** The field's JSON name: its `json_name` option, else protoc's lowerCamelCase of its name. */
export function jsonName(field: protobuf.Field): string {
  const explicit = field.options?.json_name;
  if (typeof explicit === 'string') return explicit;
  return field.name.replace(/_+([^_])?/g, (_match, next: string | undefined) => (next ?? '').toUpperCase());
}

function isDefault(field: protobuf.Field, json: Json): boolean {
  if (field.resolvedType instanceof protobuf.Type) return false; // a set message field is printed, even empty
  if (field.resolvedType instanceof protobuf.Enum) return json === enumName(field.resolvedType, 0);
  return json === false || json === 0 || json === '' || json === '0';
}

function single(field: protobuf.Field, raw: unknown): Json {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return message(resolved, raw);
  if (resolved instanceof protobuf.Enum) {
    if (typeof raw === 'number') return enumName(resolved, raw);
    return String(raw);
  }
  switch (field.type) {
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64':
      return integerText(raw);
    case 'int32':
    case 'uint32':
    case 'sint32':
    case 'fixed32':
    case 'sfixed32':
      return Number(integerText(raw));
    case 'double':
    case 'float': {
      const number = Number(raw);
      if (Number.isNaN(number)) return 'NaN';
      if (number === Infinity) return 'Infinity';
      if (number === -Infinity) return '-Infinity';
      return number;
    }
    case 'bool':
      return Boolean(raw);
    case 'bytes':
      return bytes(raw).toString('base64');
    default:
      return String(raw);
  }
}

function enumName(type: protobuf.Enum, number: number): Json {
  return type.valuesById[number] ?? number;
}

/** An integer of any JavaScript shape (string, number, bigint, Long) as a decimal string. */
function integerText(raw: unknown): string {
  if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'bigint') return String(raw);
  if (raw && typeof raw === 'object' && 'low' in raw && 'high' in raw) return (raw as { toString(): string }).toString();
  return String(raw);
}

function bytes(raw: unknown): Buffer {
  if (Buffer.isBuffer(raw)) return raw;
  if (raw instanceof Uint8Array) return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  if (typeof raw === 'string') return Buffer.from(raw, 'base64');
  return Buffer.alloc(0);
}

/** RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits, as Go's protojson prints a Timestamp. */
export function timestampText(value: unknown): string {
  let seconds: bigint;
  let nanos: number;
  if (value instanceof Date) {
    const ms = value.getTime();
    seconds = BigInt(Math.floor(ms / 1000));
    nanos = (((ms % 1000) + 1000) % 1000) * 1_000_000;
  } else {
    const ts = value as { seconds?: unknown; nanos?: unknown };
    seconds = BigInt(integerText(ts.seconds ?? 0));
    nanos = Number(ts.nanos ?? 0);
  }
  const iso = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  let fraction = String(nanos).padStart(9, '0');
  while (fraction.endsWith('000')) fraction = fraction.slice(0, -3);
  return `${iso}${fraction ? `.${fraction}` : ''}Z`;
}

/** The well-known types whose JSON form is not their fields'. */
const WELL_KNOWN: Record<string, (value: unknown) => Json> = {
  '.google.protobuf.Timestamp': timestampText,
  '.google.protobuf.Duration': (value) => {
    const { seconds = 0, nanos = 0 } = value as { seconds?: unknown; nanos?: number };
    let fraction = String(Math.abs(nanos)).padStart(9, '0');
    while (fraction.endsWith('000')) fraction = fraction.slice(0, -3);
    const sign = nanos < 0 && BigInt(integerText(seconds)) === 0n ? '-' : '';
    return `${sign}${integerText(seconds)}${fraction ? `.${fraction}` : ''}s`;
  },
  '.google.protobuf.Any': (value): Json => {
    const { type_url, typeUrl, value: packed } = value as { type_url?: string; typeUrl?: string; value?: unknown };
    const url = type_url ?? typeUrl ?? '';
    const type = protoRoot().lookupType(url.slice(url.lastIndexOf('/') + 1));
    const inner = message(type, type.toObject(type.decode(bytes(packed)), { longs: String, enums: String }));
    if (WELL_KNOWN[type.fullName]) return { '@type': url, value: inner };
    const fields: Record<string, Json> = { '@type': url, ...(inner as Record<string, Json>) };
    return fields;
  },
};
