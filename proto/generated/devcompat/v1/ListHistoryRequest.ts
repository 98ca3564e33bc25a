// Original file: proto/devcompat/v1/history.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp.ts';
import type { HistoryOrder as _devcompat_v1_HistoryOrder, HistoryOrder__Output as _devcompat_v1_HistoryOrder__Output } from '../../devcompat/v1/HistoryOrder.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * ListHistoryRequest filters and pages through history.
 */
export interface ListHistoryRequest {
  /**
   * resource is `hosts/{host}` (the host, its devices and its claims),
   * `hosts/{host}/devices/{device}`, `hosts/{host}/claims/{claim_id}` (every claim that used
   * that id), or empty for everything.
   */
  'resource'?: (string);
  /**
   * start_revision keeps entries at or after this revision; 0 = from the first.
   */
  'start_revision'?: (number | string | Long);
  /**
   * end_revision keeps entries at or before this revision; 0 = to the latest.
   */
  'end_revision'?: (number | string | Long);
  /**
   * start_time keeps entries at or after this time.
   */
  'start_time'?: (_google_protobuf_Timestamp | null);
  /**
   * end_time keeps entries before this time.
   */
  'end_time'?: (_google_protobuf_Timestamp | null);
  /**
   * actor keeps entries made by this actor.
   */
  'actor'?: (string);
  /**
   * order is newest first (the default) or oldest first.
   */
  'order'?: (_devcompat_v1_HistoryOrder);
  /**
   * page_size is the maximum number of entries to return: default 100, maximum 1000.
   */
  'page_size'?: (number);
  /**
   * page_token is the next_page_token of a previous call with the same filters.
   */
  'page_token'?: (string);
  /**
   * min_revision, when set, is the lowest registry revision the answer may reflect (read your
   * own writes made through another replica): a server that has not applied it yet waits, up
   * to the call's deadline and at most 5 s, then answers UNAVAILABLE. 0 = no minimum.
   */
  'min_revision'?: (number | string | Long);
}

/**
 * ListHistoryRequest filters and pages through history.
 */
export interface ListHistoryRequest__Output {
  /**
   * resource is `hosts/{host}` (the host, its devices and its claims),
   * `hosts/{host}/devices/{device}`, `hosts/{host}/claims/{claim_id}` (every claim that used
   * that id), or empty for everything.
   */
  'resource': (string);
  /**
   * start_revision keeps entries at or after this revision; 0 = from the first.
   */
  'start_revision': (string);
  /**
   * end_revision keeps entries at or before this revision; 0 = to the latest.
   */
  'end_revision': (string);
  /**
   * start_time keeps entries at or after this time.
   */
  'start_time': (_google_protobuf_Timestamp__Output | null);
  /**
   * end_time keeps entries before this time.
   */
  'end_time': (_google_protobuf_Timestamp__Output | null);
  /**
   * actor keeps entries made by this actor.
   */
  'actor': (string);
  /**
   * order is newest first (the default) or oldest first.
   */
  'order': (_devcompat_v1_HistoryOrder__Output);
  /**
   * page_size is the maximum number of entries to return: default 100, maximum 1000.
   */
  'page_size': (number);
  /**
   * page_token is the next_page_token of a previous call with the same filters.
   */
  'page_token': (string);
  /**
   * min_revision, when set, is the lowest registry revision the answer may reflect (read your
   * own writes made through another replica): a server that has not applied it yet waits, up
   * to the call's deadline and at most 5 s, then answers UNAVAILABLE. 0 = no minimum.
   */
  'min_revision': (string);
}
