// Original file: proto/devcompat/v1/history.proto


/**
 * VerifyHistoryRequest asks for a walk of the history chain.
 */
export interface VerifyHistoryRequest {
  /**
   * expected_head, when set, is a head hash (hex) obtained earlier from a write response, a
   * watch message or the server log; the walk must reach an entry with this hash.
   */
  'expected_head'?: (string);
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
}
