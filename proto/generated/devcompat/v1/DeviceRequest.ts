// Original file: proto/devcompat/v1/placement.proto

import type { DeviceRef as _devcompat_v1_DeviceRef, DeviceRef__Output as _devcompat_v1_DeviceRef__Output } from '../../devcompat/v1/DeviceRef.ts';

/**
 * DeviceRequest is one kind of device a VM uses, with how many of it.
 */
export interface DeviceRequest {
  /**
   * request_id names the request within the call (e.g. `gpu`, `nic`); unique, required, at
   * most 63 characters of `[a-z0-9_.-]`. Pairs and missing entries refer to it.
   */
  'request_id'?: (string);
  /**
   * source is the device the VM uses now: a registered device or an inline descriptor.
   */
  'source'?: (_devcompat_v1_DeviceRef | null);
  /**
   * count is how many units of this kind the VM needs: default 1, maximum 16. A VM needs at
   * most 32 units over all its requests.
   */
  'count'?: (number);
}

/**
 * DeviceRequest is one kind of device a VM uses, with how many of it.
 */
export interface DeviceRequest__Output {
  /**
   * request_id names the request within the call (e.g. `gpu`, `nic`); unique, required, at
   * most 63 characters of `[a-z0-9_.-]`. Pairs and missing entries refer to it.
   */
  'request_id': (string);
  /**
   * source is the device the VM uses now: a registered device or an inline descriptor.
   */
  'source': (_devcompat_v1_DeviceRef__Output | null);
  /**
   * count is how many units of this kind the VM needs: default 1, maximum 16. A VM needs at
   * most 32 units over all its requests.
   */
  'count': (number);
}
