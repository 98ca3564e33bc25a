// Original file: proto/devcompat/v1/history.proto

import type { Long } from '@grpc/proto-loader';

/**
 * VerifyHistoryRequest asks for a walk of the history chain.
 */
export interface VerifyHistoryRequest {
  /**
   * expected_head, when set, is a head hash (hex) obtained earlier from a write response, a
   * watch message or the server log; the walk must reach an entry with this hash.
   */
  'expected_head'?: (string);
  /**
   * min_revision, when set, is the lowest registry revision the answer may reflect (read your
   * own writes made through another replica): a server that has not applied it yet waits, up
   * to the call's deadline and at most 5 s, then answers UNAVAILABLE. 0 = no minimum.
   */
  'min_revision'?: (number | string | Long);
}

/**
 * VerifyHistoryRequest asks for a walk of the history chain.
 */
export interface VerifyHistoryRequest__Output {
  /**
   * expected_head, when set, is a head hash (hex) obtained earlier from a write response, a
   * watch message or the server log; the walk must reach an entry with this hash.
   */
  'expected_head': (string);
  /**
   * min_revision, when set, is the lowest registry revision the answer may reflect (read your
   * own writes made through another replica): a server that has not applied it yet waits, up
   * to the call's deadline and at most 5 s, then answers UNAVAILABLE. 0 = no minimum.
   */
  'min_revision': (string);
}
