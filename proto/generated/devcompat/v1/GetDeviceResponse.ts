// Original file: proto/devcompat/v1/registry.proto

import type { Device as _devcompat_v1_Device, Device__Output as _devcompat_v1_Device__Output } from '../../devcompat/v1/Device.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * GetDeviceResponse carries one device.
 */
export interface GetDeviceResponse {
  /**
   * device is the device.
   */
  'device'?: (_devcompat_v1_Device | null);
  /**
   * revision is the registry revision this read reflects.
   */
  'revision'?: (number | string | Long);
}

/**
 * GetDeviceResponse carries one device.
 */
export interface GetDeviceResponse__Output {
  /**
   * device is the device.
   */
  'device': (_devcompat_v1_Device__Output | null);
  /**
   * revision is the registry revision this read reflects.
   */
  'revision': (string);
}
