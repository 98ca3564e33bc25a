// The vendor profile format, and its validation. A profile is data (YAML or JSON) that says,
// for one device family, how to match a device, where each fact comes from and how to parse
// it, and which descriptor the facts yield, with a comparison rule for every attribute
// (docs/agent.md documents every field). Validation names the file, the path inside it and
// what is wrong, and a profile that fails it is never used.

import { literalValue } from './parse.ts';

export const FACT_SOURCES = ['device', 'parent', 'driver', 'module', 'mdev_type', 'command', 'kernel', 'sriov'] as const;
/** What a `sriov` fact reads: the VF's index among its PF's VFs, or whether it is the PF's last VF. */
export const SRIOV_FACTS = ['index', 'last'] as const;
export const VALUE_KINDS = ['string', 'int', 'hex_id', 'version', 'bool', 'set', 'bits'] as const;
export const COMPARE_OPS = [
  'EQUAL',
  'SEMVER',
  'VERSION_GE',
  'SEMVER_RANGE',
  'SUPERSET',
  'SUBSET',
  'GE',
  'LE',
  'ONE_OF',
  'CLAIMABLE',
  'IGNORE',
] as const;

export type FactSource = (typeof FACT_SOURCES)[number];
export type ValueKind = (typeof VALUE_KINDS)[number];
export type CompareOpName = (typeof COMPARE_OPS)[number];
export type Literal = string | number | boolean;

/**
 * A step of a JSON path that picks a member by what it holds rather than by its name: the one
 * member of an object (or element of an array) whose name matches `key` (a `*` matches any run
 * of characters) and whose fields `where` have these values (compared as text).
 */
export interface JsonSelector {
  readonly key?: string;
  readonly where?: Readonly<Record<string, string>>;
}

/** A key, or a selector. */
export type JsonStep = string | JsonSelector;

export interface ParseSpec {
  /** The value's kind; `hex_id` strips `0x` and lower-cases, `bits` reads a 0/1 string as the set of bit numbers set. */
  readonly as: ValueKind;
  /** JSON output: the path to the value, keys or selectors (each may use `${...}`). */
  readonly json?: readonly JsonStep[];
  /** `key=value` / `key: value` text (separated by newlines or commas): the value of this key. */
  readonly field?: string;
  /** A regular expression; the value is its first capture group (or the whole match). */
  readonly match?: string;
  /** Replaces the text by this table's entry (after field/match). */
  readonly map?: Readonly<Record<string, Literal>>;
  /** `set`: the separator (default: any run of whitespace, `,` or `;`). */
  readonly separator?: string;
}

export interface FactSpec {
  readonly from: FactSource;
  /** A file relative to the source (`device`, `parent`, `driver`, `module`, `mdev_type`, `kernel`); `*` matches one entry. `sriov`: one of SRIOV_FACTS. */
  readonly path?: string;
  /** `module`: the module's name (default: the bound driver's module). */
  readonly module?: string;
  /** `command`: the name of an entry of `commands`. */
  readonly command?: string;
  readonly parse: ParseSpec;
  /** When the file, field or command output is missing, leave the fact out instead of skipping the device. */
  readonly optional?: boolean;
  /** Skip the device, with `reason` (`${...}` allowed), unless the fact reads `value`. */
  readonly require?: { readonly value: Literal; readonly reason: string };
}

export interface CommandSpec {
  /** argv (no shell); each element may use `${...}`. */
  readonly run: readonly string[];
  /** Killed after this long (default 5000 ms). */
  readonly timeout_ms?: number;
}

export interface RuleSpec {
  readonly op: CompareOpName;
  readonly values?: readonly Literal[];
  readonly range?: string;
  readonly warn_only?: boolean;
}

export interface AttributeSpec {
  /** The fact whose value this attribute takes. */
  readonly fact?: string;
  /** Or a literal value, of kind `as`. */
  readonly value?: Literal | readonly string[];
  readonly as?: ValueKind;
  readonly rule?: RuleSpec;
}

