// Original file: proto/devcompat/v1/placement.proto

/**
 * PlacementMissingReason says why a host could not take every unit of one device request.
 */
export const PlacementMissingReason = {
  /**
   * PLACEMENT_MISSING_REASON_UNSPECIFIED is never sent.
   */
  PLACEMENT_MISSING_REASON_UNSPECIFIED: 'PLACEMENT_MISSING_REASON_UNSPECIFIED',
  /**
   * PLACEMENT_MISSING_REASON_NO_COMPATIBLE_DEVICE means no device of the host is a
   * compatible target for the request's source.
   */
  PLACEMENT_MISSING_REASON_NO_COMPATIBLE_DEVICE: 'PLACEMENT_MISSING_REASON_NO_COMPATIBLE_DEVICE',
  /**
   * PLACEMENT_MISSING_REASON_NO_FREE_UNIT means compatible devices exist but too few of
   * their units are free for every device of the VM at once, claims and shared budgets
   * counted.
   */
  PLACEMENT_MISSING_REASON_NO_FREE_UNIT: 'PLACEMENT_MISSING_REASON_NO_FREE_UNIT',
} as const;

/**
 * PlacementMissingReason says why a host could not take every unit of one device request.
 */
export type PlacementMissingReason =
  /**
   * PLACEMENT_MISSING_REASON_UNSPECIFIED is never sent.
   */
  | 'PLACEMENT_MISSING_REASON_UNSPECIFIED'
  | 0
  /**
   * PLACEMENT_MISSING_REASON_NO_COMPATIBLE_DEVICE means no device of the host is a
   * compatible target for the request's source.
   */
  | 'PLACEMENT_MISSING_REASON_NO_COMPATIBLE_DEVICE'
  | 1
  /**
   * PLACEMENT_MISSING_REASON_NO_FREE_UNIT means compatible devices exist but too few of
   * their units are free for every device of the VM at once, claims and shared budgets
   * counted.
   */
  | 'PLACEMENT_MISSING_REASON_NO_FREE_UNIT'
  | 2

/**
 * PlacementMissingReason says why a host could not take every unit of one device request.
 */
export type PlacementMissingReason__Output = typeof PlacementMissingReason[keyof typeof PlacementMissingReason]
