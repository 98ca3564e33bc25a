// Original file: proto/devcompat/v1/compatibility.proto

/**
 * Verdict is the overall answer of a check.
 */
export const Verdict = {
  /**
   * VERDICT_UNSPECIFIED is never sent.
   */
  VERDICT_UNSPECIFIED: 'VERDICT_UNSPECIFIED',
  /**
   * VERDICT_COMPATIBLE means every check passed.
   */
  VERDICT_COMPATIBLE: 'VERDICT_COMPATIBLE',
  /**
   * VERDICT_COMPATIBLE_WITH_WARNINGS means no check failed and at least one warned.
   */
  VERDICT_COMPATIBLE_WITH_WARNINGS: 'VERDICT_COMPATIBLE_WITH_WARNINGS',
  /**
   * VERDICT_INCOMPATIBLE means at least one check failed.
   */
  VERDICT_INCOMPATIBLE: 'VERDICT_INCOMPATIBLE',
} as const;

/**
 * Verdict is the overall answer of a check.
 */
export type Verdict =
  /**
   * VERDICT_UNSPECIFIED is never sent.
   */
  | 'VERDICT_UNSPECIFIED'
  | 0
  /**
   * VERDICT_COMPATIBLE means every check passed.
   */
  | 'VERDICT_COMPATIBLE'
  | 1
  /**
   * VERDICT_COMPATIBLE_WITH_WARNINGS means no check failed and at least one warned.
   */
  | 'VERDICT_COMPATIBLE_WITH_WARNINGS'
  | 2
  /**
   * VERDICT_INCOMPATIBLE means at least one check failed.
   */
  | 'VERDICT_INCOMPATIBLE'
  | 3

/**
 * Verdict is the overall answer of a check.
 */
export type Verdict__Output = typeof Verdict[keyof typeof Verdict]
