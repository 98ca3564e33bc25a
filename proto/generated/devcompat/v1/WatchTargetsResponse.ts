// Original file: proto/devcompat/v1/compatibility.proto

import type { TargetChange as _devcompat_v1_TargetChange, TargetChange__Output as _devcompat_v1_TargetChange__Output } from '../../devcompat/v1/TargetChange.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * WatchTargetsResponse is one message of a standing query.
 */
export interface WatchTargetsResponse {
  /**
   * revision is the registry revision the changes bring the set to.
   */
  'revision'?: (number | string | Long);
  /**
   * changes are the targets added, removed or changed at this revision.
   */
  'changes'?: (_devcompat_v1_TargetChange)[];
  /**
   * initial is true for the messages of the initial set.
   */
  'initial'?: (boolean);
  /**
   * initial_complete is true on the last message of the initial set (which may carry no
   * changes when no target is compatible).
   */
  'initial_complete'?: (boolean);
}

/**
 * WatchTargetsResponse is one message of a standing query.
 */
export interface WatchTargetsResponse__Output {
  /**
   * revision is the registry revision the changes bring the set to.
   */
  'revision': (string);
  /**
   * changes are the targets added, removed or changed at this revision.
   */
  'changes': (_devcompat_v1_TargetChange__Output)[];
  /**
   * initial is true for the messages of the initial set.
   */
  'initial': (boolean);
  /**
   * initial_complete is true on the last message of the initial set (which may carry no
   * changes when no target is compatible).
   */
  'initial_complete': (boolean);
}
