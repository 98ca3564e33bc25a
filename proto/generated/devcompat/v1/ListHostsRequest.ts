// Original file: proto/devcompat/v1/registry.proto

import type { Long } from '@grpc/proto-loader';

/**
 * ListHostsRequest pages through hosts in host id order.
 */
export interface ListHostsRequest {
  /**
   * page_size is the maximum number of hosts to return: default 100, maximum 1000.
   */
  'page_size'?: (number);
  /**
   * page_token is the next_page_token of a previous call with the same filters.
   */
  'page_token'?: (string);
  /**
   * labels keeps hosts that have every one of these labels.
   */
  'labels'?: ({[key: string]: string});
  /**
   * min_revision, when set, is the lowest registry revision the answer may reflect (read your
   * own writes made through another replica): a server that has not applied it yet waits, up
   * to the call's deadline and at most 5 s, then answers UNAVAILABLE. 0 = no minimum.
   */
  'min_revision'?: (number | string | Long);
}

/**
 * ListHostsRequest pages through hosts in host id order.
 */
export interface ListHostsRequest__Output {
  /**
   * page_size is the maximum number of hosts to return: default 100, maximum 1000.
   */
  'page_size': (number);
  /**
   * page_token is the next_page_token of a previous call with the same filters.
   */
  'page_token': (string);
  /**
   * labels keeps hosts that have every one of these labels.
   */
  'labels': ({[key: string]: string});
  /**
   * min_revision, when set, is the lowest registry revision the answer may reflect (read your
   * own writes made through another replica): a server that has not applied it yet waits, up
   * to the call's deadline and at most 5 s, then answers UNAVAILABLE. 0 = no minimum.
   */
  'min_revision': (string);
}
