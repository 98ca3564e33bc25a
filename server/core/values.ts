// Attribute values: from raw input (proto-loader object or JSON) to the canonical Value, and
// back to proto-JSON. Canonical means: int64 as a bigint, sets sorted without duplicates,
// versions normalized (spec: "Canonical form").

import { Violations } from './errors.ts';
import type { AttributeValueInput, Value } from './model.ts';
import { parseVersion, versionsEqual } from './version.ts';

/** Spec "Input limits": strings at most 256 characters. */
export const MAX_STRING_CHARS = 256;
/** Spec "Input limits": a set, a rule's `values`, at most 1024 members. */
export const MAX_SET_MEMBERS = 1024;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const DECIMAL_INTEGER = /^-?[0-9]+$/;

/** The members of the AttributeValue oneof, in proto order. */
const VALUE_KINDS = ['int_value', 'string_value', 'bool_value', 'version_value', 'set_value'] as const;
// `kind` is proto-loader's oneof discriminator (`oneofs: true`): tolerated, never trusted.
const VALUE_FIELDS: ReadonlySet<string> = new Set([...VALUE_KINDS, 'kind']);
const SET_FIELDS: ReadonlySet<string> = new Set(['values']);

/** An attribute value in proto-JSON shape, with the proto field names. */
export type ValueJson =
  | { int_value: string }
  | { string_value: string }
  | { bool_value: boolean }
  | { version_value: string }
  | { set_value: { values: string[] } };

/** True when `value` counts as set on the wire: proto3 JSON reads null as absent. */
export function isPresent(value: unknown): boolean {
  return value !== undefined && value !== null;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Whether a string is longer than `max` characters. Characters are Unicode code points, not
 * UTF-16 units, so that an emoji counts as one; the common short case costs nothing.
 */
export function tooLong(text: string, max = MAX_STRING_CHARS): boolean {
  if (text.length <= max) return false;
  let count = 0;
  for (const _ of text) if (++count > max) return true;
  return false;
}

/** NUL, the other C0 controls, DEL and the C1 controls: refused in every stored string (spec: input limits). */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
export const NO_CONTROL_CHARACTERS = 'must not contain control characters (NUL, newline, escape, DEL, C1)';

export function hasControlCharacter(text: string): boolean {
  return CONTROL_CHARACTER.test(text);
}

/** A map key or JSON field as a path segment: `attributes["Bad Name"]`. */
export function keySegment(key: string): string {
  return `[${JSON.stringify(key)}]`;
}

/**
 * Reports fields of `input` that the message does not have. A typo such as `warnonly` must
 * never be dropped silently (it would turn a warning rule into a hard one). Paths are
 * `prefix` + the field's name.
 */
export function reportUnknownFields(
  input: Record<string, unknown>,
  known: ReadonlySet<string>,
  prefix: string,
  violations: Violations,
): void {
  for (const key of Object.keys(input)) {
    if (!known.has(key)) violations.add(prefix + key, `unknown field ${JSON.stringify(key)}`);
  }
}

/**
 * Reads an int64: a JS integer, a decimal string (proto3 JSON's int64 form), a bigint, or a
 * protobufjs Long (proto-loader without `longs: String`). Returns a description of the
 * problem instead of a value when it is not one.
 */
export function parseInt64(raw: unknown): bigint | string {
  let value: bigint;
  if (typeof raw === 'bigint') {
    value = raw;
  } else if (typeof raw === 'number') {
    if (!Number.isInteger(raw)) return 'must be an integer';
    // Beyond 2^53 a JSON number has already lost precision before we see it: refuse to
    // guess, the client must send the decimal string.
    if (!Number.isSafeInteger(raw)) return 'integers beyond ±2^53 must be sent as decimal strings';
    value = BigInt(raw);
  } else if (typeof raw === 'string') {
    if (!DECIMAL_INTEGER.test(raw)) return 'must be an integer (a number or a decimal string)';
    value = BigInt(raw);
  } else if (isLong(raw)) {
    value = BigInt(String(raw));
  } else {
    return 'must be an integer (a number or a decimal string)';
  }
  if (value < INT64_MIN || value > INT64_MAX) return 'out of the int64 range';
  return value;
}

function isLong(raw: unknown): boolean {
  return (
    isPlainObject(raw) &&
    typeof raw.low === 'number' &&
    typeof raw.high === 'number' &&
    typeof raw.unsigned === 'boolean'
  );
}

/**
 * Reads a list of strings (a set's members or compatible types): at most MAX_SET_MEMBERS
 * entries, each at most MAX_STRING_CHARS. Returns them sorted (UTF-16 code unit order, as
 * Array.prototype.sort and `<` agree on it) without duplicates, or undefined when invalid.
 */
export function canonicalStringSet(
  raw: unknown,
  field: string,
  violations: Violations,
  maxMembers = MAX_SET_MEMBERS,
): string[] | undefined {
  if (!isPresent(raw)) return [];
  if (!Array.isArray(raw)) {
    violations.add(field, 'must be a list of strings');
    return undefined;
  }
  let ok = true;
  // Counted before deduplication: the limit bounds what a client may send.
  if (raw.length > maxMembers) {
    violations.add(field, `at most ${maxMembers} members; got ${raw.length}`);
    ok = false;
  }
  for (let i = 0; i < raw.length; i++) {
    const member: unknown = raw[i];
    if (typeof member !== 'string') {
      violations.add(`${field}[${i}]`, 'must be a string');
      ok = false;
    } else if (tooLong(member)) {
      violations.add(`${field}[${i}]`, `at most ${MAX_STRING_CHARS} characters`);
      ok = false;
    } else if (hasControlCharacter(member)) {
      violations.add(`${field}[${i}]`, NO_CONTROL_CHARACTERS);
      ok = false;
    }
  }
  return ok ? sortedUnique(raw as string[]) : undefined;
}

function sortedUnique(values: readonly string[]): string[] {
  const sorted = [...values].sort();
  let n = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (i === 0 || sorted[i] !== sorted[n - 1]) sorted[n++] = sorted[i];
  }
  sorted.length = n;
  return sorted;
}

