// Original file: proto/devcompat/v1/compatibility.proto

import type { CompatibilityResult as _devcompat_v1_CompatibilityResult, CompatibilityResult__Output as _devcompat_v1_CompatibilityResult__Output } from '../../devcompat/v1/CompatibilityResult.ts';
import type { Capacity as _devcompat_v1_Capacity, Capacity__Output as _devcompat_v1_Capacity__Output } from '../../devcompat/v1/Capacity.ts';
import type { HostState as _devcompat_v1_HostState, HostState__Output as _devcompat_v1_HostState__Output } from '../../devcompat/v1/HostState.ts';

/**
 * FoundTarget is one candidate target with its verdict.
 */
export interface FoundTarget {
  /**
   * name is the target device, `hosts/{host}/devices/{device}`.
   */
  'name'?: (string);
  /**
   * rank is the 1-based position among compatible targets; 0 for a rejected candidate.
   */
  'rank'?: (number);
  /**
   * result is the verdict for this target.
   */
  'result'?: (_devcompat_v1_CompatibilityResult | null);
  /**
   * capacity is the target's capacity; absent when unknown.
   */
  'capacity'?: (_devcompat_v1_Capacity | null);
  /**
   * exact is true when the target matches the source exactly (docs/model.md, ranking).
   */
  'exact'?: (boolean);
  /**
   * host_state is the state of the target's host.
   */
  'host_state'?: (_devcompat_v1_HostState);
  /**
   * claimed is the number of the target's units that live claims hold (see Device.claimed).
   */
  'claimed'?: (number);
}

/**
 * FoundTarget is one candidate target with its verdict.
 */
export interface FoundTarget__Output {
  /**
   * name is the target device, `hosts/{host}/devices/{device}`.
   */
  'name': (string);
  /**
   * rank is the 1-based position among compatible targets; 0 for a rejected candidate.
   */
  'rank': (number);
  /**
   * result is the verdict for this target.
   */
  'result': (_devcompat_v1_CompatibilityResult__Output | null);
  /**
   * capacity is the target's capacity; absent when unknown.
   */
  'capacity': (_devcompat_v1_Capacity__Output | null);
  /**
   * exact is true when the target matches the source exactly (docs/model.md, ranking).
   */
  'exact': (boolean);
  /**
   * host_state is the state of the target's host.
   */
  'host_state': (_devcompat_v1_HostState__Output);
  /**
   * claimed is the number of the target's units that live claims hold (see Device.claimed).
   */
  'claimed': (number);
}
