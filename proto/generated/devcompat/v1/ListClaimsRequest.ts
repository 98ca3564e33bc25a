// Original file: proto/devcompat/v1/placement.proto


/**
 * ListClaimsRequest pages through live claims in (host id, claim id) order.
 */
export interface ListClaimsRequest {
  /**
   * parent is `hosts/{host}` for one host's claims, or `hosts/-` (the default) for every
   * host's.
   */
  'parent'?: (string);
  /**
   * claim_id, when set, keeps only claims with this claim id (on any host of parent).
   */
  'claim_id'?: (string);
  /**
   * page_size is the maximum number of claims to return: default 100, maximum 1000.
   */
  'page_size'?: (number);
  /**
   * page_token is the next_page_token of a previous call with the same parent and claim_id.
   */
  'page_token'?: (string);
}

/**
 * ListClaimsRequest pages through live claims in (host id, claim id) order.
 */
export interface ListClaimsRequest__Output {
  /**
   * parent is `hosts/{host}` for one host's claims, or `hosts/-` (the default) for every
   * host's.
   */
  'parent': (string);
  /**
   * claim_id, when set, keeps only claims with this claim id (on any host of parent).
   */
  'claim_id': (string);
  /**
   * page_size is the maximum number of claims to return: default 100, maximum 1000.
   */
  'page_size': (number);
  /**
   * page_token is the next_page_token of a previous call with the same parent and claim_id.
   */
  'page_token': (string);
}
