// Original file: proto/devcompat/v1/placement.proto


/**
 * RenewClaimRequest extends a live claim.
 */
export interface RenewClaimRequest {
  /**
   * name is `hosts/{host}/claims/{claim_id}`.
   */
  'name'?: (string);
  /**
   * ttl_ms, when set, replaces the claim's TTL (minimum 1000, maximum 3600000); the expiry
   * becomes now plus the TTL.
   */
  'ttl_ms'?: (number);
}

/**
 * RenewClaimRequest extends a live claim.
 */
export interface RenewClaimRequest__Output {
  /**
   * name is `hosts/{host}/claims/{claim_id}`.
   */
  'name': (string);
  /**
   * ttl_ms, when set, replaces the claim's TTL (minimum 1000, maximum 3600000); the expiry
   * becomes now plus the TTL.
   */
  'ttl_ms': (number);
}
