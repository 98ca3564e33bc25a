// Original file: proto/devcompat/v1/history.proto

import type { Host as _devcompat_v1_Host, Host__Output as _devcompat_v1_Host__Output } from '../../devcompat/v1/Host.ts';
import type { Device as _devcompat_v1_Device, Device__Output as _devcompat_v1_Device__Output } from '../../devcompat/v1/Device.ts';
import type { Claim as _devcompat_v1_Claim, Claim__Output as _devcompat_v1_Claim__Output } from '../../devcompat/v1/Claim.ts';

/**
 * ResourceState is a host, a device or a claim as it was before or after a change.
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
   * claim is set for a claim entry (resource `hosts/{host}/claims/{claim_id}`). An ended
   * claim's DELETED entry keeps it in after, with its end state (RELEASED, EXPIRED or
   * CONSUMED) and end_time.
   */
  'claim'?: (_devcompat_v1_Claim | null);
  /**
   * resource is the host or the device.
   */
  'resource'?: "host"|"device"|"claim";
}

/**
 * ResourceState is a host, a device or a claim as it was before or after a change.
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
   * claim is set for a claim entry (resource `hosts/{host}/claims/{claim_id}`). An ended
   * claim's DELETED entry keeps it in after, with its end state (RELEASED, EXPIRED or
   * CONSUMED) and end_time.
   */
  'claim'?: (_devcompat_v1_Claim__Output | null);
  /**
   * resource is the host or the device.
   */
  'resource'?: "host"|"device"|"claim";
}
