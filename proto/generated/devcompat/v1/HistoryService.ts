// Original file: proto/devcompat/v1/history.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CompactHistoryRequest as _devcompat_v1_CompactHistoryRequest, CompactHistoryRequest__Output as _devcompat_v1_CompactHistoryRequest__Output } from '../../devcompat/v1/CompactHistoryRequest.ts';
import type { CompactHistoryResponse as _devcompat_v1_CompactHistoryResponse, CompactHistoryResponse__Output as _devcompat_v1_CompactHistoryResponse__Output } from '../../devcompat/v1/CompactHistoryResponse.ts';
import type { ListHistoryRequest as _devcompat_v1_ListHistoryRequest, ListHistoryRequest__Output as _devcompat_v1_ListHistoryRequest__Output } from '../../devcompat/v1/ListHistoryRequest.ts';
import type { ListHistoryResponse as _devcompat_v1_ListHistoryResponse, ListHistoryResponse__Output as _devcompat_v1_ListHistoryResponse__Output } from '../../devcompat/v1/ListHistoryResponse.ts';
import type { VerifyHistoryRequest as _devcompat_v1_VerifyHistoryRequest, VerifyHistoryRequest__Output as _devcompat_v1_VerifyHistoryRequest__Output } from '../../devcompat/v1/VerifyHistoryRequest.ts';
import type { VerifyHistoryResponse as _devcompat_v1_VerifyHistoryResponse, VerifyHistoryResponse__Output as _devcompat_v1_VerifyHistoryResponse__Output } from '../../devcompat/v1/VerifyHistoryResponse.ts';

/**
 * HistoryService reads the registry's history: every change, when, by whom, at which revision.
 */