/**
 * Canonicalizes one AttributeValue (an attribute's or a rule's value). Adds a violation under
 * `field` (e.g. `rules["x"].values[2]`) and returns undefined when the input is invalid.
 */
export function canonicalValue(
  input: AttributeValueInput | unknown,
  field: string,
  violations: Violations,
): Value | undefined {
  if (!isPlainObject(input)) {
    violations.add(field, `must be an object with exactly one of ${VALUE_KINDS.join(', ')}`);
    return undefined;
  }
  const before = violations.list.length;
  reportUnknownFields(input, VALUE_FIELDS, `${field}.`, violations);

  const set = VALUE_KINDS.filter((kind) => isPresent(input[kind]));
  if (set.length !== 1) {
    const got = set.length === 0 ? 'none is set' : `got ${set.join(' and ')}`;
    violations.add(field, `exactly one of ${VALUE_KINDS.join(', ')} must be set; ${got}`);
    return undefined;
  }
  const kind = set[0];
  const raw = input[kind];
  const memberField = `${field}.${kind}`;
  let value: Value | undefined;
  switch (kind) {
    case 'int_value': {
      const parsed = parseInt64(raw);
      if (typeof parsed === 'string') violations.add(memberField, parsed);
      else value = { kind: 'int', int: parsed };
      break;
    }
    case 'string_value':
      if (typeof raw !== 'string') violations.add(memberField, 'must be a string');
      else if (tooLong(raw)) violations.add(memberField, `at most ${MAX_STRING_CHARS} characters`);
      else if (hasControlCharacter(raw)) violations.add(memberField, NO_CONTROL_CHARACTERS);
      else value = { kind: 'string', str: raw };
      break;
    case 'bool_value':
      if (typeof raw !== 'boolean') violations.add(memberField, 'must be true or false');
      else value = { kind: 'bool', bool: raw };
      break;
    case 'version_value': {
      const version = typeof raw === 'string' && !tooLong(raw) ? parseVersion(raw) : null;
      if (version === null) {
        violations.add(memberField, 'must be a semantic version such as 1.2.3');
      } else {
        value = { kind: 'version', version };
      }
      break;
    }
    case 'set_value': {
      if (!isPlainObject(raw)) {
        violations.add(memberField, 'must be an object {"values": [strings]}');
        break;
      }
      reportUnknownFields(raw, SET_FIELDS, `${memberField}.`, violations);
      const members = canonicalStringSet(raw.values, `${memberField}.values`, violations);
      if (members !== undefined) value = { kind: 'set', set: members };
      break;
    }
  }
  // An unknown sibling field invalidates the value even when its member parsed.
  return violations.list.length === before ? value : undefined;
}

/** Canonicalizes one value or throws INVALID_ARGUMENT (for callers outside a descriptor). */
export function parseValue(input: AttributeValueInput | unknown, field = 'value'): Value {
  const violations = new Violations();
  const value = canonicalValue(input, field, violations);
  violations.throwIfAny();
  return value as Value;
}

/**
 * EQUAL's sense of equality: same kind and equal value, sets as sets (canonical sets are
 * sorted, so elementwise), versions by semver equality (build metadata ignored). Both
 * absent counts as equal; one absent does not.
 */
export function valueEquals(a: Value | undefined, b: Value | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'int':
      return a.int === (b as typeof a).int;
    case 'string':
      return a.str === (b as typeof a).str;
    case 'bool':
      return a.bool === (b as typeof a).bool;
    case 'version':
      return versionsEqual(a.version, (b as typeof a).version);
    case 'set': {
      const x = a.set;
      const y = (b as typeof a).set;
      if (x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
      return true;
    }
  }
}

/** The proto-JSON form of a value (proto field names, int64 as a decimal string). */
export function valueToJson(value: Value): ValueJson {
  switch (value.kind) {
    case 'int':
      return { int_value: value.int.toString() };
    case 'string':
      return { string_value: value.str };
    case 'bool':
      return { bool_value: value.bool };
    case 'version':
      return { version_value: value.version.text };
    case 'set':
      return { set_value: { values: [...value.set] } };
  }
}

/** The canonical JSON text of a value: equal texts mean identical canonical values. */
export function valueKey(value: Value): string {
  return JSON.stringify(valueToJson(value));
}
