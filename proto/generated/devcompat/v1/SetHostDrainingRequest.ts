// Original file: proto/devcompat/v1/registry.proto


/**
 * SetHostDrainingRequest sets or clears a host's draining mark.
 */
export interface SetHostDrainingRequest {
  /**
   * name is `hosts/{host}`.
   */
  'name'?: (string);
  /**
   * draining is the new mark: true excludes the host as a target, false clears it.
   */
  'draining'?: (boolean);
}

/**
 * SetHostDrainingRequest sets or clears a host's draining mark.
 */
export interface SetHostDrainingRequest__Output {
  /**
   * name is `hosts/{host}`.
   */
  'name': (string);
  /**
   * draining is the new mark: true excludes the host as a target, false clears it.
   */
  'draining': (boolean);
}
