// Original file: proto/devcompat/v1/registry.proto

import type { Device as _devcompat_v1_Device, Device__Output as _devcompat_v1_Device__Output } from '../../devcompat/v1/Device.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * ListDevicesResponse is one page of devices.
 */
export interface ListDevicesResponse {
  /**
   * devices are in ascending (host id, device id) order. This is not always the order of
   * the name strings: `hosts/a/devices/x` comes before `hosts/a.b/devices/x`.
   */
  'devices'?: (_devcompat_v1_Device)[];
  /**
   * next_page_token fetches the next page; empty on the last page.
   */
  'next_page_token'?: (string);
  /**
   * revision is the registry revision this page reflects.
   */
  'revision'?: (number | string | Long);
}

/**
 * ListDevicesResponse is one page of devices.
 */
export interface ListDevicesResponse__Output {
  /**
   * devices are in ascending (host id, device id) order. This is not always the order of
   * the name strings: `hosts/a/devices/x` comes before `hosts/a.b/devices/x`.
   */
  'devices': (_devcompat_v1_Device__Output)[];
  /**
   * next_page_token fetches the next page; empty on the last page.
   */
  'next_page_token': (string);
  /**
   * revision is the registry revision this page reflects.
   */
  'revision': (string);
}
