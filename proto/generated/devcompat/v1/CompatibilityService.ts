// Original file: proto/devcompat/v1/compatibility.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CheckCompatibilityRequest as _devcompat_v1_CheckCompatibilityRequest, CheckCompatibilityRequest__Output as _devcompat_v1_CheckCompatibilityRequest__Output } from '../../devcompat/v1/CheckCompatibilityRequest.ts';
import type { CheckCompatibilityResponse as _devcompat_v1_CheckCompatibilityResponse, CheckCompatibilityResponse__Output as _devcompat_v1_CheckCompatibilityResponse__Output } from '../../devcompat/v1/CheckCompatibilityResponse.ts';
import type { CheckCompatibilityStreamRequest as _devcompat_v1_CheckCompatibilityStreamRequest, CheckCompatibilityStreamRequest__Output as _devcompat_v1_CheckCompatibilityStreamRequest__Output } from '../../devcompat/v1/CheckCompatibilityStreamRequest.ts';
import type { CheckCompatibilityStreamResponse as _devcompat_v1_CheckCompatibilityStreamResponse, CheckCompatibilityStreamResponse__Output as _devcompat_v1_CheckCompatibilityStreamResponse__Output } from '../../devcompat/v1/CheckCompatibilityStreamResponse.ts';
import type { FindTargetsRequest as _devcompat_v1_FindTargetsRequest, FindTargetsRequest__Output as _devcompat_v1_FindTargetsRequest__Output } from '../../devcompat/v1/FindTargetsRequest.ts';
import type { FindTargetsResponse as _devcompat_v1_FindTargetsResponse, FindTargetsResponse__Output as _devcompat_v1_FindTargetsResponse__Output } from '../../devcompat/v1/FindTargetsResponse.ts';
import type { WatchTargetsRequest as _devcompat_v1_WatchTargetsRequest, WatchTargetsRequest__Output as _devcompat_v1_WatchTargetsRequest__Output } from '../../devcompat/v1/WatchTargetsRequest.ts';
import type { WatchTargetsResponse as _devcompat_v1_WatchTargetsResponse, WatchTargetsResponse__Output as _devcompat_v1_WatchTargetsResponse__Output } from '../../devcompat/v1/WatchTargetsResponse.ts';

/**
 * CompatibilityService answers "may a VM using this device be live-migrated onto that
 * one?" with directional, explained verdicts (docs/model.md).
 */