export interface MatchSpec {
  readonly kind: 'pci' | 'mdev_type';
  readonly vendor?: readonly string[];
  readonly device?: readonly string[];
  readonly driver?: readonly string[];
  /** mdev_type: a regular expression the type id must match. */
  readonly type?: string;
  readonly parent_driver?: readonly string[];
  /** Files (relative to the device) whose content must match a regular expression. */
  readonly files?: Readonly<Record<string, string>>;
}

export interface CapacitySpec {
  /** A fact or a number; `plus_created` adds the mdevs already created of this type (available_instances counts only free ones). */
  readonly total: { readonly fact?: string; readonly value?: number; readonly plus_created?: boolean };
  /**
   * A fact, a number, or `vfio_group_free`: 1 when no process holds the device open, else 0 —
   * through its VFIO group (`/dev/vfio/<group>`) or its VFIO cdev (`/dev/vfio/devices/vfioN`,
   * iommufd); the name is kept from when the group was the only way (agent/vfio-in-use.ts).
   */
  readonly available: { readonly fact?: string; readonly value?: number; readonly vfio_group_free?: boolean };
}

/**
 * A shared budget of the parent device that the profile's mdev types draw on (docs/agent.md,
 * "Shared budgets"): `per_unit` is what one instance of a type uses, a fact or a number. The
 * agent declares one budget per parent and name, its available amount inferred from each
 * type's available instances (agent/budgets.ts).
 */
export interface BudgetSpec {
  readonly per_unit: { readonly fact?: string; readonly value?: number };
}

export interface Profile {
  readonly name: string;
  readonly file: string;
  readonly description?: string;
  readonly match: MatchSpec;
  readonly commands: Readonly<Record<string, CommandSpec>>;
  readonly facts: Readonly<Record<string, FactSpec>>;
  readonly descriptor: {
    readonly vendor: string;
    readonly device_api: string;
    readonly type: string;
    readonly software_version: string;
    readonly software_version_rule?: RuleSpec;
    readonly compatible_types?: readonly string[];
  };
  readonly attributes: Readonly<Record<string, AttributeSpec>>;
  readonly capacity?: CapacitySpec;
  /** Shared budgets by name (empty: none). */
  readonly budgets: Readonly<Record<string, BudgetSpec>>;
  readonly labels: Readonly<Record<string, string>>;
}

/** A problem with a profile file: which file, where in it, and what is wrong. */
export class ProfileError extends Error {
  constructor(
    readonly file: string,
    readonly at: string,
    readonly problem: string,
  ) {
    super(`${file}: ${at || '(top level)'}: ${problem}`);
    this.name = 'ProfileError';
  }
}

/** Names usable as `${...}` in strings besides the profile's facts. */
export const BUILTIN_NAMES = ['address', 'parent', 'physical', 'driver', 'type_id', 'iommu_group', 'vendor_id', 'device_id'] as const;

const ATTRIBUTE_NAME = /^[a-z][a-z0-9_.-]{0,62}$/;
const RESERVED_ATTRIBUTES = new Set(['vendor', 'device_api', 'type', 'software_version']);
const FACT_NAME = /^[a-z][a-z0-9_]{0,62}$/;
const PROFILE_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

type Json = unknown;

class Checker {
  constructor(readonly file: string) {}

  fail(at: string, problem: string): never {
    throw new ProfileError(this.file, at, problem);
  }

  object(value: Json, at: string, allowed: readonly string[]): Record<string, Json> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(at, 'must be a mapping');
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) this.fail(join(at, key), `unknown field (known: ${allowed.join(', ')})`);
    }
    return value as Record<string, Json>;
  }

  map(value: Json, at: string): Record<string, Json> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(at, 'must be a mapping');
    return value as Record<string, Json>;
  }

  string(value: Json, at: string): string {
    if (typeof value !== 'string' || value === '') this.fail(at, 'must be a non-empty string');
    return value;
  }

  optionalString(value: Json, at: string): string | undefined {
    return value === undefined ? undefined : this.string(value, at);
  }

  strings(value: Json, at: string): string[] {
    if (!Array.isArray(value) || value.length === 0) this.fail(at, 'must be a non-empty list of strings');
    return value.map((item, index) => this.string(typeof item === 'number' ? String(item) : item, `${at}[${index}]`));
  }

  optionalStrings(value: Json, at: string): string[] | undefined {
    return value === undefined ? undefined : this.strings(value, at);
  }

  regex(value: Json, at: string): string {
    const text = this.string(value, at);
    try {
      new RegExp(text);
    } catch (error) {
      this.fail(at, `not a valid regular expression (${(error as Error).message})`);
    }
    return text;
  }

  oneOf<T extends string>(value: Json, at: string, choices: readonly T[]): T {
    if (typeof value !== 'string' || !choices.includes(value as T)) this.fail(at, `must be one of ${choices.join(', ')}`);
    return value as T;
  }

  positiveInt(value: Json, at: string): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) this.fail(at, 'must be a positive integer');
    return value;
  }

  literal(value: Json, at: string): Literal {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') this.fail(at, 'must be a string, number or boolean');
    return value;
  }
}

