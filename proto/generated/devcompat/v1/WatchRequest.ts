// Original file: proto/devcompat/v1/watch.proto

import type { WatchFilter as _devcompat_v1_WatchFilter, WatchFilter__Output as _devcompat_v1_WatchFilter__Output } from '../../devcompat/v1/WatchFilter.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * WatchRequest starts a watch.
 */
export interface WatchRequest {
  /**
   * start_revision is the first revision to deliver (inclusive); 0 = from now (the next
   * revision). Older than the oldest revision history holds: OUT_OF_RANGE, with the oldest
   * available revision in the error's metadata (`oldest_revision`).
   */
  'start_revision'?: (number | string | Long);
  /**
   * filter narrows the events; empty = everything.
   */
  'filter'?: (_devcompat_v1_WatchFilter | null);
  /**
   * progress_interval_ms is how long a watch may stay quiet before a progress message is
   * sent: default 5000, minimum 100.
   */
  'progress_interval_ms'?: (number);
  /**
   * min_revision, when set, holds the watch until the server has applied that registry
   * revision, so that the created message's revision is at least it (a watch from now then
   * starts after the caller's own writes). It waits up to the call's deadline, at most 5 s,
   * then answers UNAVAILABLE. 0 = no minimum.
   */
  'min_revision'?: (number | string | Long);
}

/**
 * WatchRequest starts a watch.
 */
export interface WatchRequest__Output {
  /**
   * start_revision is the first revision to deliver (inclusive); 0 = from now (the next
   * revision). Older than the oldest revision history holds: OUT_OF_RANGE, with the oldest
   * available revision in the error's metadata (`oldest_revision`).
   */
  'start_revision': (string);
  /**
   * filter narrows the events; empty = everything.
   */
  'filter': (_devcompat_v1_WatchFilter__Output | null);
  /**
   * progress_interval_ms is how long a watch may stay quiet before a progress message is
   * sent: default 5000, minimum 100.
   */
  'progress_interval_ms': (number);
  /**
   * min_revision, when set, holds the watch until the server has applied that registry
   * revision, so that the created message's revision is at least it (a watch from now then
   * starts after the caller's own writes). It waits up to the call's deadline, at most 5 s,
   * then answers UNAVAILABLE. 0 = no minimum.
   */
  'min_revision': (string);
}