export interface HistoryServiceClient extends grpc.Client {
  /**
   * CompactHistory removes history up to and including a revision, keeping a checkpoint of
   * the chain's hash at the cut. Watches and point-in-time reads before the cut then fail
   * with OUT_OF_RANGE.
   */
  CompactHistory(argument: _devcompat_v1_CompactHistoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_CompactHistoryResponse__Output>): grpc.ClientUnaryCall;
  CompactHistory(argument: _devcompat_v1_CompactHistoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_CompactHistoryResponse__Output>): grpc.ClientUnaryCall;
  CompactHistory(argument: _devcompat_v1_CompactHistoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_CompactHistoryResponse__Output>): grpc.ClientUnaryCall;
  CompactHistory(argument: _devcompat_v1_CompactHistoryRequest, callback: grpc.requestCallback<_devcompat_v1_CompactHistoryResponse__Output>): grpc.ClientUnaryCall;
  /**
   * CompactHistory removes history up to and including a revision, keeping a checkpoint of
   * the chain's hash at the cut. Watches and point-in-time reads before the cut then fail
   * with OUT_OF_RANGE.
   */
  compactHistory(argument: _devcompat_v1_CompactHistoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_CompactHistoryResponse__Output>): grpc.ClientUnaryCall;
  compactHistory(argument: _devcompat_v1_CompactHistoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_CompactHistoryResponse__Output>): grpc.ClientUnaryCall;
  compactHistory(argument: _devcompat_v1_CompactHistoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_CompactHistoryResponse__Output>): grpc.ClientUnaryCall;
  compactHistory(argument: _devcompat_v1_CompactHistoryRequest, callback: grpc.requestCallback<_devcompat_v1_CompactHistoryResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * ListHistory lists changes, filtered and paginated, newest or oldest first.
   */
  ListHistory(argument: _devcompat_v1_ListHistoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_ListHistoryResponse__Output>): grpc.ClientUnaryCall;
  ListHistory(argument: _devcompat_v1_ListHistoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_ListHistoryResponse__Output>): grpc.ClientUnaryCall;
  ListHistory(argument: _devcompat_v1_ListHistoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_ListHistoryResponse__Output>): grpc.ClientUnaryCall;
  ListHistory(argument: _devcompat_v1_ListHistoryRequest, callback: grpc.requestCallback<_devcompat_v1_ListHistoryResponse__Output>): grpc.ClientUnaryCall;
  /**
   * ListHistory lists changes, filtered and paginated, newest or oldest first.
   */
  listHistory(argument: _devcompat_v1_ListHistoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_ListHistoryResponse__Output>): grpc.ClientUnaryCall;
  listHistory(argument: _devcompat_v1_ListHistoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_ListHistoryResponse__Output>): grpc.ClientUnaryCall;
  listHistory(argument: _devcompat_v1_ListHistoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_ListHistoryResponse__Output>): grpc.ClientUnaryCall;
  listHistory(argument: _devcompat_v1_ListHistoryRequest, callback: grpc.requestCallback<_devcompat_v1_ListHistoryResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * VerifyHistory walks the hash chain from the last compaction checkpoint to the head and
   * reports the first entry that was altered, removed or reordered; with expected_head it
   * also proves that history up to that head is intact (a rewritten chain or a truncated
   * tail no longer contains it).
   */
  VerifyHistory(argument: _devcompat_v1_VerifyHistoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_VerifyHistoryResponse__Output>): grpc.ClientUnaryCall;
  VerifyHistory(argument: _devcompat_v1_VerifyHistoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_VerifyHistoryResponse__Output>): grpc.ClientUnaryCall;
  VerifyHistory(argument: _devcompat_v1_VerifyHistoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_VerifyHistoryResponse__Output>): grpc.ClientUnaryCall;
  VerifyHistory(argument: _devcompat_v1_VerifyHistoryRequest, callback: grpc.requestCallback<_devcompat_v1_VerifyHistoryResponse__Output>): grpc.ClientUnaryCall;
  /**
   * VerifyHistory walks the hash chain from the last compaction checkpoint to the head and
   * reports the first entry that was altered, removed or reordered; with expected_head it
   * also proves that history up to that head is intact (a rewritten chain or a truncated
   * tail no longer contains it).
   */
  verifyHistory(argument: _devcompat_v1_VerifyHistoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_VerifyHistoryResponse__Output>): grpc.ClientUnaryCall;
  verifyHistory(argument: _devcompat_v1_VerifyHistoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_VerifyHistoryResponse__Output>): grpc.ClientUnaryCall;
  verifyHistory(argument: _devcompat_v1_VerifyHistoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_VerifyHistoryResponse__Output>): grpc.ClientUnaryCall;
  verifyHistory(argument: _devcompat_v1_VerifyHistoryRequest, callback: grpc.requestCallback<_devcompat_v1_VerifyHistoryResponse__Output>): grpc.ClientUnaryCall;
  
}

/**
 * HistoryService reads the registry's history: every change, when, by whom, at which revision.
 */
export interface HistoryServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * CompactHistory removes history up to and including a revision, keeping a checkpoint of
   * the chain's hash at the cut. Watches and point-in-time reads before the cut then fail
   * with OUT_OF_RANGE.
   */
  CompactHistory: grpc.handleUnaryCall<_devcompat_v1_CompactHistoryRequest__Output, _devcompat_v1_CompactHistoryResponse>;
  
  /**
   * ListHistory lists changes, filtered and paginated, newest or oldest first.
   */
  ListHistory: grpc.handleUnaryCall<_devcompat_v1_ListHistoryRequest__Output, _devcompat_v1_ListHistoryResponse>;
  
  /**
   * VerifyHistory walks the hash chain from the last compaction checkpoint to the head and
   * reports the first entry that was altered, removed or reordered; with expected_head it
   * also proves that history up to that head is intact (a rewritten chain or a truncated
   * tail no longer contains it).
   */
  VerifyHistory: grpc.handleUnaryCall<_devcompat_v1_VerifyHistoryRequest__Output, _devcompat_v1_VerifyHistoryResponse>;
  
}

export interface HistoryServiceDefinition extends grpc.ServiceDefinition {
  CompactHistory: MethodDefinition<_devcompat_v1_CompactHistoryRequest, _devcompat_v1_CompactHistoryResponse, _devcompat_v1_CompactHistoryRequest__Output, _devcompat_v1_CompactHistoryResponse__Output>
  ListHistory: MethodDefinition<_devcompat_v1_ListHistoryRequest, _devcompat_v1_ListHistoryResponse, _devcompat_v1_ListHistoryRequest__Output, _devcompat_v1_ListHistoryResponse__Output>
  VerifyHistory: MethodDefinition<_devcompat_v1_VerifyHistoryRequest, _devcompat_v1_VerifyHistoryResponse, _devcompat_v1_VerifyHistoryRequest__Output, _devcompat_v1_VerifyHistoryResponse__Output>
}
