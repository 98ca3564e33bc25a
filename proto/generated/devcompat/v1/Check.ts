// Original file: proto/devcompat/v1/compatibility.proto

import type { CompareOp as _devcompat_v1_CompareOp, CompareOp__Output as _devcompat_v1_CompareOp__Output } from '../../devcompat/v1/CompareOp.ts';
import type { CheckResult as _devcompat_v1_CheckResult, CheckResult__Output as _devcompat_v1_CheckResult__Output } from '../../devcompat/v1/CheckResult.ts';
import type { AttributeValue as _devcompat_v1_AttributeValue, AttributeValue__Output as _devcompat_v1_AttributeValue__Output } from '../../devcompat/v1/AttributeValue.ts';

/**
 * Check is one comparison made for a verdict.
 */
export interface Check {
  /**
   * attribute is `vendor`, `device_api`, `type`, `software_version` or an attribute name.
   */
  'attribute'?: (string);
  /**
   * op is the operator applied (the target's rule, or the default).
   */
  'op'?: (_devcompat_v1_CompareOp);
  /**
   * result is PASS, FAIL or WARN.
   */
  'result'?: (_devcompat_v1_CheckResult);
  /**
   * reason is a stable UPPER_SNAKE reason (`MINOR_VERSION_DOWNGRADE`); empty on PASS.
   */
  'reason'?: (string);
  /**
   * source_value is the source's value in canonical form; absent when the source has none.
   */
  'source_value'?: (_devcompat_v1_AttributeValue | null);
  /**
   * target_value is the target's value in canonical form; absent when the target has none.
   */
  'target_value'?: (_devcompat_v1_AttributeValue | null);
}

/**
 * Check is one comparison made for a verdict.
 */
export interface Check__Output {
  /**
   * attribute is `vendor`, `device_api`, `type`, `software_version` or an attribute name.
   */
  'attribute': (string);
  /**
   * op is the operator applied (the target's rule, or the default).
   */
  'op': (_devcompat_v1_CompareOp__Output);
  /**
   * result is PASS, FAIL or WARN.
   */
  'result': (_devcompat_v1_CheckResult__Output);
  /**
   * reason is a stable UPPER_SNAKE reason (`MINOR_VERSION_DOWNGRADE`); empty on PASS.
   */
  'reason': (string);
  /**
   * source_value is the source's value in canonical form; absent when the source has none.
   */
  'source_value': (_devcompat_v1_AttributeValue__Output | null);
  /**
   * target_value is the target's value in canonical form; absent when the target has none.
   */
  'target_value': (_devcompat_v1_AttributeValue__Output | null);
}
