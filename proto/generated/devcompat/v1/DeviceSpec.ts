// Original file: proto/devcompat/v1/registry.proto

import type { Descriptor as _devcompat_v1_Descriptor, Descriptor__Output as _devcompat_v1_Descriptor__Output } from '../../devcompat/v1/Descriptor.ts';
import type { Capacity as _devcompat_v1_Capacity, Capacity__Output as _devcompat_v1_Capacity__Output } from '../../devcompat/v1/Capacity.ts';

/**
 * DeviceSpec is one device as a host agent reports it in SyncHost.
 */
export interface DeviceSpec {
  /**
   * device_id is the device's id on its host: a PCI address, an mdev UUID, a ccw bus id.
   */
  'device_id'?: (string);
  /**
   * descriptor describes the device; required.
   */
  'descriptor'?: (_devcompat_v1_Descriptor | null);
  /**
   * capacity is the device's instance capacity; omit when unknown.
   */
  'capacity'?: (_devcompat_v1_Capacity | null);
  /**
   * labels are the device's labels (at most 64).
   */
  'labels'?: ({[key: string]: string});
}

/**
 * DeviceSpec is one device as a host agent reports it in SyncHost.
 */
export interface DeviceSpec__Output {
  /**
   * device_id is the device's id on its host: a PCI address, an mdev UUID, a ccw bus id.
   */
  'device_id': (string);
  /**
   * descriptor describes the device; required.
   */
  'descriptor': (_devcompat_v1_Descriptor__Output | null);
  /**
   * capacity is the device's instance capacity; omit when unknown.
   */
  'capacity': (_devcompat_v1_Capacity__Output | null);
  /**
   * labels are the device's labels (at most 64).
   */
  'labels': ({[key: string]: string});
}
