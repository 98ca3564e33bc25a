// Original file: proto/devcompat/v1/compatibility.proto

import type { DeviceRef as _devcompat_v1_DeviceRef, DeviceRef__Output as _devcompat_v1_DeviceRef__Output } from '../../devcompat/v1/DeviceRef.ts';

/**
 * CheckItem is one (source, target) question on a CheckCompatibilityStream.
 */
export interface CheckItem {
  /**
   * id is echoed in the item's result; chosen by the caller.
   */
  'id'?: (string);
  /**
   * source is the device the VM uses now.
   */
  'source'?: (_devcompat_v1_DeviceRef | null);
  /**
   * target is the device the VM would move to.
   */
  'target'?: (_devcompat_v1_DeviceRef | null);
}

/**
 * CheckItem is one (source, target) question on a CheckCompatibilityStream.
 */
export interface CheckItem__Output {
  /**
   * id is echoed in the item's result; chosen by the caller.
   */
  'id': (string);
  /**
   * source is the device the VM uses now.
   */
  'source': (_devcompat_v1_DeviceRef__Output | null);
  /**
   * target is the device the VM would move to.
   */
  'target': (_devcompat_v1_DeviceRef__Output | null);
}
