// Descriptor validation and canonical form (spec: "Input limits", "Canonical form").
//
// validateDescriptor walks the whole input and reports every violation at once, each with a
// field path (`devices[3].descriptor.attributes["Bad Name"]`), so a client fixes its input
// in one round trip. What it returns is canonical: two inputs that mean the same descriptor
// (set order, duplicates, `v1.2.3` vs `1.2.3`, int64 as number vs string) give equal keys.

import type { Range } from 'semver';
import { Violations } from './errors.ts';
import { COMPARE_OPS } from './model.ts';
import type {
  CompareOp,
  Descriptor,
  DescriptorIndex,
  DescriptorInput,
  Rule,
  RuleInput,
  Value,
  Version,
} from './model.ts';
import {
  MAX_SET_MEMBERS,
  MAX_STRING_CHARS,
  canonicalStringSet,
  canonicalValue,
  hasControlCharacter,
  isPlainObject,
  NO_CONTROL_CHARACTERS,
  isPresent,
  keySegment,
  reportUnknownFields,
  tooLong,
  valueKey,
  valueToJson,
} from './values.ts';
import type { ValueJson } from './values.ts';
import { parseRangeStrict, parseVersion } from './version.ts';

/** The spec's input limits that concern one descriptor. */
export const DESCRIPTOR_LIMITS = {
  maxAttributes: 128,
  maxRules: 128,
  maxStringChars: MAX_STRING_CHARS,
  maxSetMembers: MAX_SET_MEMBERS,
  maxCompatibleTypes: 64,
  /** Measured on the canonical JSON (Descriptor.key) in UTF-8 bytes. */
  maxEncodedBytes: 64 * 1024,
} as const;

/** Attribute names and rule keys. */
export const ATTRIBUTE_NAME = /^[a-z][a-z0-9_.-]{0,62}$/;
/** Names of the built-in checks: never attribute names; only `software_version` may key a rule. */
export const BUILTIN_NAMES: ReadonlySet<string> = new Set(['vendor', 'device_api', 'type', 'software_version']);
export const SOFTWARE_VERSION = 'software_version';

const DESCRIPTOR_FIELDS: ReadonlySet<string> = new Set([
  'vendor',
  'device_api',
  'type',
  'compatible_types',
  'software_version',
  'attributes',
  'rules',
]);
const RULE_FIELDS: ReadonlySet<string> = new Set(['op', 'values', 'range', 'warn_only']);
const KNOWN_OPS: ReadonlySet<string> = new Set(COMPARE_OPS);
/** proto3's zero value: an op that was never set. */
const UNSET_OP = 'COMPARE_OP_UNSPECIFIED';

/** A rule in proto-JSON shape. Default-valued fields are omitted, as proto3 JSON does. */
export interface RuleJson {
  op: CompareOp;
  range?: string;
  values?: ValueJson[];
  warn_only?: true;
}

/**
 * A descriptor in proto-JSON shape (proto field names, enums by name, int64 as decimal
 * strings), with every key sorted. Its JSON text is Descriptor.key, and
 * validateDescriptor accepts it back unchanged.
 */
export interface DescriptorJson {
  attributes: Record<string, ValueJson>;
  compatible_types: string[];
  device_api: string;
  rules: Record<string, RuleJson>;
  software_version: string;
  type: string;
  vendor: string;
}

/**
 * Validates a descriptor and returns its canonical form. `path` prefixes every field path
 * (e.g. `devices[3].descriptor.`). Throws INVALID_ARGUMENT listing every violation.
 */
