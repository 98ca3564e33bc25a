// The compatibility model's types (../../docs/model.md). This folder is the pure core:
// it imports neither grpc nor better-sqlite3, so the engine can be tested, benchmarked and
// replayed on its own.

import type { Range, SemVer } from 'semver';

/** The model this engine implements; recorded in every verdict so it can be replayed. */
export const COMPAT_MODEL_VERSION = 'compat-model/1';
/** This implementation of the model; bump when verdict-affecting behaviour changes. */
export const ENGINE_IMPLEMENTATION = 'devcompat-engine/0.1.0';

export const COMPARE_OPS = [
  'COMPARE_OP_EQUAL',
  'COMPARE_OP_SEMVER',
  'COMPARE_OP_VERSION_GE',
  'COMPARE_OP_SEMVER_RANGE',
  'COMPARE_OP_SUPERSET',
  'COMPARE_OP_SUBSET',
  'COMPARE_OP_GE',
  'COMPARE_OP_LE',
  'COMPARE_OP_ONE_OF',
  'COMPARE_OP_CLAIMABLE',
  'COMPARE_OP_IGNORE',
] as const;
export type CompareOp = (typeof COMPARE_OPS)[number];

export type VerdictKind =
  | 'VERDICT_COMPATIBLE'
  | 'VERDICT_COMPATIBLE_WITH_WARNINGS'
  | 'VERDICT_INCOMPATIBLE';

export type CheckResult = 'CHECK_RESULT_PASS' | 'CHECK_RESULT_FAIL' | 'CHECK_RESULT_WARN';

// ---------------------------------------------------------------------------------------
// Input shapes: what arrives from gRPC (proto-loader objects, keepCase) or from JSON files
// (proto field names). Everything is optional here because nothing has been validated yet.

export interface SetValueInput {
  values?: readonly string[] | null;
}

export interface AttributeValueInput {
  int_value?: string | number | bigint | null;
  string_value?: string | null;
  bool_value?: boolean | null;
  version_value?: string | null;
  set_value?: SetValueInput | null;
  /** proto-loader's oneof discriminator (`oneofs: true`); informational only. */
  kind?: string | null;
}

export interface RuleInput {
  op?: string | null;
  values?: readonly AttributeValueInput[] | null;
  range?: string | null;
  warn_only?: boolean | null;
}

export interface DescriptorInput {
  vendor?: string | null;
  device_api?: string | null;
  type?: string | null;
  compatible_types?: readonly string[] | null;
  software_version?: string | null;
  attributes?: Readonly<Record<string, AttributeValueInput>> | null;
  rules?: Readonly<Record<string, RuleInput>> | null;
}

// ---------------------------------------------------------------------------------------
// Validated, canonical shapes: what the engine computes with.

export interface Version {
  /** Canonical text: normalized semver, build metadata kept (`v1.2.3+b` -> `1.2.3+b`). */
  readonly text: string;
  readonly semver: SemVer;
}

export type Value =
  | { readonly kind: 'int'; readonly int: bigint }
  | { readonly kind: 'string'; readonly str: string }
  | { readonly kind: 'bool'; readonly bool: boolean }
  | { readonly kind: 'version'; readonly version: Version }
  | { readonly kind: 'set'; readonly set: readonly string[] }; // sorted, no duplicates

export interface Rule {
  readonly op: CompareOp;
  /** ONE_OF / CLAIMABLE accepted values, canonical, sorted by canonical JSON, deduplicated. */
  readonly values: readonly Value[];
  /** SEMVER_RANGE: the range text as given (validated strictly). */
  readonly range: string;
  readonly warnOnly: boolean;
  /**
   * `range` parsed once by validateDescriptor (SEMVER_RANGE only), so the engine never parses
   * a range per check. Absent on hand-built rules; the engine then parses `range` itself.
   */
  readonly compiledRange?: Range;
}

export interface Descriptor {
  readonly vendor: string;
  readonly deviceApi: string;
  readonly type: string;
  /** Sorted, no duplicates: the order never mattered. */
  readonly compatibleTypes: readonly string[];
  readonly softwareVersion: Version;
  /** Sorted by name. */
  readonly attributes: ReadonlyMap<string, Value>;
  /** Sorted by name. */
  readonly rules: ReadonlyMap<string, Rule>;
  /**
   * The canonical JSON encoding (proto field names, sorted keys, int64 as decimal strings).
   * Two descriptors are the same exactly when their keys are equal.
   */
  readonly key: string;
  /**
   * Lookups the engine needs on every check, computed once by validateDescriptor. Absent on
   * hand-built descriptors; the engine then derives them itself (slower, same verdict).
   */
  readonly index?: DescriptorIndex;
}

/** Precomputed, derived data of a Descriptor (see Descriptor.index); never part of its key. */
export interface DescriptorIndex {
  /** The keys of `attributes`, sorted: the names this descriptor brings as a source. */
  readonly attributeNames: readonly string[];
  /**
   * The keys of `attributes` and `rules` (minus the `software_version` rule, a built-in
   * check), sorted and deduplicated: the names this descriptor brings as a target.
   */
  readonly targetNames: readonly string[];
  /** The built-in fields as values, as verdicts show them. */
  readonly vendor: Value;
  readonly deviceApi: Value;
  readonly type: Value;
  readonly softwareVersion: Value;
}

// ---------------------------------------------------------------------------------------
// Verdicts.

export interface Check {
  /** `vendor`, `device_api`, `type`, `software_version`, or an attribute name. */
  readonly attribute: string;
  readonly op: CompareOp;
  readonly result: CheckResult;
  /** Stable UPPER_SNAKE reason; empty when the check passed. */
  readonly reason: string;
  readonly source?: Value;
  readonly target?: Value;
  /** Source and target values are equal in EQUAL's sense (both absent counts as equal). */
  readonly equal: boolean;
}

export interface Verdict {
  readonly verdict: VerdictKind;
  /** Built-ins first (vendor, device_api, type, software_version), then attributes by name. */
  readonly checks: readonly Check[];
  /** Attribute name -> the value a passing CLAIMABLE check asks the target to be set to. */
  readonly requiredSettings: ReadonlyMap<string, Value>;
}

export interface Capacity {
  readonly total: number;
  readonly available: number;
}
