// Original file: proto/devcompat/v1/descriptor.proto

import type { CompareOp as _devcompat_v1_CompareOp, CompareOp__Output as _devcompat_v1_CompareOp__Output } from '../../devcompat/v1/CompareOp.ts';
import type { AttributeValue as _devcompat_v1_AttributeValue, AttributeValue__Output as _devcompat_v1_AttributeValue__Output } from '../../devcompat/v1/AttributeValue.ts';

/**
 * Rule says how this device, as a migration target, compares one attribute.
 */
export interface Rule {
  /**
   * op is the comparison operator; required.
   */
  'op'?: (_devcompat_v1_CompareOp);
  /**
   * values are the accepted source values for ONE_OF (at least one) and CLAIMABLE.
   */
  'values'?: (_devcompat_v1_AttributeValue)[];
  /**
   * range is the node-semver range for SEMVER_RANGE, e.g. `2.0.2 - 2.0.4 || >=2.1.0`.
   */
  'range'?: (string);
  /**
   * warn_only turns a failure of this rule into a warning with the same reason.
   */
  'warn_only'?: (boolean);
}

/**
 * Rule says how this device, as a migration target, compares one attribute.
 */
export interface Rule__Output {
  /**
   * op is the comparison operator; required.
   */
  'op': (_devcompat_v1_CompareOp__Output);
  /**
   * values are the accepted source values for ONE_OF (at least one) and CLAIMABLE.
   */
  'values': (_devcompat_v1_AttributeValue__Output)[];
  /**
   * range is the node-semver range for SEMVER_RANGE, e.g. `2.0.2 - 2.0.4 || >=2.1.0`.
   */
  'range': (string);
  /**
   * warn_only turns a failure of this rule into a warning with the same reason.
   */
  'warn_only': (boolean);
}
