// Original file: proto/devcompat/v1/placement.proto

import type { PlacementMissingReason as _devcompat_v1_PlacementMissingReason, PlacementMissingReason__Output as _devcompat_v1_PlacementMissingReason__Output } from '../../devcompat/v1/PlacementMissingReason.ts';

/**
 * MissingDevice is what a host lacks for one device request.
 */
export interface MissingDevice {
  /**
   * request_id is the device request.
   */
  'request_id'?: (string);
  /**
   * needed is the request's count.
   */
  'needed'?: (number);
  /**
   * placed is how many of its units the host's best partial assignment takes.
   */
  'placed'?: (number);
  /**
   * reason is why the rest does not fit.
   */
  'reason'?: (_devcompat_v1_PlacementMissingReason);
  /**
   * compatible_devices counts the host's devices that are compatible targets for the
   * request, free or not.
   */
  'compatible_devices'?: (number);
}

/**
 * MissingDevice is what a host lacks for one device request.
 */
export interface MissingDevice__Output {
  /**
   * request_id is the device request.
   */
  'request_id': (string);
  /**
   * needed is the request's count.
   */
  'needed': (number);
  /**
   * placed is how many of its units the host's best partial assignment takes.
   */
  'placed': (number);
  /**
   * reason is why the rest does not fit.
   */
  'reason': (_devcompat_v1_PlacementMissingReason__Output);
  /**
   * compatible_devices counts the host's devices that are compatible targets for the
   * request, free or not.
   */
  'compatible_devices': (number);
}
