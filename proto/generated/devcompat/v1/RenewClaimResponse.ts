// Original file: proto/devcompat/v1/placement.proto

import type { Claim as _devcompat_v1_Claim, Claim__Output as _devcompat_v1_Claim__Output } from '../../devcompat/v1/Claim.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * RenewClaimResponse carries the renewed claim.
 */
export interface RenewClaimResponse {
  /**
   * claim is the claim with its new expiry.
   */
  'claim'?: (_devcompat_v1_Claim | null);
  /**
   * revision is the registry revision after the call.
   */
  'revision'?: (number | string | Long);
}

/**
 * RenewClaimResponse carries the renewed claim.
 */
export interface RenewClaimResponse__Output {
  /**
   * claim is the claim with its new expiry.
   */
  'claim': (_devcompat_v1_Claim__Output | null);
  /**
   * revision is the registry revision after the call.
   */
  'revision': (string);
}
