// Original file: proto/google/rpc/status.proto

import type { Any as _google_protobuf_Any, Any__Output as _google_protobuf_Any__Output } from '../../google/protobuf/Any.ts';

/**
 * Status is the standard error model: a gRPC code, a message, and typed details.
 */
export interface Status {
  /**
   * code is the google.rpc.Code value.
   */
  'code'?: (number);
  /**
   * message is a developer-facing error message in English.
   */
  'message'?: (string);
  /**
   * details carries ErrorInfo and BadRequest messages.
   */
  'details'?: (_google_protobuf_Any)[];
}

/**
 * Status is the standard error model: a gRPC code, a message, and typed details.
 */
export interface Status__Output {
  /**
   * code is the google.rpc.Code value.
   */
  'code': (number);
  /**
   * message is a developer-facing error message in English.
   */
  'message': (string);
  /**
   * details carries ErrorInfo and BadRequest messages.
   */
  'details': (_google_protobuf_Any__Output)[];
}
