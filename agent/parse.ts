// Turning the text of a sysfs file or a command's output into a typed fact, as a profile's
// `parse` says: pick a JSON path (keys, or selectors that pick the member holding given
// values) or a `key=value` field, apply a regular expression and a table, then read the kind.
// Pure: text in, value or a reason out.

import semver from 'semver';
import type { JsonSelector, JsonStep, Literal, ParseSpec, ValueKind } from './profile-schema.ts';

export type FactValue =
  | { readonly kind: 'string' | 'hex_id'; readonly value: string }
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'version'; readonly value: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'set' | 'bits'; readonly value: readonly string[] };

/** A value that is absent (a missing field): the fact may be optional. Anything else is a ParseFailure. */
export class MissingValue extends Error {}
export class ParseFailure extends Error {}

/** `key=value` or `key: value` pairs separated by newlines or commas (mdev descriptions, `nvidia-smi -q`). */
export function fieldOf(text: string, key: string): string | undefined {
  for (const part of text.split(/[\n,]/)) {
    const match = /^\s*([^=:]+?)\s*[=:]\s*(.*?)\s*$/.exec(part);
    if (match && match[1] === key) return match[2];
  }
  return undefined;
}

function jsonOf(text: string, steps: readonly JsonStep[]): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ParseFailure(`not JSON (${(error as Error).message})`);
  }
  const missing = () => new MissingValue(`no "${steps.map(stepText).join('.')}" in the JSON output`);
  for (const step of steps) {
    if (typeof value !== 'object' || value === null) throw missing();
    if (typeof step === 'string') {
      if (!Object.hasOwn(value, step)) throw missing();
      value = (value as Record<string, unknown>)[step];
      continue;
    }
    const found = members(value).filter(([name, member]) => selects(step, name, member));
    if (found.length === 0) throw missing();
    // Two members holding what one should is a question the profile did not settle: never guess.
    if (found.length > 1) throw new ParseFailure(`${found.length} members match ${stepText(step)}: ${found.map(([name]) => name).join(', ')}`);
    value = found[0][1];
  }
  return value;
}

function members(value: object): [string, unknown][] {
  return Array.isArray(value) ? value.map((item, index): [string, unknown] => [String(index), item]) : Object.entries(value);
}

function selects(selector: JsonSelector, name: string, member: unknown): boolean {
  if (selector.key !== undefined && !globPattern(selector.key).test(name)) return false;
  return Object.entries(selector.where ?? {}).every(([field, expected]) => {
    if (typeof member !== 'object' || member === null || !Object.hasOwn(member, field)) return false;
    const actual = (member as Record<string, unknown>)[field];
    return (typeof actual === 'string' || typeof actual === 'number' || typeof actual === 'boolean') && String(actual) === expected;
  });
}

/** A `*` matches any run of characters; everything else stands for itself. */
function globPattern(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

function stepText(step: JsonStep): string {
  if (typeof step === 'string') return step;
  const parts = [...(step.key === undefined ? [] : [step.key]), ...Object.entries(step.where ?? {}).map(([field, expected]) => `${field}=${expected}`)];
  return `[${parts.join(' ')}]`;
}

/** Reads `text` as `spec` says; `steps` are the JSON path with its `${...}` already filled in. */
export function parseValue(text: string, spec: ParseSpec, steps: readonly JsonStep[] | undefined = spec.json): FactValue {
  let raw: unknown = text;
  if (steps) raw = jsonOf(text, steps);
  else if (spec.field !== undefined) {
    const value = fieldOf(text, spec.field);
    if (value === undefined) throw new MissingValue(`no field "${spec.field}"`);
    raw = value;
  }
  if (typeof raw === 'string') raw = raw.trim();
  if (spec.match !== undefined) {
    const found = new RegExp(spec.match).exec(String(raw));
    if (!found) throw new ParseFailure(`"${clip(String(raw))}" does not match /${spec.match}/`);
    raw = found[1] ?? found[0];
  }
  if (spec.map !== undefined) {
    const key = String(raw);
    if (!Object.hasOwn(spec.map, key)) throw new ParseFailure(`"${clip(key)}" is not one of ${Object.keys(spec.map).join(', ')}`);
    raw = spec.map[key];
  }
  return typed(raw, spec);
}

/** A literal of a profile (`value:` of an attribute, a rule's `values`) as a value of `kind`. */
export function literalValue(raw: Literal | readonly string[], kind: ValueKind): FactValue {
  return typed(raw, { as: kind });
}

function typed(raw: unknown, spec: Pick<ParseSpec, 'as' | 'separator'>): FactValue {
  const text = Array.isArray(raw) ? '' : String(raw);
  switch (spec.as) {
    case 'string':
      if (text === '') throw new ParseFailure('empty');
      return { kind: 'string', value: text };
    case 'hex_id': {
      const id = text.toLowerCase().replace(/^0x/, '');
      if (!/^[0-9a-f]+$/.test(id)) throw new ParseFailure(`"${clip(text)}" is not a hexadecimal id`);
      return { kind: 'hex_id', value: id };
    }
    case 'int': {
      if (typeof raw === 'number' && Number.isSafeInteger(raw)) return { kind: 'int', value: raw };
      const value = /^0x[0-9a-f]+$/i.test(text) ? Number.parseInt(text, 16) : /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
      if (!Number.isSafeInteger(value)) throw new ParseFailure(`"${clip(text)}" is not an integer`);
      return { kind: 'int', value };
    }
    case 'version': {
      const version = semver.valid(text, { loose: true });
      if (version === null) throw new ParseFailure(`"${clip(text)}" is not a version (major.minor.patch)`);
      return { kind: 'version', value: text };
    }
    case 'bool': {
      if (typeof raw === 'boolean') return { kind: 'bool', value: raw };
      if (/^(1|y|yes|true|on|enabled)$/i.test(text)) return { kind: 'bool', value: true };
      if (/^(0|n|no|false|off|disabled)$/i.test(text)) return { kind: 'bool', value: false };
      throw new ParseFailure(`"${clip(text)}" is not a boolean`);
    }
    case 'set': {
      const parts = Array.isArray(raw) ? raw.map(String) : spec.separator === undefined ? text.split(/[\s,;]+/) : text.split(spec.separator);
      return { kind: 'set', value: [...new Set(parts.map((part) => part.trim()).filter((part) => part !== ''))].sort() };
    }
    case 'bits': {
      // virtio's `features` file: one character per feature bit, bit 0 first.
      if (!/^[01]+$/.test(text)) throw new ParseFailure(`"${clip(text)}" is not a string of 0 and 1`);
      const bits: string[] = [];
      for (let bit = 0; bit < text.length; bit++) if (text[bit] === '1') bits.push(String(bit));
      return { kind: 'bits', value: bits };
    }
  }
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
