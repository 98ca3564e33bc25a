// Original file: proto/devcompat/v1/placement.proto


/**
 * GetClaimRequest names one claim.
 */
export interface GetClaimRequest {
  /**
   * name is `hosts/{host}/claims/{claim_id}`.
   */
  'name'?: (string);
}

/**
 * GetClaimRequest names one claim.
 */
export interface GetClaimRequest__Output {
  /**
   * name is `hosts/{host}/claims/{claim_id}`.
   */
  'name': (string);
}
