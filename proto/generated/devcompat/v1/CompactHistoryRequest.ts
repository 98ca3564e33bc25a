// Original file: proto/devcompat/v1/history.proto

import type { Long } from '@grpc/proto-loader';

/**
 * CompactHistoryRequest names the last revision to remove from history.
 */
export interface CompactHistoryRequest {
  /**
   * revision is the last revision removed; it must not be after the current revision.
   * Compacting to or before the current checkpoint changes nothing.
   */
  'revision'?: (number | string | Long);
}

/**
 * CompactHistoryRequest names the last revision to remove from history.
 */
export interface CompactHistoryRequest__Output {
  /**
   * revision is the last revision removed; it must not be after the current revision.
   * Compacting to or before the current checkpoint changes nothing.
   */
  'revision': (string);
}
