// The compatibility engine: "may a VM using S be live-migrated onto T" (spec: "Checking
// source S against target T"). Pure and synchronous; called on the order of 100k times a
// second by FindTargets, so it works on validated descriptors (Descriptor.index holds the
// lookups) and allocates little beyond the verdict itself.

import type { Check, CheckResult, CompareOp, Descriptor, Rule, Value, Verdict } from './model.ts';
import { SOFTWARE_VERSION, indexDescriptor } from './validate.ts';
import { valueEquals } from './values.ts';
import { compareVersions, isPrerelease, parseRangeStrict, satisfiesRange, versionsEqual } from './version.ts';

/** Reasons a check fails or warns (spec: stable UPPER_SNAKE strings). */
export const Reason = {
  VENDOR_MISMATCH: 'VENDOR_MISMATCH',
  DEVICE_API_MISMATCH: 'DEVICE_API_MISMATCH',
  TYPE_MISMATCH: 'TYPE_MISMATCH',
  VALUE_MISMATCH: 'VALUE_MISMATCH',
  MAJOR_VERSION_MISMATCH: 'MAJOR_VERSION_MISMATCH',
  PRERELEASE_MISMATCH: 'PRERELEASE_MISMATCH',
  MINOR_VERSION_DOWNGRADE: 'MINOR_VERSION_DOWNGRADE',
  VERSION_LOWER: 'VERSION_LOWER',
  VERSION_NOT_IN_RANGE: 'VERSION_NOT_IN_RANGE',
  NOT_SUPERSET: 'NOT_SUPERSET',
  NOT_SUBSET: 'NOT_SUBSET',
  VALUE_TOO_LOW: 'VALUE_TOO_LOW',
  VALUE_TOO_HIGH: 'VALUE_TOO_HIGH',
  VALUE_NOT_ACCEPTED: 'VALUE_NOT_ACCEPTED',
  NOT_CLAIMABLE: 'NOT_CLAIMABLE',
  ATTRIBUTE_MISSING: 'ATTRIBUTE_MISSING',
  KIND_MISMATCH: 'KIND_MISMATCH',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

const PASS: CheckResult = 'CHECK_RESULT_PASS';
const FAIL: CheckResult = 'CHECK_RESULT_FAIL';
const WARN: CheckResult = 'CHECK_RESULT_WARN';
/** A passing check's reason. */
const OK = '';
const EMPTY: readonly string[] = [];

/**
 * Checks source S against target T. The target's rules apply (the source's are ignored);
 * every check is made, with no short circuit, so the verdict lists every reason at once.
 */
export function evaluate(source: Descriptor, target: Descriptor): Verdict {
  const s = source.index ?? indexDescriptor(source);
  const t = target.index ?? indexDescriptor(target);
  const checks: Check[] = [];
  const requiredSettings = new Map<string, Value>();
  let failed = false;
  let warned = false;

  const add = (check: Check): void => {
    checks.push(check);
    if (check.result === FAIL) failed = true;
    else if (check.result === WARN) warned = true;
  };

  // Built-in checks. vendor, device_api and type have no rule: they are always hard.
  const sameVendor = source.vendor === target.vendor;
  add(builtin('vendor', sameVendor, sameVendor ? OK : Reason.VENDOR_MISMATCH, s.vendor, t.vendor));
  const sameApi = source.deviceApi === target.deviceApi;
  add(builtin('device_api', sameApi, sameApi ? OK : Reason.DEVICE_API_MISMATCH, s.deviceApi, t.deviceApi));
  // `equal` is strict type equality (ranking prefers the very type); passing also accepts a
  // type the target declares compatible.
  const sameType = source.type === target.type;
  const typeOk = sameType || target.compatibleTypes.includes(source.type);
  add(builtin('type', sameType, typeOk ? OK : Reason.TYPE_MISMATCH, s.type, t.type));
  add(
    attributeCheck(
      SOFTWARE_VERSION,
      target.rules.get(SOFTWARE_VERSION),
      'COMPARE_OP_SEMVER',
      s.softwareVersion,
      t.softwareVersion,
      requiredSettings,
    ),
  );

  // One check per name in S.attributes ∪ T.attributes ∪ T.rules, in name order: a merge of
  // two sorted lists (the source brings its attribute names, the target its attribute
  // names and rule keys).
  const a = s.attributeNames;
  const b = t.targetNames;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let name: string;
    if (j >= b.length || (i < a.length && a[i] < b[j])) name = a[i++];
    else if (i >= a.length || b[j] < a[i]) name = b[j++];
    else {
      name = a[i++];
      j++;
    }
    const rule = target.rules.get(name);
    add(
      attributeCheck(name, rule, 'COMPARE_OP_EQUAL', source.attributes.get(name), target.attributes.get(name), requiredSettings),
    );
  }

  return {
    verdict: failed ? 'VERDICT_INCOMPATIBLE' : warned ? 'VERDICT_COMPATIBLE_WITH_WARNINGS' : 'VERDICT_COMPATIBLE',
    checks,
    requiredSettings,
  };
}