export function validateDescriptor(input: DescriptorInput, path = ''): Descriptor {
  const violations = new Violations();
  if (!isPlainObject(input)) {
    violations.add(wholeField(path), 'a descriptor must be an object');
    violations.throwIfAny();
  }
  const raw = input as Record<string, unknown>;
  reportUnknownFields(raw, DESCRIPTOR_FIELDS, path, violations);

  const vendor = requiredString(raw.vendor, `${path}vendor`, violations);
  const deviceApi = requiredString(raw.device_api, `${path}device_api`, violations);
  const type = requiredString(raw.type, `${path}type`, violations);
  const compatibleTypes = validateCompatibleTypes(raw.compatible_types, `${path}compatible_types`, violations);
  const softwareVersion = validateVersion(raw.software_version, `${path}software_version`, violations);
  const attributes = validateAttributes(raw.attributes, `${path}attributes`, violations);
  const rules = validateRules(raw.rules, `${path}rules`, violations);

  // The size limit is measured on the canonical JSON. Built from the parts that validated,
  // it is a lower bound of the whole, so a violation here is never a false one even when
  // other fields are invalid too.
  const parts: DescriptorParts = {
    vendor: vendor ?? '',
    deviceApi: deviceApi ?? '',
    type: type ?? '',
    compatibleTypes: compatibleTypes ?? [],
    softwareVersion: softwareVersion ?? PLACEHOLDER_VERSION,
    attributes,
    rules,
  };
  const key = descriptorKey(parts);
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > DESCRIPTOR_LIMITS.maxEncodedBytes) {
    violations.add(
      wholeField(path),
      `a descriptor is at most ${DESCRIPTOR_LIMITS.maxEncodedBytes} bytes encoded (canonical JSON); got at least ${bytes}`,
    );
  }
  violations.throwIfAny();
  return { ...parts, key, index: indexDescriptor(parts) };
}

/** A Descriptor without its derived fields: what the key is computed from. */
export type DescriptorParts = Omit<Descriptor, 'key' | 'index'>;

/** The canonical JSON text of a descriptor: equal exactly when the descriptors are the same. */
export function descriptorKey(d: DescriptorParts): string {
  return JSON.stringify(descriptorToJson(d));
}

/** The canonical proto-JSON object of a descriptor (see DescriptorJson). */
export function descriptorToJson(d: DescriptorParts): DescriptorJson {
  // Keys are inserted in sorted order and JSON.stringify keeps insertion order. That holds
  // for map keys too because names start with a letter: only integer-like keys would be
  // reordered by the engine.
  const attributes: Record<string, ValueJson> = {};
  for (const name of sortedKeys(d.attributes)) attributes[name] = valueToJson(d.attributes.get(name)!);
  const rules: Record<string, RuleJson> = {};
  for (const name of sortedKeys(d.rules)) rules[name] = ruleToJson(d.rules.get(name)!);
  return {
    attributes,
    compatible_types: [...d.compatibleTypes],
    device_api: d.deviceApi,
    rules,
    software_version: d.softwareVersion.text,
    type: d.type,
    vendor: d.vendor,
  };
}

function ruleToJson(rule: Rule): RuleJson {
  const json: RuleJson = { op: rule.op };
  if (rule.range !== '') json.range = rule.range;
  if (rule.values.length > 0) json.values = rule.values.map(valueToJson);
  if (rule.warnOnly) json.warn_only = true;
  return json;
}

function sortedKeys(map: ReadonlyMap<string, unknown>): string[] {
  // Maps built here are already sorted; sorting again keeps the key right for any map.
  return [...map.keys()].sort();
}

/** The field path naming the descriptor itself: `devices[3].descriptor`, or `descriptor`. */
function wholeField(path: string): string {
  if (path === '') return 'descriptor';
  return path.endsWith('.') ? path.slice(0, -1) : path;
}

// Only ever part of a key that is thrown away with its violations.
const PLACEHOLDER_VERSION: Version = parseVersion('0.0.0')!;

function requiredString(raw: unknown, field: string, violations: Violations): string | undefined {
  if (!isPresent(raw) || raw === '') {
    violations.add(field, 'must be set (non-empty)');
    return undefined;
  }
  if (typeof raw !== 'string') {
    violations.add(field, 'must be a string');
    return undefined;
  }
  if (tooLong(raw)) {
    violations.add(field, `at most ${MAX_STRING_CHARS} characters`);
    return undefined;
  }
  if (hasControlCharacter(raw)) {
    violations.add(field, NO_CONTROL_CHARACTERS);
    return undefined;
  }
  return raw;
}

