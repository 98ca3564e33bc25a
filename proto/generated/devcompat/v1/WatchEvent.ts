// Original file: proto/devcompat/v1/watch.proto

import type { ChangeKind as _devcompat_v1_ChangeKind, ChangeKind__Output as _devcompat_v1_ChangeKind__Output } from '../../devcompat/v1/ChangeKind.ts';
import type { ResourceState as _devcompat_v1_ResourceState, ResourceState__Output as _devcompat_v1_ResourceState__Output } from '../../devcompat/v1/ResourceState.ts';

/**
 * WatchEvent is one change to one resource, as the watcher's filter sees it.
 */
export interface WatchEvent {
  /**
   * kind is what the change did, for this watcher: a change that moves a device out of the
   * filter is a DELETED (with after set, left_filter true); into it, a CREATED (with before
   * set, entered_filter true).
   */
  'kind'?: (_devcompat_v1_ChangeKind);
  /**
   * resource is the changed resource's name.
   */
  'resource'?: (string);
  /**
   * before is the resource before the change; absent for a creation.
   */
  'before'?: (_devcompat_v1_ResourceState | null);
  /**
   * after is the resource after the change; absent for a deletion.
   */
  'after'?: (_devcompat_v1_ResourceState | null);
  /**
   * actor is who made the change.
   */
  'actor'?: (string);
  /**
   * reason is why the change was made.
   */
  'reason'?: (string);
  /**
   * left_filter is true when the change moved the resource out of the watch's filter.
   */
  'left_filter'?: (boolean);
  /**
   * entered_filter is true when the change moved the resource into the watch's filter.
   */
  'entered_filter'?: (boolean);
}

/**
 * WatchEvent is one change to one resource, as the watcher's filter sees it.
 */
export interface WatchEvent__Output {
  /**
   * kind is what the change did, for this watcher: a change that moves a device out of the
   * filter is a DELETED (with after set, left_filter true); into it, a CREATED (with before
   * set, entered_filter true).
   */
  'kind': (_devcompat_v1_ChangeKind__Output);
  /**
   * resource is the changed resource's name.
   */
  'resource': (string);
  /**
   * before is the resource before the change; absent for a creation.
   */
  'before': (_devcompat_v1_ResourceState__Output | null);
  /**
   * after is the resource after the change; absent for a deletion.
   */
  'after': (_devcompat_v1_ResourceState__Output | null);
  /**
   * actor is who made the change.
   */
  'actor': (string);
  /**
   * reason is why the change was made.
   */
  'reason': (string);
  /**
   * left_filter is true when the change moved the resource out of the watch's filter.
   */
  'left_filter': (boolean);
  /**
   * entered_filter is true when the change moved the resource into the watch's filter.
   */
  'entered_filter': (boolean);
}
