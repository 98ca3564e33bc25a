// Original file: proto/devcompat/v1/history.proto

import type { ChainProblem as _devcompat_v1_ChainProblem, ChainProblem__Output as _devcompat_v1_ChainProblem__Output } from '../../devcompat/v1/ChainProblem.ts';
import type { Compaction as _devcompat_v1_Compaction, Compaction__Output as _devcompat_v1_Compaction__Output } from '../../devcompat/v1/Compaction.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * VerifyHistoryResponse is the outcome of the walk.
 */
export interface VerifyHistoryResponse {
  /**
   * intact is true when no problem was found.
   */
  'intact'?: (boolean);
  /**
   * problem says how the chain is broken; UNSPECIFIED when intact.
   */
  'problem'?: (_devcompat_v1_ChainProblem);
  /**
   * revision and index locate the first broken entry (0 when intact).
   */
  'revision'?: (number | string | Long);
  /**
   * index is the broken entry's position within its revision.
   */
  'index'?: (number);
  /**
   * description explains the problem for people.
   */
  'description'?: (string);
  /**
   * entries_checked counts the entries walked.
   */
  'entries_checked'?: (number | string | Long);
  /**
   * head_hash is the hash of the last entry walked (hex).
   */
  'head_hash'?: (string);
  /**
   * head_revision is the revision of the last entry walked.
   */
  'head_revision'?: (number | string | Long);
  /**
   * checkpoint_revision is the revision history was compacted to (0: never compacted).
   */
  'checkpoint_revision'?: (number | string | Long);
  /**
   * checkpoint_hash is the chain's hash at the checkpoint (hex; all zeros when never
   * compacted).
   */
  'checkpoint_hash'?: (string);
  /**
   * compactions lists every compaction, oldest first: history before checkpoint_revision is
   * gone, and this says who removed it, when, and what the head was then. When it is not
   * empty, description says so even if the remaining chain is intact.
   */
  'compactions'?: (_devcompat_v1_Compaction)[];
}

/**
 * VerifyHistoryResponse is the outcome of the walk.
 */
export interface VerifyHistoryResponse__Output {
  /**
   * intact is true when no problem was found.
   */
  'intact': (boolean);
  /**
   * problem says how the chain is broken; UNSPECIFIED when intact.
   */
  'problem': (_devcompat_v1_ChainProblem__Output);
  /**
   * revision and index locate the first broken entry (0 when intact).
   */
  'revision': (string);
  /**
   * index is the broken entry's position within its revision.
   */
  'index': (number);
  /**
   * description explains the problem for people.
   */
  'description': (string);
  /**
   * entries_checked counts the entries walked.
   */
  'entries_checked': (string);
  /**
   * head_hash is the hash of the last entry walked (hex).
   */
  'head_hash': (string);
  /**
   * head_revision is the revision of the last entry walked.
   */
  'head_revision': (string);
  /**
   * checkpoint_revision is the revision history was compacted to (0: never compacted).
   */
  'checkpoint_revision': (string);
  /**
   * checkpoint_hash is the chain's hash at the checkpoint (hex; all zeros when never
   * compacted).
   */
  'checkpoint_hash': (string);
  /**
   * compactions lists every compaction, oldest first: history before checkpoint_revision is
   * gone, and this says who removed it, when, and what the head was then. When it is not
   * empty, description says so even if the remaining chain is intact.
   */
  'compactions': (_devcompat_v1_Compaction__Output)[];
}