export interface CompatibilityServiceClient extends grpc.Client {
  /**
   * CheckCompatibility judges one source against one target.
   */
  CheckCompatibility(argument: _devcompat_v1_CheckCompatibilityRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_CheckCompatibilityResponse__Output>): grpc.ClientUnaryCall;
  CheckCompatibility(argument: _devcompat_v1_CheckCompatibilityRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_CheckCompatibilityResponse__Output>): grpc.ClientUnaryCall;
  CheckCompatibility(argument: _devcompat_v1_CheckCompatibilityRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_CheckCompatibilityResponse__Output>): grpc.ClientUnaryCall;
  CheckCompatibility(argument: _devcompat_v1_CheckCompatibilityRequest, callback: grpc.requestCallback<_devcompat_v1_CheckCompatibilityResponse__Output>): grpc.ClientUnaryCall;
  /**
   * CheckCompatibility judges one source against one target.
   */
  checkCompatibility(argument: _devcompat_v1_CheckCompatibilityRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_CheckCompatibilityResponse__Output>): grpc.ClientUnaryCall;
  checkCompatibility(argument: _devcompat_v1_CheckCompatibilityRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_CheckCompatibilityResponse__Output>): grpc.ClientUnaryCall;
  checkCompatibility(argument: _devcompat_v1_CheckCompatibilityRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_CheckCompatibilityResponse__Output>): grpc.ClientUnaryCall;
  checkCompatibility(argument: _devcompat_v1_CheckCompatibilityRequest, callback: grpc.requestCallback<_devcompat_v1_CheckCompatibilityResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * CheckCompatibilityStream judges many (source, target) pairs on one stream; a failing
   * item gets an error in its own result and the stream goes on.
   */
  CheckCompatibilityStream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_devcompat_v1_CheckCompatibilityStreamRequest, _devcompat_v1_CheckCompatibilityStreamResponse__Output>;
  CheckCompatibilityStream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_devcompat_v1_CheckCompatibilityStreamRequest, _devcompat_v1_CheckCompatibilityStreamResponse__Output>;
  /**
   * CheckCompatibilityStream judges many (source, target) pairs on one stream; a failing
   * item gets an error in its own result and the stream goes on.
   */
  checkCompatibilityStream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_devcompat_v1_CheckCompatibilityStreamRequest, _devcompat_v1_CheckCompatibilityStreamResponse__Output>;
  checkCompatibilityStream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_devcompat_v1_CheckCompatibilityStreamRequest, _devcompat_v1_CheckCompatibilityStreamResponse__Output>;
  
  /**
   * FindTargets streams the registered devices a source may migrate to, best first, then
   * (when asked) the rejected candidates with their reasons, then one summary.
   */
  FindTargets(argument: _devcompat_v1_FindTargetsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_devcompat_v1_FindTargetsResponse__Output>;
  FindTargets(argument: _devcompat_v1_FindTargetsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_devcompat_v1_FindTargetsResponse__Output>;
  /**
   * FindTargets streams the registered devices a source may migrate to, best first, then
   * (when asked) the rejected candidates with their reasons, then one summary.
   */
  findTargets(argument: _devcompat_v1_FindTargetsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_devcompat_v1_FindTargetsResponse__Output>;
  findTargets(argument: _devcompat_v1_FindTargetsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_devcompat_v1_FindTargetsResponse__Output>;
  
  /**
   * WatchTargets is a standing FindTargets: first the current set of compatible targets
   * (possibly over several messages), then, as the registry changes, only the targets that
   * were added, removed or changed, each with its revision and sort key.
   */
  WatchTargets(argument: _devcompat_v1_WatchTargetsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_devcompat_v1_WatchTargetsResponse__Output>;
  WatchTargets(argument: _devcompat_v1_WatchTargetsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_devcompat_v1_WatchTargetsResponse__Output>;
  /**
   * WatchTargets is a standing FindTargets: first the current set of compatible targets
   * (possibly over several messages), then, as the registry changes, only the targets that
   * were added, removed or changed, each with its revision and sort key.
   */
  watchTargets(argument: _devcompat_v1_WatchTargetsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_devcompat_v1_WatchTargetsResponse__Output>;
  watchTargets(argument: _devcompat_v1_WatchTargetsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_devcompat_v1_WatchTargetsResponse__Output>;
  
}

/**
 * CompatibilityService answers "may a VM using this device be live-migrated onto that
 * one?" with directional, explained verdicts (docs/model.md).
 */
export interface CompatibilityServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * CheckCompatibility judges one source against one target.
   */
  CheckCompatibility: grpc.handleUnaryCall<_devcompat_v1_CheckCompatibilityRequest__Output, _devcompat_v1_CheckCompatibilityResponse>;
  
  /**
   * CheckCompatibilityStream judges many (source, target) pairs on one stream; a failing
   * item gets an error in its own result and the stream goes on.
   */
  CheckCompatibilityStream: grpc.handleBidiStreamingCall<_devcompat_v1_CheckCompatibilityStreamRequest__Output, _devcompat_v1_CheckCompatibilityStreamResponse>;
  
  /**
   * FindTargets streams the registered devices a source may migrate to, best first, then
   * (when asked) the rejected candidates with their reasons, then one summary.
   */
  FindTargets: grpc.handleServerStreamingCall<_devcompat_v1_FindTargetsRequest__Output, _devcompat_v1_FindTargetsResponse>;
  
  /**
   * WatchTargets is a standing FindTargets: first the current set of compatible targets
   * (possibly over several messages), then, as the registry changes, only the targets that
   * were added, removed or changed, each with its revision and sort key.
   */
  WatchTargets: grpc.handleServerStreamingCall<_devcompat_v1_WatchTargetsRequest__Output, _devcompat_v1_WatchTargetsResponse>;
  
}

export interface CompatibilityServiceDefinition extends grpc.ServiceDefinition {
  CheckCompatibility: MethodDefinition<_devcompat_v1_CheckCompatibilityRequest, _devcompat_v1_CheckCompatibilityResponse, _devcompat_v1_CheckCompatibilityRequest__Output, _devcompat_v1_CheckCompatibilityResponse__Output>
  CheckCompatibilityStream: MethodDefinition<_devcompat_v1_CheckCompatibilityStreamRequest, _devcompat_v1_CheckCompatibilityStreamResponse, _devcompat_v1_CheckCompatibilityStreamRequest__Output, _devcompat_v1_CheckCompatibilityStreamResponse__Output>
  FindTargets: MethodDefinition<_devcompat_v1_FindTargetsRequest, _devcompat_v1_FindTargetsResponse, _devcompat_v1_FindTargetsRequest__Output, _devcompat_v1_FindTargetsResponse__Output>
  WatchTargets: MethodDefinition<_devcompat_v1_WatchTargetsRequest, _devcompat_v1_WatchTargetsResponse, _devcompat_v1_WatchTargetsRequest__Output, _devcompat_v1_WatchTargetsResponse__Output>
}
