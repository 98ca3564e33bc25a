// Original file: proto/devcompat/v1/placement.proto

import type { Long } from '@grpc/proto-loader';

/**
 * GetClaimRequest names one claim.
 */
export interface GetClaimRequest {
  /**
   * name is `hosts/{host}/claims/{claim_id}`.
   */
  'name'?: (string);
  /**
   * min_revision, when set, is the lowest registry revision the answer may reflect (read your
   * own writes made through another replica): a server that has not applied it yet waits, up
   * to the call's deadline and at most 5 s, then answers UNAVAILABLE. 0 = no minimum.
   */
  'min_revision'?: (number | string | Long);
}

/**
 * GetClaimRequest names one claim.
 */
export interface GetClaimRequest__Output {
  /**
   * name is `hosts/{host}/claims/{claim_id}`.
   */
  'name': (string);
  /**
   * min_revision, when set, is the lowest registry revision the answer may reflect (read your
   * own writes made through another replica): a server that has not applied it yet waits, up
   * to the call's deadline and at most 5 s, then answers UNAVAILABLE. 0 = no minimum.
   */
  'min_revision': (string);
}
