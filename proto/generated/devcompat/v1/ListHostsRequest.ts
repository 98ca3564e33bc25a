// Original file: proto/devcompat/v1/registry.proto


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
}
