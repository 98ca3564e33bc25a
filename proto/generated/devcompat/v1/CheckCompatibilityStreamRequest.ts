// Original file: proto/devcompat/v1/compatibility.proto

import type { CheckItem as _devcompat_v1_CheckItem, CheckItem__Output as _devcompat_v1_CheckItem__Output } from '../../devcompat/v1/CheckItem.ts';

/**
 * CheckCompatibilityStreamRequest carries one or more checks (at most 1000).
 */
export interface CheckCompatibilityStreamRequest {
  /**
   * checks are judged in order.
   */
  'checks'?: (_devcompat_v1_CheckItem)[];
}

/**
 * CheckCompatibilityStreamRequest carries one or more checks (at most 1000).
 */
export interface CheckCompatibilityStreamRequest__Output {
  /**
   * checks are judged in order.
   */
  'checks': (_devcompat_v1_CheckItem__Output)[];
}