function join(at: string, key: string | number): string {
  if (typeof key === 'number') return `${at}[${key}]`;
  return at ? `${at}.${key}` : key;
}

function parseSpec(c: Checker, value: Json, at: string): ParseSpec {
  const raw = c.object(value, at, ['as', 'json', 'field', 'match', 'map', 'separator']);
  const map = raw.map === undefined ? undefined : c.map(raw.map, join(at, 'map'));
  if (map) for (const [key, entry] of Object.entries(map)) c.literal(entry, join(join(at, 'map'), key));
  if (raw.json !== undefined && raw.field !== undefined) c.fail(at, 'give at most one of json and field');
  return {
    as: c.oneOf(raw.as, join(at, 'as'), VALUE_KINDS),
    json: raw.json === undefined ? undefined : jsonSteps(c, raw.json, join(at, 'json')),
    field: c.optionalString(raw.field, join(at, 'field')),
    match: raw.match === undefined ? undefined : c.regex(raw.match, join(at, 'match')),
    map: map as Record<string, Literal> | undefined,
    separator: c.optionalString(raw.separator, join(at, 'separator')),
  };
}

function jsonSteps(c: Checker, value: Json, at: string): JsonStep[] {
  if (!Array.isArray(value) || value.length === 0) c.fail(at, 'must be a non-empty list of keys or selectors');
  return value.map((item, index): JsonStep => {
    const stepAt = join(at, index);
    if (typeof item === 'string' || typeof item === 'number') return c.string(String(item), stepAt);
    const raw = c.object(item, stepAt, ['key', 'where']);
    const where: Record<string, string> = {};
    for (const [field, expected] of Object.entries(raw.where === undefined ? {} : c.map(raw.where, join(stepAt, 'where')))) {
      where[field] = String(c.literal(expected, join(join(stepAt, 'where'), field)));
    }
    const key = c.optionalString(raw.key, join(stepAt, 'key'));
    if (key === undefined && Object.keys(where).length === 0) c.fail(stepAt, 'a selector needs a key pattern, where fields, or both');
    return { ...(key !== undefined && { key }), ...(raw.where !== undefined && { where }) };
  });
}

/** The strings of a JSON step that may use `${...}`. */
export function stepTemplates(step: JsonStep): string[] {
  return typeof step === 'string' ? [step] : [...(step.key === undefined ? [] : [step.key]), ...Object.values(step.where ?? {})];
}

function ruleSpec(c: Checker, value: Json, at: string): RuleSpec {
  const raw = c.object(value, at, ['op', 'values', 'range', 'warn_only']);
  const op = c.oneOf(raw.op, join(at, 'op'), COMPARE_OPS);
  let values: Literal[] | undefined;
  if (raw.values !== undefined) {
    if (!Array.isArray(raw.values)) c.fail(join(at, 'values'), 'must be a list');
    values = raw.values.map((item, index) => c.literal(item, join(join(at, 'values'), index)));
  }
  if (op === 'ONE_OF' && (!values || values.length === 0)) c.fail(join(at, 'values'), 'ONE_OF needs at least one value');
  const range = c.optionalString(raw.range, join(at, 'range'));
  if (op === 'SEMVER_RANGE' && range === undefined) c.fail(join(at, 'range'), 'SEMVER_RANGE needs a range');
  if (raw.warn_only !== undefined && typeof raw.warn_only !== 'boolean') c.fail(join(at, 'warn_only'), 'must be true or false');
  return { op, values, range, warn_only: raw.warn_only as boolean | undefined };
}

