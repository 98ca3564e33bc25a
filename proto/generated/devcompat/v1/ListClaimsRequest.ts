// Original file: proto/devcompat/v1/placement.proto

import type { Long } from '@grpc/proto-loader';

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
  /**
   * min_revision, when set, is the lowest registry revision the answer may reflect (read your
   * own writes made through another replica): a server that has not applied it yet waits, up
   * to the call's deadline and at most 5 s, then answers UNAVAILABLE. 0 = no minimum.
   */
  'min_revision'?: (number | string | Long);
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
  /**
   * min_revision, when set, is the lowest registry revision the answer may reflect (read your
   * own writes made through another replica): a server that has not applied it yet waits, up
   * to the call's deadline and at most 5 s, then answers UNAVAILABLE. 0 = no minimum.
   */
  'min_revision': (string);
}
