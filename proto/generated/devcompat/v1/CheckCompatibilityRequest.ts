// Original file: proto/devcompat/v1/compatibility.proto

import type { DeviceRef as _devcompat_v1_DeviceRef, DeviceRef__Output as _devcompat_v1_DeviceRef__Output } from '../../devcompat/v1/DeviceRef.ts';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * CheckCompatibilityRequest asks whether source may migrate onto target, at the current
 * revision or, with `as_of_revision` / `as_of_time`, as the registry would have answered at
 * that point: replaying a verdict at its revision with the same engine gives the same verdict.
 */
export interface CheckCompatibilityRequest {
  /**
   * source is the device the VM uses now; required.
   */
  'source'?: (_devcompat_v1_DeviceRef | null);
  /**
   * target is the device the VM would move to; required.
   */
  'target'?: (_devcompat_v1_DeviceRef | null);
  /**
   * as_of_revision, when set, resolves registered devices as they were at that revision.
   */
  'as_of_revision'?: (number | string | Long);
  /**
   * as_of_time, when set, resolves registered devices as they were at that time.
   */
  'as_of_time'?: (_google_protobuf_Timestamp | null);
  /**
   * min_revision, when set, is the lowest registry revision the answer may reflect (read your
   * own writes made through another replica): a server that has not applied it yet waits, up
   * to the call's deadline and at most 5 s, then answers UNAVAILABLE. 0 = no minimum.
   */
  'min_revision'?: (number | string | Long);
}

/**
 * CheckCompatibilityRequest asks whether source may migrate onto target, at the current
 * revision or, with `as_of_revision` / `as_of_time`, as the registry would have answered at
 * that point: replaying a verdict at its revision with the same engine gives the same verdict.
 */
export interface CheckCompatibilityRequest__Output {
  /**
   * source is the device the VM uses now; required.
   */
  'source': (_devcompat_v1_DeviceRef__Output | null);
  /**
   * target is the device the VM would move to; required.
   */
  'target': (_devcompat_v1_DeviceRef__Output | null);
  /**
   * as_of_revision, when set, resolves registered devices as they were at that revision.
   */
  'as_of_revision': (string);
  /**
   * as_of_time, when set, resolves registered devices as they were at that time.
   */
  'as_of_time': (_google_protobuf_Timestamp__Output | null);
  /**
   * min_revision, when set, is the lowest registry revision the answer may reflect (read your
   * own writes made through another replica): a server that has not applied it yet waits, up
   * to the call's deadline and at most 5 s, then answers UNAVAILABLE. 0 = no minimum.
   */
  'min_revision': (string);
}
