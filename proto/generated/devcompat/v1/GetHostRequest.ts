// Original file: proto/devcompat/v1/registry.proto


/**
 * GetHostRequest names one host.
 */
export interface GetHostRequest {
  /**
   * name is `hosts/{host}`.
   */
  'name'?: (string);
}

/**
 * GetHostRequest names one host.
 */
export interface GetHostRequest__Output {
  /**
   * name is `hosts/{host}`.
   */
  'name': (string);
}
