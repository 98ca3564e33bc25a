// Original file: proto/devcompat/v1/compatibility.proto

import type { FoundTarget as _devcompat_v1_FoundTarget, FoundTarget__Output as _devcompat_v1_FoundTarget__Output } from '../../devcompat/v1/FoundTarget.ts';
import type { FindTargetsSummary as _devcompat_v1_FindTargetsSummary, FindTargetsSummary__Output as _devcompat_v1_FindTargetsSummary__Output } from '../../devcompat/v1/FindTargetsSummary.ts';

/**
 * FindTargetsResponse is one message of a FindTargets stream.
 */
export interface FindTargetsResponse {
  /**
   * target is a compatible target (in rank order) or a rejected candidate.
   */
  'target'?: (_devcompat_v1_FoundTarget | null);
  /**
   * summary is the last message of the stream.
   */
  'summary'?: (_devcompat_v1_FindTargetsSummary | null);
  /**
   * item is a target or, last, the summary.
   */
  'item'?: "target"|"summary";
}

/**
 * FindTargetsResponse is one message of a FindTargets stream.
 */
export interface FindTargetsResponse__Output {
  /**
   * target is a compatible target (in rank order) or a rejected candidate.
   */
  'target'?: (_devcompat_v1_FoundTarget__Output | null);
  /**
   * summary is the last message of the stream.
   */
  'summary'?: (_devcompat_v1_FindTargetsSummary__Output | null);
  /**
   * item is a target or, last, the summary.
   */
  'item'?: "target"|"summary";
}
