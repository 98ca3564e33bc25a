// Original file: proto/devcompat/v1/placement.proto

import type { Placement as _devcompat_v1_Placement, Placement__Output as _devcompat_v1_Placement__Output } from '../../devcompat/v1/Placement.ts';
import type { PartialPlacement as _devcompat_v1_PartialPlacement, PartialPlacement__Output as _devcompat_v1_PartialPlacement__Output } from '../../devcompat/v1/PartialPlacement.ts';
import type { FindPlacementsSummary as _devcompat_v1_FindPlacementsSummary, FindPlacementsSummary__Output as _devcompat_v1_FindPlacementsSummary__Output } from '../../devcompat/v1/FindPlacementsSummary.ts';

/**
 * FindPlacementsResponse is one message of a FindPlacements stream.
 */
export interface FindPlacementsResponse {
  /**
   * placement is a host that takes the whole VM, in rank order.
   */
  'placement'?: (_devcompat_v1_Placement | null);
  /**
   * partial is a host that takes part of the VM (only with explain), after every placement.
   */
  'partial'?: (_devcompat_v1_PartialPlacement | null);
  /**
   * summary is the last message of the stream.
   */
  'summary'?: (_devcompat_v1_FindPlacementsSummary | null);
  /**
   * item is a placement, a partial placement, or, last, the summary.
   */
  'item'?: "placement"|"partial"|"summary";
}

/**
 * FindPlacementsResponse is one message of a FindPlacements stream.
 */
export interface FindPlacementsResponse__Output {
  /**
   * placement is a host that takes the whole VM, in rank order.
   */
  'placement'?: (_devcompat_v1_Placement__Output | null);
  /**
   * partial is a host that takes part of the VM (only with explain), after every placement.
   */
  'partial'?: (_devcompat_v1_PartialPlacement__Output | null);
  /**
   * summary is the last message of the stream.
   */
  'summary'?: (_devcompat_v1_FindPlacementsSummary__Output | null);
  /**
   * item is a placement, a partial placement, or, last, the summary.
   */
  'item'?: "placement"|"partial"|"summary";
}
