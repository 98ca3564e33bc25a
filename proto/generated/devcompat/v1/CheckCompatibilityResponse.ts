// Original file: proto/devcompat/v1/compatibility.proto

import type { CompatibilityResult as _devcompat_v1_CompatibilityResult, CompatibilityResult__Output as _devcompat_v1_CompatibilityResult__Output } from '../../devcompat/v1/CompatibilityResult.ts';

/**
 * CheckCompatibilityResponse carries the verdict.
 */
export interface CheckCompatibilityResponse {
  /**
   * result is the verdict with its checks.
   */
  'result'?: (_devcompat_v1_CompatibilityResult | null);
}

/**
 * CheckCompatibilityResponse carries the verdict.
 */
export interface CheckCompatibilityResponse__Output {
  /**
   * result is the verdict with its checks.
   */
  'result': (_devcompat_v1_CompatibilityResult__Output | null);
}
