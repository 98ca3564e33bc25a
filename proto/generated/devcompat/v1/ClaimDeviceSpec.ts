// Original file: proto/devcompat/v1/placement.proto


/**
 * ClaimDeviceSpec asks for units of one device.
 */
export interface ClaimDeviceSpec {
  /**
   * device is the device, `hosts/{host}/devices/{device}` or its bare device id; it must be
   * on the claim's host, and each device at most once per claim.
   */
  'device'?: (string);
  /**
   * count is the number of units to reserve: default 1, maximum 32.
   */
  'count'?: (number);
}

/**
 * ClaimDeviceSpec asks for units of one device.
 */
export interface ClaimDeviceSpec__Output {
  /**
   * device is the device, `hosts/{host}/devices/{device}` or its bare device id; it must be
   * on the claim's host, and each device at most once per claim.
   */
  'device': (string);
  /**
   * count is the number of units to reserve: default 1, maximum 32.
   */
  'count': (number);
}