function builtin(attribute: string, equal: boolean, reason: string, source: Value, target: Value): Check {
  return {
    attribute,
    op: 'COMPARE_OP_EQUAL',
    result: reason === OK ? PASS : FAIL,
    reason,
    source,
    target,
    equal,
  };
}

/** One rule-driven check; records S's value in requiredSettings when a CLAIMABLE check passes. */
function attributeCheck(
  attribute: string,
  rule: Rule | undefined,
  defaultOp: CompareOp,
  source: Value | undefined,
  target: Value | undefined,
  requiredSettings: Map<string, Value>,
): Check {
  const op = rule === undefined ? defaultOp : rule.op;
  const reason = compare(op, rule, source, target);
  // The spec adds the setting for a passing CLAIMABLE check "whatever the other checks say";
  // a CLAIMABLE check that passes with no value on either side has nothing to claim.
  if (reason === OK && op === 'COMPARE_OP_CLAIMABLE' && source !== undefined) {
    requiredSettings.set(attribute, source);
  }
  return {
    attribute,
    op,
    result: reason === OK ? PASS : rule !== undefined && rule.warnOnly ? WARN : FAIL,
    reason,
    source,
    target,
    equal: valueEquals(source, target),
  };
}

/**
 * Applies one operator. Returns OK ('') when the check passes, else the reason.
 *
 * Order of the questions, where the spec leaves it open: (1) present on neither side passes;
 * (2) a present value the op reads that is of a kind the op does not take gives
 * KIND_MISMATCH; (3) a needed value that is missing gives ATTRIBUTE_MISSING (or the
 * SUPERSET/SUBSET empty-set rules); (4) the comparison itself.
 */
