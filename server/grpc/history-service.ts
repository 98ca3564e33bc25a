// HistoryService handlers.

import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { Violations, invalidArgument } from '../core/errors.ts';
import type { Registry } from '../core/registry.ts';
import { optionalRevision, parseDeviceName, parseHostRef } from '../core/resources.ts';
import { historyEntryMessage, timestampToMs } from './convert.ts';
import { decodePageToken, encodePageToken, pageSize, unary } from './common.ts';
import type { ListHistoryRequest__Output } from '../../proto/generated/devcompat/v1/ListHistoryRequest.ts';
import type { VerifyHistoryRequest__Output } from '../../proto/generated/devcompat/v1/VerifyHistoryRequest.ts';
import type { CompactHistoryRequest__Output } from '../../proto/generated/devcompat/v1/CompactHistoryRequest.ts';

export function historyHandlers(registry: Registry, log: Logger): grpc.UntypedServiceImplementation {
  return {
    ListHistory: unary(log, async (request: ListHistoryRequest__Output) => {
      const resource = request.resource ?? '';
      let hostId: string | undefined;
      let deviceId: string | undefined;
      if (resource.includes('/devices/')) {
        ({ hostId, deviceId } = parseDeviceName(resource, 'resource'));
      } else if (resource) {
        hostId = parseHostRef(resource, 'resource');
      }
      const violations = new Violations();
      const startRevision = optionalRevision(request.start_revision, 'start_revision', violations) || undefined;
      const endRevision = optionalRevision(request.end_revision, 'end_revision', violations) || undefined;
      violations.throwIfAny();
      if (startRevision !== undefined && endRevision !== undefined && startRevision > endRevision) {
        throw invalidArgument([{ field: 'end_revision', description: 'must not be before start_revision' }]);
      }
      const newestFirst = request.order !== 'HISTORY_ORDER_OLDEST_FIRST';
      const limit = pageSize(request.page_size);
      const filter = {
        resource,
        startRevision,
        endRevision,
        startTime: timestampToMs(request.start_time),
        endTime: timestampToMs(request.end_time),
        actor: request.actor || undefined,
        newestFirst,
      };
      const after = decodePageToken<[number, number]>(request.page_token, filter);
      const entries = await registry.listHistory({
        hostId,
        deviceId,
        startRevision,
        endRevision,
        startTime: filter.startTime,
        endTime: filter.endTime,
        actor: filter.actor,
        newestFirst,
        after: after && { revision: after[0], seq: after[1] },
        limit: limit + 1,
      });
      const page = entries.slice(0, limit);
      const last = page.at(-1);
      return {
        entries: page.map((entry) => historyEntryMessage(entry, registry)),
        next_page_token: entries.length > limit && last ? encodePageToken(filter, [last.revision, last.seq]) : '',
        revision: String(registry.revision),
      };
    }),

    VerifyHistory: unary(log, async (request: VerifyHistoryRequest__Output) => {
      const expected = (request.expected_head ?? '').trim().toLowerCase();
      if (expected && !/^[0-9a-f]{64}$/.test(expected)) {
        throw invalidArgument([{ field: 'expected_head', description: 'must be a hex SHA-256 (64 hex digits)' }]);
      }
      const result = await registry.verifyHistory(expected || undefined);
      return {
        intact: result.intact,
        problem: result.broken ? `CHAIN_PROBLEM_${result.broken.problem}` : 'CHAIN_PROBLEM_UNSPECIFIED',
        revision: String(result.broken?.revision ?? 0),
        index: result.broken?.seq ?? 0,
        description: result.broken?.description ?? '',
        entries_checked: String(result.checked),
        head_hash: result.headHash,
        head_revision: String(result.headRevision),
        checkpoint_revision: String(result.checkpoint.revision),
        checkpoint_hash: result.checkpoint.hash,
      };
    }),

    CompactHistory: unary(log, async (request: CompactHistoryRequest__Output) => {
      const violations = new Violations();
      const revision = optionalRevision(request.revision, 'revision', violations);
      violations.throwIfAny();
      if (!revision) throw invalidArgument([{ field: 'revision', description: 'required: the last revision to remove' }]);
      const result = await registry.compact(revision);
      return {
        checkpoint_revision: String(result.checkpoint.revision),
        checkpoint_hash: result.checkpoint.hash,
        entries_removed: String(result.removed),
        oldest_revision: String(result.checkpoint.revision + 1),
      };
    }),
  };
}
