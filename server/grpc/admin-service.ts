// AdminService handlers: an operator's calls on the server itself (admin role only, see
// METHOD_PERMISSIONS in auth.ts). Backup: validate the path, ask the core, encode.

import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import path from 'node:path';
import { invalidArgument } from '../core/errors.ts';
import type { Registry } from '../core/registry.ts';
import { originOf, unary } from './common.ts';
import type { BackupRequest__Output } from '../../proto/generated/devcompat/v1/BackupRequest.ts';
import type { BackupResponse } from '../../proto/generated/devcompat/v1/BackupResponse.ts';

export function adminHandlers(registry: Registry, log: Logger): grpc.UntypedServiceImplementation {
  return {
    Backup: unary(log, async (request: BackupRequest__Output, call): Promise<BackupResponse> => {
      const target = request.path ?? '';
      if (!target) throw invalidArgument([{ field: 'path', description: 'required: the file to write, on the server\'s host' }]);
      if (!path.isAbsolute(target)) throw invalidArgument([{ field: 'path', description: `"${target}" is not an absolute path on the server's host` }]);
      const started = Date.now();
      const actor = originOf(call).actor;
      // Writes wait while the copy is written: say so when it starts, not only when it ends.
      log.info({ path: target, actor }, 'backup started: writes wait until it is written');
      let result: Awaited<ReturnType<Registry['backup']>>;
      try {
        result = await registry.backup(target);
      } catch (error) {
        log.warn({ path: target, actor, ms: Date.now() - started, err: error }, 'backup failed');
        throw error;
      }
      log.info(
        { path: result.path, revision: result.revision, head: result.headHash, bytes: result.sizeBytes, ms: Date.now() - started, actor },
        'backup written',
      );
      return {
        path: result.path,
        revision: String(result.revision),
        head_hash: result.headHash,
        size_bytes: String(result.sizeBytes),
      };
    }),
  };
}
