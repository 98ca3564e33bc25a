// Original file: proto/devcompat/v1/compatibility.proto

import type { CompatibilityResult as _devcompat_v1_CompatibilityResult, CompatibilityResult__Output as _devcompat_v1_CompatibilityResult__Output } from '../../devcompat/v1/CompatibilityResult.ts';
import type { Status as _google_rpc_Status, Status__Output as _google_rpc_Status__Output } from '../../google/rpc/Status.ts';

/**
 * CheckItemResult answers one CheckItem.
 */
export interface CheckItemResult {
  /**
   * id is the CheckItem's id.
   */
  'id'?: (string);
  /**
   * result is the verdict.
   */
  'result'?: (_devcompat_v1_CompatibilityResult | null);
  /**
   * error is why this item could not be judged (NOT_FOUND, INVALID_ARGUMENT, ...).
   */
  'error'?: (_google_rpc_Status | null);
  /**
   * outcome is the verdict or the item's error.
   */
  'outcome'?: "result"|"error";
}

/**
 * CheckItemResult answers one CheckItem.
 */
export interface CheckItemResult__Output {
  /**
   * id is the CheckItem's id.
   */
  'id': (string);
  /**
   * result is the verdict.
   */
  'result'?: (_devcompat_v1_CompatibilityResult__Output | null);
  /**
   * error is why this item could not be judged (NOT_FOUND, INVALID_ARGUMENT, ...).
   */
  'error'?: (_google_rpc_Status__Output | null);
  /**
   * outcome is the verdict or the item's error.
   */
  'outcome'?: "result"|"error";
}
