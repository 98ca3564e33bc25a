// Original file: proto/devcompat/v1/registry.proto

import type { Host as _devcompat_v1_Host, Host__Output as _devcompat_v1_Host__Output } from '../../devcompat/v1/Host.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * ListHostsResponse is one page of hosts.
 */
export interface ListHostsResponse {
  /**
   * hosts are in ascending host id order.
   */
  'hosts'?: (_devcompat_v1_Host)[];
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
 * ListHostsResponse is one page of hosts.
 */
export interface ListHostsResponse__Output {
  /**
   * hosts are in ascending host id order.
   */
  'hosts': (_devcompat_v1_Host__Output)[];
  /**
   * next_page_token fetches the next page; empty on the last page.
   */
  'next_page_token': (string);
  /**
   * revision is the registry revision this page reflects.
   */
  'revision': (string);
}
