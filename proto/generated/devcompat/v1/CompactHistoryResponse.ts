// Original file: proto/devcompat/v1/history.proto

import type { Long } from '@grpc/proto-loader';

/**
 * CompactHistoryResponse describes the checkpoint.
 */
export interface CompactHistoryResponse {
  /**
   * checkpoint_revision is the revision history is now compacted to.
   */
  'checkpoint_revision'?: (number | string | Long);
  /**
   * checkpoint_hash is the chain's hash at the checkpoint (hex).
   */
  'checkpoint_hash'?: (string);
  /**
   * entries_removed counts the history entries removed by this call.
   */
  'entries_removed'?: (number | string | Long);
  /**
   * oldest_revision is the oldest revision a watch may now start from.
   */
  'oldest_revision'?: (number | string | Long);
}

/**
 * CompactHistoryResponse describes the checkpoint.
 */
export interface CompactHistoryResponse__Output {
  /**
   * checkpoint_revision is the revision history is now compacted to.
   */
  'checkpoint_revision': (string);
  /**
   * checkpoint_hash is the chain's hash at the checkpoint (hex).
   */
  'checkpoint_hash': (string);
  /**
   * entries_removed counts the history entries removed by this call.
   */
  'entries_removed': (string);
  /**
   * oldest_revision is the oldest revision a watch may now start from.
   */
  'oldest_revision': (string);
}
