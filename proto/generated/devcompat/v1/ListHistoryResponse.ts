// Original file: proto/devcompat/v1/history.proto

import type { HistoryEntry as _devcompat_v1_HistoryEntry, HistoryEntry__Output as _devcompat_v1_HistoryEntry__Output } from '../../devcompat/v1/HistoryEntry.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * ListHistoryResponse is one page of history.
 */
export interface ListHistoryResponse {
  /**
   * entries are in the requested order.
   */
  'entries'?: (_devcompat_v1_HistoryEntry)[];
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
 * ListHistoryResponse is one page of history.
 */
export interface ListHistoryResponse__Output {
  /**
   * entries are in the requested order.
   */
  'entries': (_devcompat_v1_HistoryEntry__Output)[];
  /**
   * next_page_token fetches the next page; empty on the last page.
   */
  'next_page_token': (string);
  /**
   * revision is the registry revision this page reflects.
   */
  'revision': (string);
}
