// HistoryService handlers.

import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { Violations, invalidArgument } from '../core/errors.ts';
import type { Registry } from '../core/registry.ts';
import { optionalRevision, parseDeviceName, parseHostRef } from '../core/resources.ts';
import { parseClaimName } from '../core/claims.ts';
import { claimEntryId } from '../core/store.ts';
import { historyEntryMessage, timestampToMs } from './convert.ts';
import { decodePageToken, encodePageToken, POSITION_CURSOR, originOf, pageSize, unary } from './common.ts';
import { timestamp } from './convert.ts';
import type { CompactionRecord, CompactionResult } from '../core/store.ts';
import type { Compaction } from '../../proto/generated/devcompat/v1/Compaction.ts';

function compactionMessage(record: CompactionRecord): Compaction {
  return {
    checkpoint_revision: String(record.checkpoint.revision),
    checkpoint_hash: record.checkpoint.hash,
    time: timestamp(record.time),
    actor: record.actor,
    entries_removed: String(record.removed),
    head_revision: String(record.headRevision),
    head_hash: record.headHash,
    record_hash: record.recordHash,
  };
}

/** What an intact chain that lost entries to compaction must still say. */
function compactedSummary(compactions: readonly CompactionRecord[]): string {
  const last = compactions.at(-1);
  if (!last) return '';
  const removed = compactions.reduce((sum, record) => sum + record.removed, 0);
  const who = last.actor || 'an unrecorded actor (compacted before compaction records existed)';
  return (
    `intact since the checkpoint at revision ${last.checkpoint.revision}: ${removed} entries were compacted away ` +
    `in ${compactions.length} compaction(s), the last by ${who} at ${new Date(last.time).toISOString()}` +
    (last.headHash ? ` when the head was revision ${last.headRevision} (${last.headHash.slice(0, 12)}…)` : '')
  );
}
import type { ListHistoryRequest__Output } from '../../proto/generated/devcompat/v1/ListHistoryRequest.ts';
import type { VerifyHistoryRequest__Output } from '../../proto/generated/devcompat/v1/VerifyHistoryRequest.ts';
import type { CompactHistoryRequest__Output } from '../../proto/generated/devcompat/v1/CompactHistoryRequest.ts';

/** The log lines of a compaction, by CompactHistory (`actor`) or by the retention policy. */
export function logCompacted(log: Logger, result: CompactionResult, actor = 'devcompat'): void {
  log.info({ actor, checkpoint: result.checkpoint, removed: result.removed }, 'history compacted');
  if (result.deleteFailed) {
    log.warn({ checkpoint: result.checkpoint.revision, cause: result.deleteFailed }, 'compacted rows not all deleted: the next compaction deletes them');
  }
}

export function historyHandlers(registry: Registry, log: Logger): grpc.UntypedServiceImplementation {
  return {
    ListHistory: unary(log, async (request: ListHistoryRequest__Output) => {
      const resource = request.resource ?? '';
      let hostId: string | undefined;
      let deviceId: string | undefined;
      if (resource.includes('/devices/')) {
        ({ hostId, deviceId } = parseDeviceName(resource, 'resource'));
      } else if (resource.includes('/claims/')) {
        const claim = parseClaimName(resource, 'resource');
        ({ hostId } = claim);
        deviceId = claimEntryId(claim.claimId);
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
      const after = decodePageToken(request.page_token, filter, POSITION_CURSOR);
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
        description: result.broken?.description ?? compactedSummary(result.compactions),
        compactions: result.compactions.map(compactionMessage),
        entries_checked: String(result.checked),
        head_hash: result.headHash,
        head_revision: String(result.headRevision),
        checkpoint_revision: String(result.checkpoint.revision),
        checkpoint_hash: result.checkpoint.hash,
      };
    }),

    CompactHistory: unary(log, async (request: CompactHistoryRequest__Output, call) => {
      const violations = new Violations();
      const revision = optionalRevision(request.revision, 'revision', violations);
      violations.throwIfAny();
      if (!revision) throw invalidArgument([{ field: 'revision', description: 'required: the last revision to remove' }]);
      const actor = originOf(call).actor;
      const result = await registry.compact(revision, actor);
      if (result.record) logCompacted(log, result, actor);
      return {
        compaction: result.record ? compactionMessage(result.record) : null,
        checkpoint_revision: String(result.checkpoint.revision),
        checkpoint_hash: result.checkpoint.hash,
        entries_removed: String(result.removed),
        oldest_revision: String(result.checkpoint.revision + 1),
      };
    }),
  };
}
