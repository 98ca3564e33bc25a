// ESTIMATE ONLY: a small re-reading of the compatibility model's checks, enough to tune the
// fleet's compatible counts before the server measures them. Not the engine, not a reference
// for it: the server's verdicts are the numbers that count.

import type { AttributeValueJson, DescriptorJson, RuleJson } from './fleet-types.ts';

const version = (v: string): AttributeValueJson => ({ version_value: v });

/** A target the server examines for `source`: same vendor and device_api, and its type or one compatible with it. */
export function isCandidate(source: DescriptorJson, target: DescriptorJson): boolean {
  return (
    source.vendor === target.vendor &&
    source.device_api === target.device_api &&
    (source.type === target.type || (target.compatible_types ?? []).includes(source.type))
  );
}

type Estimate = 'compatible' | 'warnings' | 'incompatible';

interface ParsedVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly prerelease: string;
}

function parseVersion(text: string | undefined): ParsedVersion | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec((text ?? '').trim());
  return m === null
    ? undefined
    : { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), prerelease: m[4] ?? '' };
}

function compareVersions(a: ParsedVersion, b: ParsedVersion): number {
  if (a.major !== b.major) return a.major - b.major;
  if (a.minor !== b.minor) return a.minor - b.minor;
  if (a.patch !== b.patch) return a.patch - b.patch;
  if (a.prerelease === b.prerelease) return 0;
  if (a.prerelease === '') return 1;
  if (b.prerelease === '') return -1;
  return a.prerelease < b.prerelease ? -1 : 1; // approximate: identifiers compared as text
}

function semverPasses(s: ParsedVersion, t: ParsedVersion): boolean {
  if (s.major !== t.major) return false;
  if ((s.prerelease !== '' || t.prerelease !== '') && compareVersions(s, t) !== 0) return false;
  return t.minor >= s.minor;
}

type Kind = 'int' | 'string' | 'bool' | 'version' | 'set';

function kindOf(v: AttributeValueJson): Kind {
  if ('int_value' in v) return 'int';
  if ('string_value' in v) return 'string';
  if ('bool_value' in v) return 'bool';
  if ('version_value' in v) return 'version';
  return 'set';
}

function asSet(v: AttributeValueJson): Set<string> | undefined {
  if ('set_value' in v) return new Set(v.set_value.values);
  if ('string_value' in v) return new Set([v.string_value]);
  return undefined;
}

function valuesEqual(a: AttributeValueJson, b: AttributeValueJson): boolean {
  const kind = kindOf(a);
  if (kind !== kindOf(b)) return false;
  if (kind === 'set') {
    const x = asSet(a) ?? new Set();
    const y = asSet(b) ?? new Set();
    return x.size === y.size && [...x].every((e) => y.has(e));
  }
  if (kind === 'version') {
    const x = parseVersion((a as { version_value: string }).version_value);
    const y = parseVersion((b as { version_value: string }).version_value);
    return x !== undefined && y !== undefined && compareVersions(x, y) === 0;
  }
  return Object.values(a)[0] === Object.values(b)[0];
}

function isSuperset(big: AttributeValueJson | undefined, small: AttributeValueJson | undefined): boolean {
  const smallSet = small === undefined ? new Set<string>() : asSet(small);
  if (smallSet === undefined) return false;
  if (big === undefined) return smallSet.size === 0;
  const bigSet = asSet(big);
  return bigSet !== undefined && [...smallSet].every((e) => bigSet.has(e));
}

function attributeCheckPasses(
  rule: RuleJson | undefined,
  s: AttributeValueJson | undefined,
  t: AttributeValueJson | undefined,
): boolean {
  const op = rule?.op ?? 'COMPARE_OP_EQUAL';
  if (op === 'COMPARE_OP_IGNORE') return true;
  if (op === 'COMPARE_OP_SEMVER_RANGE') throw new Error(`the fleet's compatibility estimate does not model ${op}`);
  if (op === 'COMPARE_OP_ONE_OF') return s !== undefined && (rule?.values ?? []).some((v) => valuesEqual(s, v));
  if (op === 'COMPARE_OP_CLAIMABLE' && (rule?.values ?? []).length > 0) {
    return s !== undefined && (rule?.values ?? []).some((v) => valuesEqual(s, v));
  }
  if (s === undefined && t === undefined) return true;
  switch (op) {
    case 'COMPARE_OP_SUPERSET':
      return isSuperset(t, s);
    case 'COMPARE_OP_SUBSET':
      return isSuperset(s, t);
    default:
      break;
  }
  if (s === undefined || t === undefined) return false;
  switch (op) {
    case 'COMPARE_OP_EQUAL':
    case 'COMPARE_OP_CLAIMABLE':
      return valuesEqual(s, t);
    case 'COMPARE_OP_GE':
    case 'COMPARE_OP_LE': {
      if (!('int_value' in s) || !('int_value' in t)) return false;
      return op === 'COMPARE_OP_GE' ? t.int_value >= s.int_value : t.int_value <= s.int_value;
    }
    case 'COMPARE_OP_SEMVER':
    case 'COMPARE_OP_VERSION_GE': {
      const sv = 'version_value' in s ? parseVersion(s.version_value) : undefined;
      const tv = 'version_value' in t ? parseVersion(t.version_value) : undefined;
      if (sv === undefined || tv === undefined) return false;
      return op === 'COMPARE_OP_SEMVER' ? semverPasses(sv, tv) : compareVersions(tv, sv) >= 0;
    }
    default:
      throw new Error(`the fleet's compatibility estimate does not model ${op}`);
  }
}

/** ESTIMATE of the verdict for migrating `source` onto `target` (the target's rules apply). */
export function estimateVerdict(source: DescriptorJson, target: DescriptorJson): Estimate {
  let failed = !isCandidate(source, target);
  let warned = false;
  const record = (passes: boolean, rule: RuleJson | undefined): void => {
    if (passes) return;
    if (rule?.warn_only === true) warned = true;
    else failed = true;
  };
  const versionRule = target.rules['software_version'] ?? { op: 'COMPARE_OP_SEMVER' };
  record(
    attributeCheckPasses(versionRule, version(source.software_version), version(target.software_version)),
    versionRule,
  );
  const names = new Set([
    ...Object.keys(source.attributes),
    ...Object.keys(target.attributes),
    ...Object.keys(target.rules).filter((n) => n !== 'software_version'),
  ]);
  for (const name of names) {
    const rule = target.rules[name];
    record(attributeCheckPasses(rule, source.attributes[name], target.attributes[name]), rule);
  }
  return failed ? 'incompatible' : warned ? 'warnings' : 'compatible';
}
