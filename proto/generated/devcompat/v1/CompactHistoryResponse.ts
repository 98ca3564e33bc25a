// Original file: proto/devcompat/v1/history.proto

import type { Compaction as _devcompat_v1_Compaction, Compaction__Output as _devcompat_v1_Compaction__Output } from '../../devcompat/v1/Compaction.ts';
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
  /**
   * compaction is the record of this compaction (unset when nothing was removed).
   */
  'compaction'?: (_devcompat_v1_Compaction | null);
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
  /**
   * compaction is the record of this compaction (unset when nothing was removed).
   */
  'compaction': (_devcompat_v1_Compaction__Output | null);
}
