// Original file: proto/devcompat/v1/registry.proto

import type { Descriptor as _devcompat_v1_Descriptor, Descriptor__Output as _devcompat_v1_Descriptor__Output } from '../../devcompat/v1/Descriptor.ts';
import type { Capacity as _devcompat_v1_Capacity, Capacity__Output as _devcompat_v1_Capacity__Output } from '../../devcompat/v1/Capacity.ts';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * Device is one assignable device of one host.
 */
export interface Device {
  /**
   * name is the resource name `hosts/{host}/devices/{device}`.
   */
  'name'?: (string);
  /**
   * descriptor is the device's descriptor in canonical form.
   */
  'descriptor'?: (_devcompat_v1_Descriptor | null);
  /**
   * capacity is the device's instance capacity; absent when unknown.
   */
  'capacity'?: (_devcompat_v1_Capacity | null);
  /**
   * labels are the device's labels (at most 64).
   */
  'labels'?: ({[key: string]: string});
  /**
   * revision is the registry revision of the device's last change.
   */
  'revision'?: (number | string | Long);
  /**
   * create_revision is the registry revision that created the device.
   */
  'create_revision'?: (number | string | Long);
  /**
   * create_time is when the device was created.
   */
  'create_time'?: (_google_protobuf_Timestamp | null);
  /**
   * update_time is when the device last changed.
   */
  'update_time'?: (_google_protobuf_Timestamp | null);
  /**
   * claimed is the number of the device's units that live claims hold. It is its own
   * figure: capacity stays what the host reported. The device's free units are
   * capacity.available minus claimed (a device that reports no capacity is one unit), and
   * never fewer than 0; shared budgets may leave fewer (docs/model.md, "Claims").
   */
  'claimed'?: (number);
  /**
   * free_units is how many units one new claim on this device alone could take: its
   * available units (1 when it reports no capacity) minus claimed, and no more than each
   * shared budget it draws on has free after the units live claims hold on every device
   * drawing on it (docs/model.md, "Shared budgets"). In a point-in-time read, claims are
   * not counted (the capacity and budgets of then alone).
   */
  'free_units'?: (number);
}

/**
 * Device is one assignable device of one host.
 */
export interface Device__Output {
  /**
   * name is the resource name `hosts/{host}/devices/{device}`.
   */
  'name': (string);
  /**
   * descriptor is the device's descriptor in canonical form.
   */
  'descriptor': (_devcompat_v1_Descriptor__Output | null);
  /**
   * capacity is the device's instance capacity; absent when unknown.
   */
  'capacity': (_devcompat_v1_Capacity__Output | null);
  /**
   * labels are the device's labels (at most 64).
   */
  'labels': ({[key: string]: string});
  /**
   * revision is the registry revision of the device's last change.
   */
  'revision': (string);
  /**
   * create_revision is the registry revision that created the device.
   */
  'create_revision': (string);
  /**
   * create_time is when the device was created.
   */
  'create_time': (_google_protobuf_Timestamp__Output | null);
  /**
   * update_time is when the device last changed.
   */
  'update_time': (_google_protobuf_Timestamp__Output | null);
  /**
   * claimed is the number of the device's units that live claims hold. It is its own
   * figure: capacity stays what the host reported. The device's free units are
   * capacity.available minus claimed (a device that reports no capacity is one unit), and
   * never fewer than 0; shared budgets may leave fewer (docs/model.md, "Claims").
   */
  'claimed': (number);
  /**
   * free_units is how many units one new claim on this device alone could take: its
   * available units (1 when it reports no capacity) minus claimed, and no more than each
   * shared budget it draws on has free after the units live claims hold on every device
   * drawing on it (docs/model.md, "Shared budgets"). In a point-in-time read, claims are
   * not counted (the capacity and budgets of then alone).
   */
  'free_units': (number);
}
