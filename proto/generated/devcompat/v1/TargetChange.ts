// Original file: proto/devcompat/v1/compatibility.proto

import type { TargetChangeKind as _devcompat_v1_TargetChangeKind, TargetChangeKind__Output as _devcompat_v1_TargetChangeKind__Output } from '../../devcompat/v1/TargetChangeKind.ts';
import type { CompatibilityResult as _devcompat_v1_CompatibilityResult, CompatibilityResult__Output as _devcompat_v1_CompatibilityResult__Output } from '../../devcompat/v1/CompatibilityResult.ts';
import type { Capacity as _devcompat_v1_Capacity, Capacity__Output as _devcompat_v1_Capacity__Output } from '../../devcompat/v1/Capacity.ts';
import type { HostState as _devcompat_v1_HostState, HostState__Output as _devcompat_v1_HostState__Output } from '../../devcompat/v1/HostState.ts';

/**
 * TargetChange is one target added, removed or changed.
 */
export interface TargetChange {
  /**
   * kind is what happened.
   */
  'kind'?: (_devcompat_v1_TargetChangeKind);
  /**
   * name is the target device, `hosts/{host}/devices/{device}`.
   */
  'name'?: (string);
  /**
   * sort_key orders targets best first when compared as byte strings (ascending): it
   * encodes the ranking (verdict, exactness, version distance, free capacity, name), so a
   * client keeps the ranked set without ranks being resent. Empty for REMOVED.
   */
  'sort_key'?: (string);
  /**
   * result is the verdict for this target; absent for REMOVED.
   */
  'result'?: (_devcompat_v1_CompatibilityResult | null);
  /**
   * capacity is the target's capacity; absent when unknown or REMOVED.
   */
  'capacity'?: (_devcompat_v1_Capacity | null);
  /**
   * exact is true when the target matches the source exactly.
   */
  'exact'?: (boolean);
  /**
   * host_state is the state of the target's host (for REMOVED: why, when it is the cause).
   */
  'host_state'?: (_devcompat_v1_HostState);
  /**
   * claimed is the number of the target's units that live claims hold (see Device.claimed);
   * 0 for REMOVED.
   */
  'claimed'?: (number);
}

/**
 * TargetChange is one target added, removed or changed.
 */
export interface TargetChange__Output {
  /**
   * kind is what happened.
   */
  'kind': (_devcompat_v1_TargetChangeKind__Output);
  /**
   * name is the target device, `hosts/{host}/devices/{device}`.
   */
  'name': (string);
  /**
   * sort_key orders targets best first when compared as byte strings (ascending): it
   * encodes the ranking (verdict, exactness, version distance, free capacity, name), so a
   * client keeps the ranked set without ranks being resent. Empty for REMOVED.
   */
  'sort_key': (string);
  /**
   * result is the verdict for this target; absent for REMOVED.
   */
  'result': (_devcompat_v1_CompatibilityResult__Output | null);
  /**
   * capacity is the target's capacity; absent when unknown or REMOVED.
   */
  'capacity': (_devcompat_v1_Capacity__Output | null);
  /**
   * exact is true when the target matches the source exactly.
   */
  'exact': (boolean);
  /**
   * host_state is the state of the target's host (for REMOVED: why, when it is the cause).
   */
  'host_state': (_devcompat_v1_HostState__Output);
  /**
   * claimed is the number of the target's units that live claims hold (see Device.claimed);
   * 0 for REMOVED.
   */
  'claimed': (number);
}
