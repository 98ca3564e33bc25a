// Original file: proto/devcompat/v1/compatibility.proto

/**
 * CheckResult is the outcome of one check.
 */
export const CheckResult = {
  /**
   * CHECK_RESULT_UNSPECIFIED is never sent.
   */
  CHECK_RESULT_UNSPECIFIED: 'CHECK_RESULT_UNSPECIFIED',
  /**
   * CHECK_RESULT_PASS means the check passed.
   */
  CHECK_RESULT_PASS: 'CHECK_RESULT_PASS',
  /**
   * CHECK_RESULT_FAIL means the check failed; the verdict is incompatible.
   */
  CHECK_RESULT_FAIL: 'CHECK_RESULT_FAIL',
  /**
   * CHECK_RESULT_WARN means a warn-only rule failed.
   */
  CHECK_RESULT_WARN: 'CHECK_RESULT_WARN',
} as const;

/**
 * CheckResult is the outcome of one check.
 */
export type CheckResult =
  /**
   * CHECK_RESULT_UNSPECIFIED is never sent.
   */
  | 'CHECK_RESULT_UNSPECIFIED'
  | 0
  /**
   * CHECK_RESULT_PASS means the check passed.
   */
  | 'CHECK_RESULT_PASS'
  | 1
  /**
   * CHECK_RESULT_FAIL means the check failed; the verdict is incompatible.
   */
  | 'CHECK_RESULT_FAIL'
  | 2
  /**
   * CHECK_RESULT_WARN means a warn-only rule failed.
   */
  | 'CHECK_RESULT_WARN'
  | 3

/**
 * CheckResult is the outcome of one check.
 */
export type CheckResult__Output = typeof CheckResult[keyof typeof CheckResult]
