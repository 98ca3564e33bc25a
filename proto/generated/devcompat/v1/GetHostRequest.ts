// Original file: proto/devcompat/v1/registry.proto

import type { Long } from '@grpc/proto-loader';

/**
 * GetHostRequest names one host.
 */
export interface GetHostRequest {
  /**
   * name is `hosts/{host}`.
   */
  'name'?: (string);
  /**
   * min_revision, when set, is the lowest registry revision the answer may reflect (read your
   * own writes made through another replica): a server that has not applied it yet waits, up
   * to the call's deadline and at most 5 s, then answers UNAVAILABLE. 0 = no minimum.
   */
  'min_revision'?: (number | string | Long);
}

/**
 * GetHostRequest names one host.
 */
export interface GetHostRequest__Output {
  /**
   * name is `hosts/{host}`.
   */
  'name': (string);
  /**
   * min_revision, when set, is the lowest registry revision the answer may reflect (read your
   * own writes made through another replica): a server that has not applied it yet waits, up
   * to the call's deadline and at most 5 s, then answers UNAVAILABLE. 0 = no minimum.
   */
  'min_revision': (string);
}
