// Original file: proto/devcompat/v1/registry.proto


/**
 * KeepAliveRequest renews one host's lease.
 */
export interface KeepAliveRequest {
  /**
   * name is `hosts/{host}` (or the bare host id).
   */
  'name'?: (string);
}

/**
 * KeepAliveRequest renews one host's lease.
 */
export interface KeepAliveRequest__Output {
  /**
   * name is `hosts/{host}` (or the bare host id).
   */
  'name': (string);
}
