// Original file: proto/devcompat/v1/registry.proto

import type { DeviceFilter as _devcompat_v1_DeviceFilter, DeviceFilter__Output as _devcompat_v1_DeviceFilter__Output } from '../../devcompat/v1/DeviceFilter.ts';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * ListDevicesRequest pages through devices in (host id, device id) order.
 */
export interface ListDevicesRequest {
  /**
   * page_size is the maximum number of devices to return: default 100, maximum 1000.
   */
  'page_size'?: (number);
  /**
   * page_token is the next_page_token of a previous call with the same filter.
   */
  'page_token'?: (string);
  /**
   * filter narrows the listing.
   */
  'filter'?: (_devcompat_v1_DeviceFilter | null);
  /**
   * as_of_revision, when set, lists the devices as they were at that revision (see
   * GetDeviceRequest). Every page of one listing must use the same point.
   */
  'as_of_revision'?: (number | string | Long);
  /**
   * as_of_time, when set, lists the devices as they were at that time.
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
 * ListDevicesRequest pages through devices in (host id, device id) order.
 */
export interface ListDevicesRequest__Output {
  /**
   * page_size is the maximum number of devices to return: default 100, maximum 1000.
   */
  'page_size': (number);
  /**
   * page_token is the next_page_token of a previous call with the same filter.
   */
  'page_token': (string);
  /**
   * filter narrows the listing.
   */
  'filter': (_devcompat_v1_DeviceFilter__Output | null);
  /**
   * as_of_revision, when set, lists the devices as they were at that revision (see
   * GetDeviceRequest). Every page of one listing must use the same point.
   */
  'as_of_revision': (string);
  /**
   * as_of_time, when set, lists the devices as they were at that time.
   */
  'as_of_time': (_google_protobuf_Timestamp__Output | null);
  /**
   * min_revision, when set, is the lowest registry revision the answer may reflect (read your
   * own writes made through another replica): a server that has not applied it yet waits, up
   * to the call's deadline and at most 5 s, then answers UNAVAILABLE. 0 = no minimum.
   */
  'min_revision': (string);
}
