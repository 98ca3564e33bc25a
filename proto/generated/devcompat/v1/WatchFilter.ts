// Original file: proto/devcompat/v1/watch.proto


/**
 * WatchFilter narrows a watch; every field set must match. Device filters (vendor,
 * device_api, type) apply to device events; host events pass when the host filter does.
 */
export interface WatchFilter {
  /**
   * host keeps the events of one host (`hosts/{host}` or the bare id).
   */
  'host'?: (string);
  /**
   * vendor keeps device events whose descriptor (before or after) has this vendor.
   */
  'vendor'?: (string);
  /**
   * device_api keeps device events whose descriptor (before or after) has this device_api.
   */
  'device_api'?: (string);
  /**
   * type keeps device events whose descriptor (before or after) has this type.
   */
  'type'?: (string);
}

/**
 * WatchFilter narrows a watch; every field set must match. Device filters (vendor,
 * device_api, type) apply to device events; host events pass when the host filter does.
 */
export interface WatchFilter__Output {
  /**
   * host keeps the events of one host (`hosts/{host}` or the bare id).
   */
  'host': (string);
  /**
   * vendor keeps device events whose descriptor (before or after) has this vendor.
   */
  'vendor': (string);
  /**
   * device_api keeps device events whose descriptor (before or after) has this device_api.
   */
  'device_api': (string);
  /**
   * type keeps device events whose descriptor (before or after) has this type.
   */
  'type': (string);
}
