// Original file: proto/devcompat/v1/compatibility.proto

import type { CheckItem as _devcompat_v1_CheckItem, CheckItem__Output as _devcompat_v1_CheckItem__Output } from '../../devcompat/v1/CheckItem.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * CheckCompatibilityStreamRequest carries one or more checks (at most 1000).
 */
export interface CheckCompatibilityStreamRequest {
  /**
   * checks are judged in order.
   */
  'checks'?: (_devcompat_v1_CheckItem)[];
  /**
   * min_revision, when set, holds this message's checks until the server has applied that
   * registry revision (read your own writes made through another replica); the wait and
   * its bound are as for the unary calls' min_revision. 0 = no minimum.
   */
  'min_revision'?: (number | string | Long);
}

/**
 * CheckCompatibilityStreamRequest carries one or more checks (at most 1000).
 */
export interface CheckCompatibilityStreamRequest__Output {
  /**
   * checks are judged in order.
   */
  'checks': (_devcompat_v1_CheckItem__Output)[];
  /**
   * min_revision, when set, holds this message's checks until the server has applied that
   * registry revision (read your own writes made through another replica); the wait and
   * its bound are as for the unary calls' min_revision. 0 = no minimum.
   */
  'min_revision': (string);
}
