// Original file: proto/devcompat/v1/placement.proto


/**
 * ClaimedDevice is the part of a claim on one device.
 */
export interface ClaimedDevice {
  /**
   * device is the device, `hosts/{host}/devices/{device}`, on the claim's host.
   */
  'device'?: (string);
  /**
   * count is the number of units the claim reserved on the device.
   */
  'count'?: (number);
  /**
   * remaining is the number of those units the claim still holds: count minus the units
   * that host syncs used up (docs/model.md, "Claims").
   */
  'remaining'?: (number);
}

/**
 * ClaimedDevice is the part of a claim on one device.
 */
export interface ClaimedDevice__Output {
  /**
   * device is the device, `hosts/{host}/devices/{device}`, on the claim's host.
   */
  'device': (string);
  /**
   * count is the number of units the claim reserved on the device.
   */
  'count': (number);
  /**
   * remaining is the number of those units the claim still holds: count minus the units
   * that host syncs used up (docs/model.md, "Claims").
   */
  'remaining': (number);
}
