// Original file: proto/devcompat/v1/registry.proto


/**
 * DeviceFilter narrows a device listing; every field set must match.
 */
export interface DeviceFilter {
  /**
   * vendor matches the descriptor's vendor exactly.
   */
  'vendor'?: (string);
  /**
   * device_api matches the descriptor's device_api exactly.
   */
  'device_api'?: (string);
  /**
   * type matches the descriptor's type exactly.
   */
  'type'?: (string);
  /**
   * host keeps the devices of one host (`hosts/{host}` or the bare id).
   */
  'host'?: (string);
  /**
   * labels keeps devices that have every one of these device labels.
   */
  'labels'?: ({[key: string]: string});
  /**
   * host_labels keeps devices whose host has every one of these labels.
   */
  'host_labels'?: ({[key: string]: string});
  /**
   * software_version_range keeps devices whose software_version satisfies this
   * node-semver range, e.g. `>=1.2.0 <2.0.0`.
   */
  'software_version_range'?: (string);
}

/**
 * DeviceFilter narrows a device listing; every field set must match.
 */
export interface DeviceFilter__Output {
  /**
   * vendor matches the descriptor's vendor exactly.
   */
  'vendor': (string);
  /**
   * device_api matches the descriptor's device_api exactly.
   */
  'device_api': (string);
  /**
   * type matches the descriptor's type exactly.
   */
  'type': (string);
  /**
   * host keeps the devices of one host (`hosts/{host}` or the bare id).
   */
  'host': (string);
  /**
   * labels keeps devices that have every one of these device labels.
   */
  'labels': ({[key: string]: string});
  /**
   * host_labels keeps devices whose host has every one of these labels.
   */
  'host_labels': ({[key: string]: string});
  /**
   * software_version_range keeps devices whose software_version satisfies this
   * node-semver range, e.g. `>=1.2.0 <2.0.0`.
   */
  'software_version_range': (string);
}
