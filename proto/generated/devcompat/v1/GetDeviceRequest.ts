// Original file: proto/devcompat/v1/registry.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * GetDeviceRequest names one device.
 */
export interface GetDeviceRequest {
  /**
   * name is `hosts/{host}/devices/{device}`.
   */
  'name'?: (string);
  /**
   * as_of_revision, when set, reads the device as it was at that revision; it must not be
   * older than the oldest revision history holds (else OUT_OF_RANGE) nor newer than now.
   */
  'as_of_revision'?: (number | string | Long);
  /**
   * as_of_time, when set, reads the device as it was at that time (the latest revision
   * committed at or before it). Set at most one of as_of_revision and as_of_time.
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
 * GetDeviceRequest names one device.
 */
export interface GetDeviceRequest__Output {
  /**
   * name is `hosts/{host}/devices/{device}`.
   */
  'name': (string);
  /**
   * as_of_revision, when set, reads the device as it was at that revision; it must not be
   * older than the oldest revision history holds (else OUT_OF_RANGE) nor newer than now.
   */
  'as_of_revision': (string);
  /**
   * as_of_time, when set, reads the device as it was at that time (the latest revision
   * committed at or before it). Set at most one of as_of_revision and as_of_time.
   */
  'as_of_time': (_google_protobuf_Timestamp__Output | null);
  /**
   * min_revision, when set, is the lowest registry revision the answer may reflect (read your
   * own writes made through another replica): a server that has not applied it yet waits, up
   * to the call's deadline and at most 5 s, then answers UNAVAILABLE. 0 = no minimum.
   */
  'min_revision': (string);
}
