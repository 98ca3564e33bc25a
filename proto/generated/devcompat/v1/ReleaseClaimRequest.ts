// Original file: proto/devcompat/v1/placement.proto


/**
 * ReleaseClaimRequest ends a live claim.
 */
export interface ReleaseClaimRequest {
  /**
   * name is `hosts/{host}/claims/{claim_id}`.
   */
  'name'?: (string);
}

/**
 * ReleaseClaimRequest ends a live claim.
 */
export interface ReleaseClaimRequest__Output {
  /**
   * name is `hosts/{host}/claims/{claim_id}`.
   */
  'name': (string);
}