function requireSpec(c: Checker, value: Json, at: string): { value: Literal; reason: string } {
  const raw = c.object(value, at, ['value', 'reason']);
  return { value: c.literal(raw.value, join(at, 'value')), reason: c.string(raw.reason, join(at, 'reason')) };
}

/** `${name}` references in a template string. */
export function references(template: string): string[] {
  return [...template.matchAll(/\$\{([^}]*)\}/g)].map((match) => match[1]);
}

/**
 * Checks a parsed profile document and returns it typed. `file` names it in errors; `name`
 * defaults to the file's stem.
 */
export function validateProfile(document: Json, file: string, defaultName: string): Profile {
  const c = new Checker(file);
  const raw = c.object(document, '', ['name', 'description', 'match', 'commands', 'facts', 'descriptor', 'attributes', 'capacity', 'budgets', 'labels']);
  const name = raw.name === undefined ? defaultName : c.string(raw.name, 'name');
  if (!PROFILE_NAME.test(name)) c.fail('name', 'must be lower-case letters, digits, ".", "_" or "-" (at most 63)');

  const m = c.object(raw.match, 'match', ['kind', 'vendor', 'device', 'driver', 'type', 'parent_driver', 'files']);
  const files = m.files === undefined ? undefined : c.map(m.files, 'match.files');
  if (files) for (const [key, pattern] of Object.entries(files)) c.regex(pattern, join('match.files', key));
  const match: MatchSpec = {
    kind: c.oneOf(m.kind, 'match.kind', ['pci', 'mdev_type'] as const),
    vendor: c.optionalStrings(m.vendor, 'match.vendor')?.map((v) => v.toLowerCase().replace(/^0x/, '')),
    device: c.optionalStrings(m.device, 'match.device')?.map((v) => v.toLowerCase().replace(/^0x/, '')),
    driver: c.optionalStrings(m.driver, 'match.driver'),
    type: m.type === undefined ? undefined : c.regex(m.type, 'match.type'),
    parent_driver: c.optionalStrings(m.parent_driver, 'match.parent_driver'),
    files: files as Record<string, string> | undefined,
  };
  if (match.type !== undefined && match.kind !== 'mdev_type') c.fail('match.type', 'only for kind mdev_type');

  const commands: Record<string, CommandSpec> = {};
  for (const [key, value] of Object.entries(raw.commands === undefined ? {} : c.map(raw.commands, 'commands'))) {
    const at = join('commands', key);
    const spec = c.object(value, at, ['run', 'timeout_ms']);
    commands[key] = {
      run: c.strings(spec.run, join(at, 'run')),
      timeout_ms: spec.timeout_ms === undefined ? undefined : c.positiveInt(spec.timeout_ms, join(at, 'timeout_ms')),
    };
  }

  const facts: Record<string, FactSpec> = {};
  for (const [key, value] of Object.entries(c.map(raw.facts ?? {}, 'facts'))) {
    const at = join('facts', key);
    if (!FACT_NAME.test(key)) c.fail(at, 'a fact name is lower-case letters, digits and "_", starting with a letter');
    if ((BUILTIN_NAMES as readonly string[]).includes(key)) c.fail(at, `"${key}" is a built-in name`);
    const spec = c.object(value, at, ['from', 'path', 'module', 'command', 'parse', 'optional', 'require']);
    const from = c.oneOf(spec.from, join(at, 'from'), FACT_SOURCES);
    const fact: FactSpec = {
      from,
      path: c.optionalString(spec.path, join(at, 'path')),
      module: c.optionalString(spec.module, join(at, 'module')),
      command: c.optionalString(spec.command, join(at, 'command')),
      parse: parseSpec(c, spec.parse, join(at, 'parse')),
      optional: spec.optional === undefined ? undefined : spec.optional === true,
      require: spec.require === undefined ? undefined : requireSpec(c, spec.require, join(at, 'require')),
    };
    if (spec.optional !== undefined && typeof spec.optional !== 'boolean') c.fail(join(at, 'optional'), 'must be true or false');
    if (fact.require && fact.optional) c.fail(join(at, 'require'), 'a fact the device requires cannot be optional');
    if (fact.require) {
      try {
        literalValue(fact.require.value, fact.parse.as);
      } catch (error) {
        c.fail(join(at, 'require.value'), `${(error as Error).message} (the fact is ${fact.parse.as})`);
      }
    }
    if (from === 'sriov' && !(SRIOV_FACTS as readonly string[]).includes(fact.path ?? '')) c.fail(join(at, 'path'), `a sriov fact reads one of ${SRIOV_FACTS.join(', ')}`);
    if (from === 'command') {
      if (fact.command === undefined) c.fail(join(at, 'command'), 'a command fact names an entry of commands');
      if (!commands[fact.command!]) c.fail(join(at, 'command'), `no command "${fact.command}" in commands`);
    } else if (fact.path === undefined && from !== 'module') {
      c.fail(join(at, 'path'), `a ${from} fact needs a path`);
    }
    if (from === 'mdev_type' && match.kind !== 'mdev_type') c.fail(join(at, 'from'), 'mdev_type facts need match.kind mdev_type');
    facts[key] = fact;
  }
  const known = new Set<string>([...Object.keys(facts), ...BUILTIN_NAMES]);
  const checkTemplate = (template: string, at: string) => {
    for (const ref of references(template)) if (!known.has(ref)) c.fail(at, `\${${ref}} is neither a fact nor a built-in (${BUILTIN_NAMES.join(', ')})`);
  };
  for (const [key, spec] of Object.entries(commands)) spec.run.forEach((arg, index) => checkTemplate(arg, `commands.${key}.run[${index}]`));
  for (const [key, spec] of Object.entries(facts)) {
    if (spec.path) checkTemplate(spec.path, `facts.${key}.path`);
    spec.parse.json?.forEach((step, index) => stepTemplates(step).forEach((text) => checkTemplate(text, `facts.${key}.parse.json[${index}]`)));
    if (spec.require) checkTemplate(spec.require.reason, `facts.${key}.require.reason`);
  }

  const d = c.object(raw.descriptor, 'descriptor', ['vendor', 'device_api', 'type', 'software_version', 'software_version_rule', 'compatible_types']);
  const descriptor = {
    vendor: c.string(d.vendor, 'descriptor.vendor'),
    device_api: c.string(d.device_api, 'descriptor.device_api'),
    type: c.string(d.type, 'descriptor.type'),
    software_version: c.string(d.software_version, 'descriptor.software_version'),
    software_version_rule: d.software_version_rule === undefined ? undefined : ruleSpec(c, d.software_version_rule, 'descriptor.software_version_rule'),
    compatible_types: d.compatible_types === undefined ? undefined : (d.compatible_types as Json[]).length === 0 ? [] : c.strings(d.compatible_types, 'descriptor.compatible_types'),
  };
  if (d.compatible_types !== undefined && !Array.isArray(d.compatible_types)) c.fail('descriptor.compatible_types', 'must be a list of strings');
  for (const key of ['vendor', 'device_api', 'type', 'software_version'] as const) checkTemplate(descriptor[key], `descriptor.${key}`);
  descriptor.compatible_types?.forEach((item, index) => checkTemplate(item, `descriptor.compatible_types[${index}]`));

  const attributes: Record<string, AttributeSpec> = {};
  for (const [key, value] of Object.entries(c.map(raw.attributes ?? {}, 'attributes'))) {
    const at = join('attributes', key);
    if (!ATTRIBUTE_NAME.test(key)) c.fail(at, 'an attribute name matches ^[a-z][a-z0-9_.-]{0,62}$');
    if (RESERVED_ATTRIBUTES.has(key)) c.fail(at, `"${key}" is a built-in descriptor field, not an attribute`);
    const spec = c.object(value, at, ['fact', 'value', 'as', 'rule']);
    if ((spec.fact === undefined) === (spec.value === undefined)) c.fail(at, 'give exactly one of fact and value');
    const attribute: AttributeSpec = {
      fact: c.optionalString(spec.fact, join(at, 'fact')),
      value: spec.value === undefined ? undefined : Array.isArray(spec.value) ? c.strings(spec.value, join(at, 'value')) : c.literal(spec.value, join(at, 'value')),
      as: spec.as === undefined ? undefined : c.oneOf(spec.as, join(at, 'as'), VALUE_KINDS),
      rule: spec.rule === undefined ? undefined : ruleSpec(c, spec.rule, join(at, 'rule')),
    };
    if (attribute.fact !== undefined && !facts[attribute.fact]) c.fail(join(at, 'fact'), `no fact "${attribute.fact}" in facts`);
    if (attribute.value !== undefined && attribute.as === undefined) c.fail(join(at, 'as'), 'a literal value needs its kind');
    attributes[key] = attribute;
  }
  if (Object.keys(attributes).length > 128) c.fail('attributes', 'at most 128 attributes');

  let capacity: CapacitySpec | undefined;
  if (raw.capacity !== undefined) {
    const cap = c.object(raw.capacity, 'capacity', ['total', 'available']);
    const amount = (value: Json, at: string, extra: string[], flags: string[] = []) => {
      const spec = c.object(value, at, ['fact', 'value', ...extra, ...flags]);
      if (spec.plus_created !== undefined && spec.plus_created !== true) c.fail(join(at, 'plus_created'), 'must be true');
      if (spec.plus_created !== undefined && match.kind !== 'mdev_type') c.fail(join(at, 'plus_created'), 'only for kind mdev_type');
      const given = ['fact', 'value', ...extra].filter((key) => spec[key] !== undefined);
      if (given.length !== 1) c.fail(at, `give exactly one of ${['fact', 'value', ...extra].join(', ')}`);
      if (spec.fact !== undefined && !facts[c.string(spec.fact, join(at, 'fact'))]) c.fail(join(at, 'fact'), `no fact "${String(spec.fact)}" in facts`);
      if (spec.value !== undefined && (typeof spec.value !== 'number' || !Number.isSafeInteger(spec.value) || spec.value < 0)) c.fail(join(at, 'value'), 'must be a whole number');
      if (spec.vfio_group_free !== undefined && spec.vfio_group_free !== true) c.fail(join(at, 'vfio_group_free'), 'must be true');
      return spec as { fact?: string; value?: number; vfio_group_free?: boolean; plus_created?: boolean };
    };
    capacity = { total: amount(cap.total, 'capacity.total', [], ['plus_created']), available: amount(cap.available, 'capacity.available', ['vfio_group_free']) };
  }

  const budgets: Record<string, BudgetSpec> = {};
  for (const [key, value] of Object.entries(raw.budgets === undefined ? {} : c.map(raw.budgets, 'budgets'))) {
    const at = join('budgets', key);
    if (!FACT_NAME.test(key)) c.fail(at, 'a budget name is lower-case letters, digits and "_", starting with a letter');
    if (match.kind !== 'mdev_type') c.fail(at, 'budgets are shared by the mdev types of one parent: only for match.kind mdev_type');
    if (!capacity) c.fail(at, "a budget's available amount is inferred from each type's available instances: the profile needs capacity");
    const spec = c.object(value, at, ['per_unit']);
    const perUnit = c.object(spec.per_unit, join(at, 'per_unit'), ['fact', 'value']);
    if ((perUnit.fact === undefined) === (perUnit.value === undefined)) c.fail(join(at, 'per_unit'), 'give exactly one of fact and value');
    if (perUnit.fact !== undefined && !facts[c.string(perUnit.fact, join(at, 'per_unit.fact'))]) c.fail(join(at, 'per_unit.fact'), `no fact "${String(perUnit.fact)}" in facts`);
    if (perUnit.value !== undefined && (typeof perUnit.value !== 'number' || !Number.isSafeInteger(perUnit.value) || perUnit.value < 1)) {
      c.fail(join(at, 'per_unit.value'), 'must be a whole number, at least 1');
    }
    budgets[key] = { per_unit: perUnit as { fact?: string; value?: number } };
  }

  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw.labels === undefined ? {} : c.map(raw.labels, 'labels'))) labels[key] = c.string(value, join('labels', key));

  return {
    name,
    file,
    description: c.optionalString(raw.description, 'description'),
    match,
    commands,
    facts,
    descriptor,
    attributes,
    capacity,
    budgets,
    labels,
  };
}
