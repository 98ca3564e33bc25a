// Original file: proto/devcompat/v1/placement.proto

/**
 * ClaimState is where a claim is in its lifecycle (docs/model.md, "Claims").
 */
export const ClaimState = {
  /**
   * CLAIM_STATE_UNSPECIFIED is never sent.
   */
  CLAIM_STATE_UNSPECIFIED: 'CLAIM_STATE_UNSPECIFIED',
  /**
   * CLAIM_STATE_ACTIVE means the claim holds its remaining units until it expires.
   */
  CLAIM_STATE_ACTIVE: 'CLAIM_STATE_ACTIVE',
  /**
   * CLAIM_STATE_RELEASED means a client released the claim; its units are free again.
   */
  CLAIM_STATE_RELEASED: 'CLAIM_STATE_RELEASED',
  /**
   * CLAIM_STATE_EXPIRED means the claim's TTL ran out before it was released or used up;
   * its units are free again.
   */
  CLAIM_STATE_EXPIRED: 'CLAIM_STATE_EXPIRED',
  /**
   * CLAIM_STATE_CONSUMED means host syncs used up every unit of the claim: the instances it
   * reserved now exist and the host reports them as no longer available.
   */
  CLAIM_STATE_CONSUMED: 'CLAIM_STATE_CONSUMED',
} as const;

/**
 * ClaimState is where a claim is in its lifecycle (docs/model.md, "Claims").
 */
export type ClaimState =
  /**
   * CLAIM_STATE_UNSPECIFIED is never sent.
   */
  | 'CLAIM_STATE_UNSPECIFIED'
  | 0
  /**
   * CLAIM_STATE_ACTIVE means the claim holds its remaining units until it expires.
   */
  | 'CLAIM_STATE_ACTIVE'
  | 1
  /**
   * CLAIM_STATE_RELEASED means a client released the claim; its units are free again.
   */
  | 'CLAIM_STATE_RELEASED'
  | 2
  /**
   * CLAIM_STATE_EXPIRED means the claim's TTL ran out before it was released or used up;
   * its units are free again.
   */
  | 'CLAIM_STATE_EXPIRED'
  | 3
  /**
   * CLAIM_STATE_CONSUMED means host syncs used up every unit of the claim: the instances it
   * reserved now exist and the host reports them as no longer available.
   */
  | 'CLAIM_STATE_CONSUMED'
  | 4

/**
 * ClaimState is where a claim is in its lifecycle (docs/model.md, "Claims").
 */
export type ClaimState__Output = typeof ClaimState[keyof typeof ClaimState]
