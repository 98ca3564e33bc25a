// Original file: proto/devcompat/v1/placement.proto

import type { Claim as _devcompat_v1_Claim, Claim__Output as _devcompat_v1_Claim__Output } from '../../devcompat/v1/Claim.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * ListClaimsResponse is one page of claims.
 */
export interface ListClaimsResponse {
  /**
   * claims are in ascending (host id, claim id) order.
   */
  'claims'?: (_devcompat_v1_Claim)[];
  /**
   * next_page_token fetches the next page; empty on the last page.
   */
  'next_page_token'?: (string);
  /**
   * revision is the registry revision this page reflects.
   */
  'revision'?: (number | string | Long);
}

/**
 * ListClaimsResponse is one page of claims.
 */
export interface ListClaimsResponse__Output {
  /**
   * claims are in ascending (host id, claim id) order.
   */
  'claims': (_devcompat_v1_Claim__Output)[];
  /**
   * next_page_token fetches the next page; empty on the last page.
   */
  'next_page_token': (string);
  /**
   * revision is the registry revision this page reflects.
   */
  'revision': (string);
}
