// Original file: proto/devcompat/v1/placement.proto

import type { CompatibilityResult as _devcompat_v1_CompatibilityResult, CompatibilityResult__Output as _devcompat_v1_CompatibilityResult__Output } from '../../devcompat/v1/CompatibilityResult.ts';

/**
 * PlacementPair is one unit of one device request assigned to one target device.
 */
export interface PlacementPair {
  /**
   * request_id is the device request this unit belongs to.
   */
  'request_id'?: (string);
  /**
   * unit is the unit's index within its request, from 0 to count - 1.
   */
  'unit'?: (number);
  /**
   * target is the target device, `hosts/{host}/devices/{device}`. Two units of one
   * placement name the same device only when it has that many free units.
   */
  'target'?: (string);
  /**
   * result is the verdict of the request's source against the target.
   */
  'result'?: (_devcompat_v1_CompatibilityResult | null);
  /**
   * exact is true when the target matches the source exactly (docs/model.md, ranking).
   */
  'exact'?: (boolean);
}

/**
 * PlacementPair is one unit of one device request assigned to one target device.
 */
export interface PlacementPair__Output {
  /**
   * request_id is the device request this unit belongs to.
   */
  'request_id': (string);
  /**
   * unit is the unit's index within its request, from 0 to count - 1.
   */
  'unit': (number);
  /**
   * target is the target device, `hosts/{host}/devices/{device}`. Two units of one
   * placement name the same device only when it has that many free units.
   */
  'target': (string);
  /**
   * result is the verdict of the request's source against the target.
   */
  'result': (_devcompat_v1_CompatibilityResult__Output | null);
  /**
   * exact is true when the target matches the source exactly (docs/model.md, ranking).
   */
  'exact': (boolean);
}
