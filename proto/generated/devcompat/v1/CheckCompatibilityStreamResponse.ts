// Original file: proto/devcompat/v1/compatibility.proto

import type { CheckItemResult as _devcompat_v1_CheckItemResult, CheckItemResult__Output as _devcompat_v1_CheckItemResult__Output } from '../../devcompat/v1/CheckItemResult.ts';

/**
 * CheckCompatibilityStreamResponse carries the results of one request message, in order.
 */
export interface CheckCompatibilityStreamResponse {
  /**
   * results answer the request's checks one for one.
   */
  'results'?: (_devcompat_v1_CheckItemResult)[];
}

/**
 * CheckCompatibilityStreamResponse carries the results of one request message, in order.
 */
export interface CheckCompatibilityStreamResponse__Output {
  /**
   * results answer the request's checks one for one.
   */
  'results': (_devcompat_v1_CheckItemResult__Output)[];
}
