// Original file: proto/devcompat/v1/history.proto

import type { Host as _devcompat_v1_Host, Host__Output as _devcompat_v1_Host__Output } from '../../devcompat/v1/Host.ts';
import type { Device as _devcompat_v1_Device, Device__Output as _devcompat_v1_Device__Output } from '../../devcompat/v1/Device.ts';

/**
 * ResourceState is a host or a device as it was before or after a change.
 */
export interface ResourceState {
  /**
   * host is set for a host entry (its device_count is not recorded: 0).
   */
  'host'?: (_devcompat_v1_Host | null);
  /**
   * device is set for a device entry.
   */
  'device'?: (_devcompat_v1_Device | null);
  /**
   * resource is the host or the device.
   */
  'resource'?: "host"|"device";
}

/**
 * ResourceState is a host or a device as it was before or after a change.
 */
export interface ResourceState__Output {
  /**
   * host is set for a host entry (its device_count is not recorded: 0).
   */
  'host'?: (_devcompat_v1_Host__Output | null);
  /**
   * device is set for a device entry.
   */
  'device'?: (_devcompat_v1_Device__Output | null);
  /**
   * resource is the host or the device.
   */
  'resource'?: "host"|"device";
}
