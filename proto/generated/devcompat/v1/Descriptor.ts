// Original file: proto/devcompat/v1/descriptor.proto

import type { AttributeValue as _devcompat_v1_AttributeValue, AttributeValue__Output as _devcompat_v1_AttributeValue__Output } from '../../devcompat/v1/AttributeValue.ts';
import type { Rule as _devcompat_v1_Rule, Rule__Output as _devcompat_v1_Rule__Output } from '../../devcompat/v1/Rule.ts';

/**
 * Descriptor describes one assignable device (or one mdev type on one parent device).
 */
export interface Descriptor {
  /**
   * vendor is a lower-case vendor token, for PCI the 4-hex-digit id (`8086`, `10de`).
   */
  'vendor'?: (string);
  /**
   * device_api is the VFIO device API: `vfio-pci`, `vfio-ccw`, `vfio-ap`, ...
   */
  'device_api'?: (string);
  /**
   * type is the mdev type id or variant driver name (`i915-GVTg_V5_4`, `mlx5_vfio_pci`).
   */
  'type'?: (string);
  /**
   * compatible_types are other types whose migration stream this device accepts as a target.
   */
  'compatible_types'?: (string)[];
  /**
   * software_version is the vendor driver's migration-stream version (semver).
   */
  'software_version'?: (string);
  /**
   * attributes are the typed attributes, keyed by name (`^[a-z][a-z0-9_.-]{0,62}$`).
   */
  'attributes'?: ({[key: string]: _devcompat_v1_AttributeValue});
  /**
   * rules say how this device as a target compares each attribute; the key
   * `software_version` overrides the built-in SEMVER check of software_version.
   */
  'rules'?: ({[key: string]: _devcompat_v1_Rule});
}

/**
 * Descriptor describes one assignable device (or one mdev type on one parent device).
 */
export interface Descriptor__Output {
  /**
   * vendor is a lower-case vendor token, for PCI the 4-hex-digit id (`8086`, `10de`).
   */
  'vendor': (string);
  /**
   * device_api is the VFIO device API: `vfio-pci`, `vfio-ccw`, `vfio-ap`, ...
   */
  'device_api': (string);
  /**
   * type is the mdev type id or variant driver name (`i915-GVTg_V5_4`, `mlx5_vfio_pci`).
   */
  'type': (string);
  /**
   * compatible_types are other types whose migration stream this device accepts as a target.
   */
  'compatible_types': (string)[];
  /**
   * software_version is the vendor driver's migration-stream version (semver).
   */
  'software_version': (string);
  /**
   * attributes are the typed attributes, keyed by name (`^[a-z][a-z0-9_.-]{0,62}$`).
   */
  'attributes': ({[key: string]: _devcompat_v1_AttributeValue__Output});
  /**
   * rules say how this device as a target compares each attribute; the key
   * `software_version` overrides the built-in SEMVER check of software_version.
   */
  'rules': ({[key: string]: _devcompat_v1_Rule__Output});
}
