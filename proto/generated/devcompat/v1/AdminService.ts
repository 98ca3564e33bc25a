// Original file: proto/devcompat/v1/admin.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { BackupRequest as _devcompat_v1_BackupRequest, BackupRequest__Output as _devcompat_v1_BackupRequest__Output } from '../../devcompat/v1/BackupRequest.ts';
import type { BackupResponse as _devcompat_v1_BackupResponse, BackupResponse__Output as _devcompat_v1_BackupResponse__Output } from '../../devcompat/v1/BackupResponse.ts';

/**
 * AdminService holds an operator's calls on the server itself. Every method needs the admin
 * role (docs/security.md).
 */
export interface AdminServiceClient extends grpc.Client {
  /**
   * Backup writes a consistent copy of the registry's database to a new file on the server's
   * host (SQLite's VACUUM INTO, run between two commits: writes wait while it runs, none is
   * lost) and returns the revision and history head the copy ends at. The copy is restored with
   * `devcompat restore` (docs/operations.md); `devcompat audit verify --expect-head` then
   * proves the restored history against the head returned here.
   */
  Backup(argument: _devcompat_v1_BackupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_BackupResponse__Output>): grpc.ClientUnaryCall;
  Backup(argument: _devcompat_v1_BackupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_BackupResponse__Output>): grpc.ClientUnaryCall;
  Backup(argument: _devcompat_v1_BackupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_BackupResponse__Output>): grpc.ClientUnaryCall;
  Backup(argument: _devcompat_v1_BackupRequest, callback: grpc.requestCallback<_devcompat_v1_BackupResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Backup writes a consistent copy of the registry's database to a new file on the server's
   * host (SQLite's VACUUM INTO, run between two commits: writes wait while it runs, none is
   * lost) and returns the revision and history head the copy ends at. The copy is restored with
   * `devcompat restore` (docs/operations.md); `devcompat audit verify --expect-head` then
   * proves the restored history against the head returned here.
   */
  backup(argument: _devcompat_v1_BackupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_BackupResponse__Output>): grpc.ClientUnaryCall;
  backup(argument: _devcompat_v1_BackupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_devcompat_v1_BackupResponse__Output>): grpc.ClientUnaryCall;
  backup(argument: _devcompat_v1_BackupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_devcompat_v1_BackupResponse__Output>): grpc.ClientUnaryCall;
  backup(argument: _devcompat_v1_BackupRequest, callback: grpc.requestCallback<_devcompat_v1_BackupResponse__Output>): grpc.ClientUnaryCall;
  
}

/**
 * AdminService holds an operator's calls on the server itself. Every method needs the admin
 * role (docs/security.md).
 */
export interface AdminServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Backup writes a consistent copy of the registry's database to a new file on the server's
   * host (SQLite's VACUUM INTO, run between two commits: writes wait while it runs, none is
   * lost) and returns the revision and history head the copy ends at. The copy is restored with
   * `devcompat restore` (docs/operations.md); `devcompat audit verify --expect-head` then
   * proves the restored history against the head returned here.
   */
  Backup: grpc.handleUnaryCall<_devcompat_v1_BackupRequest__Output, _devcompat_v1_BackupResponse>;
  
}

export interface AdminServiceDefinition extends grpc.ServiceDefinition {
  Backup: MethodDefinition<_devcompat_v1_BackupRequest, _devcompat_v1_BackupResponse, _devcompat_v1_BackupRequest__Output, _devcompat_v1_BackupResponse__Output>
}
