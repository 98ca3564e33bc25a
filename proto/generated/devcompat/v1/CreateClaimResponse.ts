// Original file: proto/devcompat/v1/placement.proto

import type { Claim as _devcompat_v1_Claim, Claim__Output as _devcompat_v1_Claim__Output } from '../../devcompat/v1/Claim.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * CreateClaimResponse carries the claim.
 */
export interface CreateClaimResponse {
  /**
   * claim is the new claim, or the existing one when the request was a retry.
   */
  'claim'?: (_devcompat_v1_Claim | null);
  /**
   * created is false when a live claim with this claim_id and body already existed.
   */
  'created'?: (boolean);
  /**
   * revision is the registry revision after the call.
   */
  'revision'?: (number | string | Long);
  /**
   * head_hash is the history chain's head after the call (hex SHA-256).
   */
  'head_hash'?: (string);
}

/**
 * CreateClaimResponse carries the claim.
 */
export interface CreateClaimResponse__Output {
  /**
   * claim is the new claim, or the existing one when the request was a retry.
   */
  'claim': (_devcompat_v1_Claim__Output | null);
  /**
   * created is false when a live claim with this claim_id and body already existed.
   */
  'created': (boolean);
  /**
   * revision is the registry revision after the call.
   */
  'revision': (string);
  /**
   * head_hash is the history chain's head after the call (hex SHA-256).
   */
  'head_hash': (string);
}
