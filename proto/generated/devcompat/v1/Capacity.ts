// Original file: proto/devcompat/v1/descriptor.proto


/**
 * Capacity counts the instances a device can host (an mdev type's instances, a VF's one).
 */
export interface Capacity {
  /**
   * total is the number of instances the device can host.
   */
  'total'?: (number);
  /**
   * available is the number of instances free now; at most total.
   */
  'available'?: (number);
}

/**
 * Capacity counts the instances a device can host (an mdev type's instances, a VF's one).
 */
export interface Capacity__Output {
  /**
   * total is the number of instances the device can host.
   */
  'total': (number);
  /**
   * available is the number of instances free now; at most total.
   */
  'available': (number);
}
