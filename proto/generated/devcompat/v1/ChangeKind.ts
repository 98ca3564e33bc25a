// Original file: proto/devcompat/v1/history.proto

/**
 * ChangeKind is what a history entry did to its resource; more kinds will be added.
 */
export const ChangeKind = {
  /**
   * CHANGE_KIND_UNSPECIFIED is never sent.
   */
  CHANGE_KIND_UNSPECIFIED: 'CHANGE_KIND_UNSPECIFIED',
  /**
   * CHANGE_KIND_CREATED means the resource was created.
   */
  CHANGE_KIND_CREATED: 'CHANGE_KIND_CREATED',
  /**
   * CHANGE_KIND_UPDATED means the resource changed.
   */
  CHANGE_KIND_UPDATED: 'CHANGE_KIND_UPDATED',
  /**
   * CHANGE_KIND_DELETED means the resource was removed.
   */
  CHANGE_KIND_DELETED: 'CHANGE_KIND_DELETED',
} as const;

/**
 * ChangeKind is what a history entry did to its resource; more kinds will be added.
 */
export type ChangeKind =
  /**
   * CHANGE_KIND_UNSPECIFIED is never sent.
   */
  | 'CHANGE_KIND_UNSPECIFIED'
  | 0
  /**
   * CHANGE_KIND_CREATED means the resource was created.
   */
  | 'CHANGE_KIND_CREATED'
  | 1
  /**
   * CHANGE_KIND_UPDATED means the resource changed.
   */
  | 'CHANGE_KIND_UPDATED'
  | 2
  /**
   * CHANGE_KIND_DELETED means the resource was removed.
   */
  | 'CHANGE_KIND_DELETED'
  | 3

/**
 * ChangeKind is what a history entry did to its resource; more kinds will be added.
 */
export type ChangeKind__Output = typeof ChangeKind[keyof typeof ChangeKind]
