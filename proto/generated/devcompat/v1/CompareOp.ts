// Original file: proto/devcompat/v1/descriptor.proto

/**
 * CompareOp is how a target device compares one attribute with the source's value.
 * The full semantics are in docs/model.md.
 */
export const CompareOp = {
  /**
   * COMPARE_OP_UNSPECIFIED is invalid in a rule: every rule names its operator.
   */
  COMPARE_OP_UNSPECIFIED: 'COMPARE_OP_UNSPECIFIED',
  /**
   * COMPARE_OP_EQUAL passes when both values have the same kind and are equal.
   */
  COMPARE_OP_EQUAL: 'COMPARE_OP_EQUAL',
  /**
   * COMPARE_OP_SEMVER passes on the same major with target minor >= source minor.
   */
  COMPARE_OP_SEMVER: 'COMPARE_OP_SEMVER',
  /**
   * COMPARE_OP_VERSION_GE passes when the target version >= the source version.
   */
  COMPARE_OP_VERSION_GE: 'COMPARE_OP_VERSION_GE',
  /**
   * COMPARE_OP_SEMVER_RANGE passes when the source version satisfies the rule's range.
   */
  COMPARE_OP_SEMVER_RANGE: 'COMPARE_OP_SEMVER_RANGE',
  /**
   * COMPARE_OP_SUPERSET passes when the target set contains the source set.
   */
  COMPARE_OP_SUPERSET: 'COMPARE_OP_SUPERSET',
  /**
   * COMPARE_OP_SUBSET passes when the target set is contained in the source set.
   */
  COMPARE_OP_SUBSET: 'COMPARE_OP_SUBSET',
  /**
   * COMPARE_OP_GE passes when the target integer >= the source integer.
   */
  COMPARE_OP_GE: 'COMPARE_OP_GE',
  /**
   * COMPARE_OP_LE passes when the target integer <= the source integer.
   */
  COMPARE_OP_LE: 'COMPARE_OP_LE',
  /**
   * COMPARE_OP_ONE_OF passes when the source value is one of the rule's values.
   */
  COMPARE_OP_ONE_OF: 'COMPARE_OP_ONE_OF',
  /**
   * COMPARE_OP_CLAIMABLE marks a dynamic resource the target is set to when claimed.
   */
  COMPARE_OP_CLAIMABLE: 'COMPARE_OP_CLAIMABLE',
  /**
   * COMPARE_OP_IGNORE always passes: the attribute is informational.
   */
  COMPARE_OP_IGNORE: 'COMPARE_OP_IGNORE',
} as const;

/**
 * CompareOp is how a target device compares one attribute with the source's value.
 * The full semantics are in docs/model.md.
 */
export type CompareOp =
  /**
   * COMPARE_OP_UNSPECIFIED is invalid in a rule: every rule names its operator.
   */
  | 'COMPARE_OP_UNSPECIFIED'
  | 0
  /**
   * COMPARE_OP_EQUAL passes when both values have the same kind and are equal.
   */
  | 'COMPARE_OP_EQUAL'
  | 1
  /**
   * COMPARE_OP_SEMVER passes on the same major with target minor >= source minor.
   */
  | 'COMPARE_OP_SEMVER'
  | 2
  /**
   * COMPARE_OP_VERSION_GE passes when the target version >= the source version.
   */
  | 'COMPARE_OP_VERSION_GE'
  | 3
  /**
   * COMPARE_OP_SEMVER_RANGE passes when the source version satisfies the rule's range.
   */
  | 'COMPARE_OP_SEMVER_RANGE'
  | 4
  /**
   * COMPARE_OP_SUPERSET passes when the target set contains the source set.
   */
  | 'COMPARE_OP_SUPERSET'
  | 5
  /**
   * COMPARE_OP_SUBSET passes when the target set is contained in the source set.
   */
  | 'COMPARE_OP_SUBSET'
  | 6
  /**
   * COMPARE_OP_GE passes when the target integer >= the source integer.
   */
  | 'COMPARE_OP_GE'
  | 7
  /**
   * COMPARE_OP_LE passes when the target integer <= the source integer.
   */
  | 'COMPARE_OP_LE'
  | 8
  /**
   * COMPARE_OP_ONE_OF passes when the source value is one of the rule's values.
   */
  | 'COMPARE_OP_ONE_OF'
  | 9
  /**
   * COMPARE_OP_CLAIMABLE marks a dynamic resource the target is set to when claimed.
   */
  | 'COMPARE_OP_CLAIMABLE'
  | 10
  /**
   * COMPARE_OP_IGNORE always passes: the attribute is informational.
   */
  | 'COMPARE_OP_IGNORE'
  | 11

/**
 * CompareOp is how a target device compares one attribute with the source's value.
 * The full semantics are in docs/model.md.
 */
export type CompareOp__Output = typeof CompareOp[keyof typeof CompareOp]
