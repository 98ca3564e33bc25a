// Original file: proto/devcompat/v1/watch.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { WatchRequest as _devcompat_v1_WatchRequest, WatchRequest__Output as _devcompat_v1_WatchRequest__Output } from '../../devcompat/v1/WatchRequest.ts';
import type { WatchResponse as _devcompat_v1_WatchResponse, WatchResponse__Output as _devcompat_v1_WatchResponse__Output } from '../../devcompat/v1/WatchResponse.ts';

/**
 * WatchService is the registry's change feed: every change, exactly once, in revision order.
 */
export interface WatchServiceClient extends grpc.Client {
  /**
   * Watch streams changes from a start revision (inclusive) and then live. All the events
   * of one revision travel in one message. A quiet watch receives progress messages with
   * the current revision. A consumer too slow to keep up is cut off with RESOURCE_EXHAUSTED
   * (reason WATCH_TOO_SLOW) and resumes from its last revision + 1.
   */
  Watch(argument: _devcompat_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_devcompat_v1_WatchResponse__Output>;
  Watch(argument: _devcompat_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_devcompat_v1_WatchResponse__Output>;
  /**
   * Watch streams changes from a start revision (inclusive) and then live. All the events
   * of one revision travel in one message. A quiet watch receives progress messages with
   * the current revision. A consumer too slow to keep up is cut off with RESOURCE_EXHAUSTED
   * (reason WATCH_TOO_SLOW) and resumes from its last revision + 1.
   */
  watch(argument: _devcompat_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_devcompat_v1_WatchResponse__Output>;
  watch(argument: _devcompat_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_devcompat_v1_WatchResponse__Output>;
  
}

/**
 * WatchService is the registry's change feed: every change, exactly once, in revision order.
 */
export interface WatchServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Watch streams changes from a start revision (inclusive) and then live. All the events
   * of one revision travel in one message. A quiet watch receives progress messages with
   * the current revision. A consumer too slow to keep up is cut off with RESOURCE_EXHAUSTED
   * (reason WATCH_TOO_SLOW) and resumes from its last revision + 1.
   */
  Watch: grpc.handleServerStreamingCall<_devcompat_v1_WatchRequest__Output, _devcompat_v1_WatchResponse>;
  
}

export interface WatchServiceDefinition extends grpc.ServiceDefinition {
  Watch: MethodDefinition<_devcompat_v1_WatchRequest, _devcompat_v1_WatchResponse, _devcompat_v1_WatchRequest__Output, _devcompat_v1_WatchResponse__Output>
}
