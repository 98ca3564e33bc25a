import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AdminServiceClient as _devcompat_v1_AdminServiceClient, AdminServiceDefinition as _devcompat_v1_AdminServiceDefinition } from './devcompat/v1/AdminService.ts';
import type { BackupRequest as _devcompat_v1_BackupRequest, BackupRequest__Output as _devcompat_v1_BackupRequest__Output } from './devcompat/v1/BackupRequest.ts';
import type { BackupResponse as _devcompat_v1_BackupResponse, BackupResponse__Output as _devcompat_v1_BackupResponse__Output } from './devcompat/v1/BackupResponse.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  devcompat: {
    v1: {
      /**
       * AdminService holds an operator's calls on the server itself. Every method needs the admin
       * role (docs/security.md).
       */
      AdminService: SubtypeConstructor<typeof grpc.Client, _devcompat_v1_AdminServiceClient> & { service: _devcompat_v1_AdminServiceDefinition }
      BackupRequest: MessageTypeDefinition<_devcompat_v1_BackupRequest, _devcompat_v1_BackupRequest__Output>
      BackupResponse: MessageTypeDefinition<_devcompat_v1_BackupResponse, _devcompat_v1_BackupResponse__Output>
    }
  }
}

