// Original file: proto/devcompat/v1/compatibility.proto

/**
 * TargetChangeKind is what happened to one target of a standing query.
 */
export const TargetChangeKind = {
  /**
   * TARGET_CHANGE_KIND_UNSPECIFIED is never sent.
   */
  TARGET_CHANGE_KIND_UNSPECIFIED: 'TARGET_CHANGE_KIND_UNSPECIFIED',
  /**
   * TARGET_CHANGE_KIND_ADDED means the device is now a compatible target (also used for
   * every target of the initial set).
   */
  TARGET_CHANGE_KIND_ADDED: 'TARGET_CHANGE_KIND_ADDED',
  /**
   * TARGET_CHANGE_KIND_REMOVED means the device is no longer a target: deleted, now
   * incompatible, its host unreachable or draining, or filtered out.
   */
  TARGET_CHANGE_KIND_REMOVED: 'TARGET_CHANGE_KIND_REMOVED',
  /**
   * TARGET_CHANGE_KIND_UPDATED means the target stays but its verdict, capacity, host state
   * or sort key changed.
   */
  TARGET_CHANGE_KIND_UPDATED: 'TARGET_CHANGE_KIND_UPDATED',
} as const;

/**
 * TargetChangeKind is what happened to one target of a standing query.
 */
export type TargetChangeKind =
  /**
   * TARGET_CHANGE_KIND_UNSPECIFIED is never sent.
   */
  | 'TARGET_CHANGE_KIND_UNSPECIFIED'
  | 0
  /**
   * TARGET_CHANGE_KIND_ADDED means the device is now a compatible target (also used for
   * every target of the initial set).
   */
  | 'TARGET_CHANGE_KIND_ADDED'
  | 1
  /**
   * TARGET_CHANGE_KIND_REMOVED means the device is no longer a target: deleted, now
   * incompatible, its host unreachable or draining, or filtered out.
   */
  | 'TARGET_CHANGE_KIND_REMOVED'
  | 2
  /**
   * TARGET_CHANGE_KIND_UPDATED means the target stays but its verdict, capacity, host state
   * or sort key changed.
   */
  | 'TARGET_CHANGE_KIND_UPDATED'
  | 3

/**
 * TargetChangeKind is what happened to one target of a standing query.
 */
export type TargetChangeKind__Output = typeof TargetChangeKind[keyof typeof TargetChangeKind]
