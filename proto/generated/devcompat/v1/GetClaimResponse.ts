// Original file: proto/devcompat/v1/placement.proto

import type { Claim as _devcompat_v1_Claim, Claim__Output as _devcompat_v1_Claim__Output } from '../../devcompat/v1/Claim.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * GetClaimResponse carries one claim.
 */
export interface GetClaimResponse {
  /**
   * claim is the live claim.
   */
  'claim'?: (_devcompat_v1_Claim | null);
  /**
   * revision is the registry revision this read reflects.
   */
  'revision'?: (number | string | Long);
}

/**
 * GetClaimResponse carries one claim.
 */
export interface GetClaimResponse__Output {
  /**
   * claim is the live claim.
   */
  'claim': (_devcompat_v1_Claim__Output | null);
  /**
   * revision is the registry revision this read reflects.
   */
  'revision': (string);
}