export function compare(op: CompareOp, rule: Rule | undefined, s: Value | undefined, t: Value | undefined): string {
  if (s === undefined && t === undefined) return OK;
  switch (op) {
    case 'COMPARE_OP_EQUAL':
      if (s === undefined || t === undefined) return Reason.ATTRIBUTE_MISSING;
      if (s.kind !== t.kind) return Reason.KIND_MISMATCH;
      return valueEquals(s, t) ? OK : Reason.VALUE_MISMATCH;

    case 'COMPARE_OP_SEMVER':
      if (notKind(s, 'version') || notKind(t, 'version')) return Reason.KIND_MISMATCH;
      if (s === undefined || t === undefined) return Reason.ATTRIBUTE_MISSING;
      return semverReason((s as VersionValue).version, (t as VersionValue).version);

    case 'COMPARE_OP_VERSION_GE':
      if (notKind(s, 'version') || notKind(t, 'version')) return Reason.KIND_MISMATCH;
      if (s === undefined || t === undefined) return Reason.ATTRIBUTE_MISSING;
      return compareVersions((t as VersionValue).version, (s as VersionValue).version) >= 0 ? OK : Reason.VERSION_LOWER;

    case 'COMPARE_OP_SEMVER_RANGE': {
      // Only S is read: T's value (kind or absence) does not matter.
      if (s === undefined) return Reason.ATTRIBUTE_MISSING;
      if (s.kind !== 'version') return Reason.KIND_MISMATCH;
      const range = rule?.compiledRange ?? parseRangeStrict(rule?.range ?? '');
      return range !== null && satisfiesRange(s.version, range) ? OK : Reason.VERSION_NOT_IN_RANGE;
    }

    case 'COMPARE_OP_SUPERSET': {
      if (!isSetLike(s) || !isSetLike(t)) return Reason.KIND_MISMATCH;
      // A missing source is the empty set; a missing target only holds an empty source.
      const sourceSet = s === undefined ? EMPTY : members(s);
      if (t === undefined) return sourceSet.length === 0 ? OK : Reason.NOT_SUPERSET;
      return isSubsetOf(sourceSet, members(t)) ? OK : Reason.NOT_SUPERSET;
    }

    case 'COMPARE_OP_SUBSET': {
      if (!isSetLike(s) || !isSetLike(t)) return Reason.KIND_MISMATCH;
      const targetSet = t === undefined ? EMPTY : members(t);
      if (s === undefined) return targetSet.length === 0 ? OK : Reason.NOT_SUBSET;
      return isSubsetOf(targetSet, members(s)) ? OK : Reason.NOT_SUBSET;
    }

    case 'COMPARE_OP_GE':
    case 'COMPARE_OP_LE': {
      if (notKind(s, 'int') || notKind(t, 'int')) return Reason.KIND_MISMATCH;
      if (s === undefined || t === undefined) return Reason.ATTRIBUTE_MISSING;
      const sv = (s as IntValue).int;
      const tv = (t as IntValue).int;
      if (op === 'COMPARE_OP_GE') return tv >= sv ? OK : Reason.VALUE_TOO_LOW;
      return tv <= sv ? OK : Reason.VALUE_TOO_HIGH;
    }

    case 'COMPARE_OP_ONE_OF':
      // Only S is read; a value of another kind simply matches none of the values.
      if (s === undefined) return Reason.ATTRIBUTE_MISSING;
      return oneOf(s, rule?.values ?? []) ? OK : Reason.VALUE_NOT_ACCEPTED;

    case 'COMPARE_OP_CLAIMABLE': {
      const accepted = rule?.values ?? [];
      if (accepted.length > 0) {
        if (s === undefined) return Reason.ATTRIBUTE_MISSING;
        return oneOf(s, accepted) ? OK : Reason.NOT_CLAIMABLE;
      }
      // No values: the dynamic resource is 1:1 with the target's current value.
      if (s === undefined || t === undefined) return Reason.ATTRIBUTE_MISSING;
      return valueEquals(s, t) ? OK : Reason.NOT_CLAIMABLE;
    }

    case 'COMPARE_OP_IGNORE':
      return OK;
  }
}

type VersionValue = Extract<Value, { kind: 'version' }>;
type IntValue = Extract<Value, { kind: 'int' }>;

/**
 * SEMVER: same major, and T.minor >= S.minor (patch ignored); with a prerelease on either
 * side both must be the identical version. Asked in the spec's order (major, prerelease,
 * minor) so that the first failing question names the reason.
 */
function semverReason(sv: VersionValue['version'], tv: VersionValue['version']): string {
  if (sv.semver.major !== tv.semver.major) return Reason.MAJOR_VERSION_MISMATCH;
  if ((isPrerelease(sv) || isPrerelease(tv)) && !versionsEqual(sv, tv)) return Reason.PRERELEASE_MISMATCH;
  if (tv.semver.minor < sv.semver.minor) return Reason.MINOR_VERSION_DOWNGRADE;
  return OK;
}

/** True when a value is present and not of the kind. */
function notKind(value: Value | undefined, kind: Value['kind']): boolean {
  return value !== undefined && value.kind !== kind;
}

/** SUPERSET/SUBSET take sets and strings (absent counts as fine here). */
function isSetLike(value: Value | undefined): boolean {
  return value === undefined || value.kind === 'set' || value.kind === 'string';
}

/** A set's members; a string counts as a one-element set. */
function members(value: Value): readonly string[] {
  return value.kind === 'set' ? value.set : [(value as Extract<Value, { kind: 'string' }>).str];
}

/** small ⊆ big, both sorted and without duplicates. */
function isSubsetOf(small: readonly string[], big: readonly string[]): boolean {
  if (small.length > big.length) return false;
  let j = 0;
  for (let i = 0; i < small.length; i++) {
    const wanted = small[i];
    while (j < big.length && big[j] < wanted) j++;
    if (j >= big.length || big[j] !== wanted) return false;
    j++;
  }
  return true;
}

function oneOf(value: Value, accepted: readonly Value[]): boolean {
  for (let i = 0; i < accepted.length; i++) if (valueEquals(value, accepted[i])) return true;
  return false;
}
