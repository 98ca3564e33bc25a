// Original file: proto/devcompat/v1/compatibility.proto

import type { Descriptor as _devcompat_v1_Descriptor, Descriptor__Output as _devcompat_v1_Descriptor__Output } from '../../devcompat/v1/Descriptor.ts';

/**
 * DeviceRef names a registered device or carries a descriptor inline.
 */
export interface DeviceRef {
  /**
   * name is a registered device, `hosts/{host}/devices/{device}`.
   */
  'name'?: (string);
  /**
   * descriptor is an unregistered device described inline.
   */
  'descriptor'?: (_devcompat_v1_Descriptor | null);
  /**
   * ref is the device.
   */
  'ref'?: "name"|"descriptor";
}

/**
 * DeviceRef names a registered device or carries a descriptor inline.
 */
export interface DeviceRef__Output {
  /**
   * name is a registered device, `hosts/{host}/devices/{device}`.
   */
  'name'?: (string);
  /**
   * descriptor is an unregistered device described inline.
   */
  'descriptor'?: (_devcompat_v1_Descriptor__Output | null);
  /**
   * ref is the device.
   */
  'ref'?: "name"|"descriptor";
}