function validateCompatibleTypes(raw: unknown, field: string, violations: Violations): string[] | undefined {
  const types = canonicalStringSet(raw, field, violations, DESCRIPTOR_LIMITS.maxCompatibleTypes);
  if (types?.includes('')) {
    // A type is never empty, so an empty entry can only be a mistake.
    const index = (raw as unknown[]).indexOf('');
    violations.add(`${field}[${index}]`, 'must be non-empty');
    return undefined;
  }
  return types;
}

function validateVersion(raw: unknown, field: string, violations: Violations): Version | undefined {
  if (!isPresent(raw) || raw === '') {
    violations.add(field, 'must be set to a semantic version such as 1.2.3');
    return undefined;
  }
  const version = typeof raw === 'string' && !tooLong(raw) ? parseVersion(raw) : null;
  if (version === null) {
    violations.add(field, `must be a semantic version such as 1.2.3 (major.minor.patch); got ${JSON.stringify(raw)}`);
    return undefined;
  }
  return version;
}

function article(noun: string): string {
  return /^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`;
}

/** Checks a map's entries; returns its valid entries sorted by name (it never fails whole). */
function validateMap<T>(
  raw: unknown,
  field: string,
  violations: Violations,
  limit: number,
  noun: string,
  allowedBuiltin: string | undefined,
  validateEntry: (value: unknown, entryField: string) => T | undefined,
): Map<string, T> {
  const result = new Map<string, T>();
  if (!isPresent(raw)) return result;
  if (!isPlainObject(raw)) {
    violations.add(field, `must be a map from ${noun} name to value`);
    return result;
  }
  const names = Object.keys(raw).sort();
  if (names.length > limit) violations.add(field, `at most ${limit} ${noun}s; got ${names.length}`);
  for (const name of names) {
    const entryField = field + keySegment(name);
    if (!ATTRIBUTE_NAME.test(name)) {
      violations.add(entryField, `${noun} names must match ${ATTRIBUTE_NAME.source}`);
      continue;
    }
    if (BUILTIN_NAMES.has(name) && name !== allowedBuiltin) {
      violations.add(entryField, `${JSON.stringify(name)} is a built-in field and cannot name ${article(noun)}`);
      continue;
    }
    const value = validateEntry(raw[name], entryField);
    if (value !== undefined) result.set(name, value);
  }
  return result;
}

function validateAttributes(raw: unknown, field: string, violations: Violations): Map<string, Value> {
  return validateMap(raw, field, violations, DESCRIPTOR_LIMITS.maxAttributes, 'attribute', undefined, (value, f) =>
    canonicalValue(value, f, violations),
  );
}

function validateRules(raw: unknown, field: string, violations: Violations): Map<string, Rule> {
  // `software_version` may key a rule: it chooses the op of the built-in version check.
  return validateMap(raw, field, violations, DESCRIPTOR_LIMITS.maxRules, 'rule', SOFTWARE_VERSION, (value, f) =>
    validateRule(value, f, violations),
  );
}

function validateRule(input: RuleInput | unknown, field: string, violations: Violations): Rule | undefined {
  if (!isPlainObject(input)) {
    violations.add(field, 'a rule must be an object with at least an op');
    return undefined;
  }
  const before = violations.list.length;
  reportUnknownFields(input, RULE_FIELDS, `${field}.`, violations);

  const op = validateOp(input.op, `${field}.op`, violations);
  const values = validateRuleValues(input.values, `${field}.values`, violations);
  if (op === 'COMPARE_OP_ONE_OF' && values?.length === 0) {
    violations.add(`${field}.values`, 'COMPARE_OP_ONE_OF needs at least one value');
  }

  // A range is kept whatever the op (nothing the client sent is dropped from the canonical
  // form), but it must be a valid range when given, and it is required for SEMVER_RANGE.
  let range = '';
  let compiledRange: Range | undefined;
  const rangeField = `${field}.range`;
  if (isPresent(input.range) && typeof input.range !== 'string') {
    violations.add(rangeField, 'must be a string');
  } else if (typeof input.range === 'string' && tooLong(input.range)) {
    violations.add(rangeField, `at most ${MAX_STRING_CHARS} characters`);
  } else {
    range = (input.range as string | null | undefined) ?? '';
    if (range !== '' || op === 'COMPARE_OP_SEMVER_RANGE') {
      const parsed = parseRangeStrict(range);
      if (range.trim() === '' && op === 'COMPARE_OP_SEMVER_RANGE') {
        violations.add(rangeField, 'COMPARE_OP_SEMVER_RANGE needs a range, such as ">=1.2.0 <2.0.0"');
      } else if (parsed === null) {
        violations.add(rangeField, `must be a node-semver range such as ">=1.2.0 <2.0.0"; got ${JSON.stringify(range)}`);
      } else if (op === 'COMPARE_OP_SEMVER_RANGE') {
        compiledRange = parsed;
      }
    }
  }

  let warnOnly = false;
  if (isPresent(input.warn_only)) {
    if (typeof input.warn_only !== 'boolean') violations.add(`${field}.warn_only`, 'must be true or false');
    else warnOnly = input.warn_only;
  }

  if (violations.list.length !== before || op === undefined || values === undefined) return undefined;
  // compiledRange is always present (maybe undefined) so that every Rule has one shape.
  return { op, values, range, warnOnly, compiledRange };
}

function validateOp(raw: unknown, field: string, violations: Violations): CompareOp | undefined {
  if (!isPresent(raw) || raw === '' || raw === UNSET_OP) {
    violations.add(field, 'must be set to a COMPARE_OP_* value');
    return undefined;
  }
  if (typeof raw !== 'string' || !KNOWN_OPS.has(raw)) {
    violations.add(field, `unknown op ${JSON.stringify(raw)}; expected one of ${COMPARE_OPS.join(', ')}`);
    return undefined;
  }
  return raw as CompareOp;
}

/** Rule values: canonical, sorted by their canonical JSON, duplicates removed. */
function validateRuleValues(raw: unknown, field: string, violations: Violations): Value[] | undefined {
  if (!isPresent(raw)) return [];
  if (!Array.isArray(raw)) {
    violations.add(field, 'must be a list of values');
    return undefined;
  }
  let ok = true;
  if (raw.length > MAX_SET_MEMBERS) {
    violations.add(field, `at most ${MAX_SET_MEMBERS} values; got ${raw.length}`);
    ok = false;
  }
  const byKey = new Map<string, Value>();
  for (let i = 0; i < raw.length; i++) {
    const value = canonicalValue(raw[i], `${field}[${i}]`, violations);
    if (value === undefined) ok = false;
    else byKey.set(valueKey(value), value);
  }
  if (!ok) return undefined;
  return [...byKey.keys()].sort().map((key) => byKey.get(key)!);
}

/** The engine's lookups for a descriptor (Descriptor.index). */
export function indexDescriptor(d: DescriptorParts): DescriptorIndex {
  const names = new Set(d.attributes.keys());
  for (const name of d.rules.keys()) if (name !== SOFTWARE_VERSION) names.add(name);
  return {
    attributeNames: [...d.attributes.keys()].sort(),
    // The names this descriptor brings as a target: attributes and rule keys, minus the
    // `software_version` rule (that one drives the built-in version check).
    targetNames: [...names].sort(),
    vendor: { kind: 'string', str: d.vendor },
    deviceApi: { kind: 'string', str: d.deviceApi },
    type: { kind: 'string', str: d.type },
    softwareVersion: { kind: 'version', version: d.softwareVersion },
  };
}
