// CompatibilityService handlers. Verdicts come from the registry's cache of
// (source descriptor, target descriptor) pairs, so the hot paths (the bidirectional stream,
// FindTargets over tens of thousands of candidates) mostly encode.

import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { invalidArgument, Violations } from '../core/errors.ts';
import { hostState, type FoundTarget, type Registry, type ResolvedDevice } from '../core/registry.ts';
import type { FindResult } from '../core/find-targets.ts';
import type { TargetChange, TargetState } from '../core/standing-query.ts';
import { MAX_EXCLUDED_HOSTS, parseHostRef, validateLabels } from '../core/resources.ts';
import { resultMessage } from './convert.ts';
import { checkResponse, encodeResult, foundTargetResponse, streamResponse, type ItemOutcome } from './verdict-encoding.ts';
import { protoRoot } from '../../proto/load.ts';
import { toStatusMessage } from './errors.ts';
import { asOfOf, unary } from './common.ts';
import type { CheckCompatibilityRequest__Output } from '../../proto/generated/devcompat/v1/CheckCompatibilityRequest.ts';
import type { FindTargetsRequest__Output } from '../../proto/generated/devcompat/v1/FindTargetsRequest.ts';
import type { CheckCompatibilityStreamRequest__Output } from '../../proto/generated/devcompat/v1/CheckCompatibilityStreamRequest.ts';
import type { WatchTargetsRequest__Output } from '../../proto/generated/devcompat/v1/WatchTargetsRequest.ts';
import { bidiStream, liveStream, serverStream, type StreamTracker } from './streams.ts';
import { InitialThenLive } from './initial-then-live.ts';

export const FIND_DEFAULT_LIMIT = 100;
export const FIND_MAX_LIMIT = 10_000;
export const MAX_CHECKS_PER_MESSAGE = 1000;

function hostFilters(request: { exclude_hosts?: string[]; host_labels?: Record<string, string> }) {
  const violations = new Violations();
  const hostLabels = validateLabels(request.host_labels, 'host_labels', violations);
  const excluded = request.exclude_hosts?.length ?? 0;
  if (excluded > MAX_EXCLUDED_HOSTS) violations.add('exclude_hosts', `at most ${MAX_EXCLUDED_HOSTS} hosts, got ${excluded}`);
  violations.throwIfAny();
  const excludeHosts = new Set(
    (request.exclude_hosts ?? []).map((host, index) => parseHostRef(host, `exclude_hosts[${index}]`)),
  );
  return { hostLabels, excludeHosts };
}

function limitOf(value: number | undefined, field: string): number {
  if (!value) return FIND_DEFAULT_LIMIT;
  if (value > FIND_MAX_LIMIT) {
    throw invalidArgument([{ field, description: `at most ${FIND_MAX_LIMIT}, got ${value}` }]);
  }
  return value;
}

export function compatibilityHandlers(
  registry: Registry,
  streams: StreamTracker,
  log: Logger,
  options: { watchBufferBytes: number },
): grpc.UntypedServiceImplementation {
  // Checks answer with pre-encoded results (verdict-encoding.ts): the hot path.
  return {
    CheckCompatibility: unary(log, async (request: CheckCompatibilityRequest__Output) => {
      // With as_of, a replay: the devices as they were then, judged by this engine.
      const view = await registry.read(asOfOf(request));
      const source = await view.resolve(request.source, 'source');
      const target = await view.resolve(request.target, 'target');
      return checkResponse(
        encodeResult(
          registry.verdictFor(source.descriptor, target.descriptor),
          view.revision,
          source.device?.name ?? '',
          target.device?.name ?? '',
        ),
      );
    }),

    FindTargets: serverStream(streams, log, async (request: FindTargetsRequest__Output) => {
      const asOf = asOfOf(request);
      // The request's own fields first: a past read builds the registry of then (seconds on a
      // large one), which a bad filter or limit must not cost.
      const { hostLabels, excludeHosts } = hostFilters(request);
      const limit = limitOf(request.limit, 'limit');
      const rejectedLimit = limitOf(request.rejected_limit, 'rejected_limit');
      const view = await registry.read(asOf);
      const source = await view.resolveSource(request.source, 'source');
      const result = await view.findTargets(source, {
          excludeHosts,
          hostLabels,
          requireAvailable: request.require_available ?? false,
          limit,
          includeRejected: request.include_rejected ?? false,
          rejectedLimit,
          includeSourceHost: request.include_source_host ?? false,
          includeUnreachable: request.include_unreachable_hosts ?? false,
          includeDraining: request.include_draining_hosts ?? false,
      });
      // Claims are counted in the present only (a past view has no claim book).
      const claimedOf = (device: FoundTarget['device']) =>
        asOf === undefined ? registry.claimedOn(device.record.hostId, device.record.deviceId) : 0;
      return findTargetsMessages(result, source.device?.name ?? '', claimedOf);
    }),

    CheckCompatibilityStream: bidiStream(streams, log, (request: CheckCompatibilityStreamRequest__Output) => {
      const items = request.checks ?? [];
      if (items.length > MAX_CHECKS_PER_MESSAGE) {
        throw invalidArgument([
          { field: 'checks', description: `at most ${MAX_CHECKS_PER_MESSAGE} checks per message, got ${items.length}` },
        ]);
      }
      const revision = registry.revision;
      const results = items.map((item, index): ItemOutcome => {
        const id = item.id ?? '';
        try {
          const source = registry.resolveCurrent(item.source, `checks[${index}].source`);
          const target = registry.resolveCurrent(item.target, `checks[${index}].target`);
          // Written straight into the response (verdict-encoding.ts), as check() would encode it.
          return {
            id,
            cached: registry.verdictFor(source.descriptor, target.descriptor),
            revision,
            source: source.device?.name ?? '',
            target: target.device?.name ?? '',
          };
        } catch (error) {
          return { id, error: toStatusMessage(error, log) };
        }
      });
      return streamResponse(results);
    }),

    WatchTargets: liveStream(
      streams,
      log,
      {
        bufferBytes: options.watchBufferBytes,
        tooSlowMessage: 'the standing query fell too far behind: resync required (open it again)',
      },
      (request: WatchTargetsRequest__Output, stream) => {
        const source = registry.resolveCurrent(request.source, 'source');
        const { hostLabels, excludeHosts } = hostFilters(request);
        const sourceName = source.device?.name ?? '';
        const changeMessage = (change: TargetChange, revision: number) =>
          change.kind === 'REMOVED'
            ? {
                kind: 'TARGET_CHANGE_KIND_REMOVED',
                name: change.name,
                host_state: change.hostState ? `HOST_STATE_${change.hostState}` : 'HOST_STATE_UNSPECIFIED',
              }
            : {
                kind: `TARGET_CHANGE_KIND_${change.kind}`,
                name: change.name,
                sort_key: change.target.sortKey,
                result: resultMessage(change.target.cached, revision, sourceName, change.name),
                capacity: change.target.device.record.capacity ?? null,
                claimed: change.target.claimed,
                exact: change.target.cached.rank.exact,
                host_state: `HOST_STATE_${change.target.hostState}`,
              };
        // The initial set goes out as the client takes it, diffs held behind it (initial-then-live.ts).
        const out = new InitialThenLive(stream, options.watchBufferBytes, streams.limits.sendTimeoutMs);
        /** The initial set's messages, each made as it is sent. */
        function* initialMessages(targets: readonly TargetState[], revision: number): Generator<Buffer> {
          for (let i = 0; i === 0 || i < targets.length; i += INITIAL_CHUNK) {
            const chunk = targets.slice(i, i + INITIAL_CHUNK).map((target) => changeMessage({ kind: 'ADDED', name: target.device.name, target }, revision));
            yield encodeWatchTargets({ revision: String(revision), changes: chunk, initial: true, initial_complete: i + INITIAL_CHUNK >= targets.length });
          }
        }
        // The core listens first, then hands over the baseline, in this tick.
        const cancel = registry.watchTargets(
          source,
          {
            excludeHosts,
            hostLabels,
            requireAvailable: request.require_available ?? false,
            includeSourceHost: request.include_source_host ?? false,
            includeUnreachable: request.include_unreachable_hosts ?? false,
            includeDraining: request.include_draining_hosts ?? false,
          },
          {
            initial: (targets, revision) => out.start(initialMessages(targets, revision)),
            changes: (changes, revision) => {
              if (!stream.closed) out.change(encodeWatchTargets({ revision: String(revision), changes: changes.map((c) => changeMessage(c, revision)) }));
            },
            fail: (error) => stream.fail(error),
          },
        );
        stream.onEnd(cancel);
      },
    ),
  };
}

/** FindTargets' answer as it is streamed: the compatible targets, the rejected ones, one summary. */
function* findTargetsMessages(result: FindResult, sourceName: string, claimedOf: (device: FoundTarget['device']) => number = () => 0) {
  const message = (found: FoundTarget) =>
    foundTargetResponse({
      name: found.device.name,
      rank: found.rank,
      cached: found.cached,
      revision: result.revision,
      source: sourceName,
      capacity: found.device.record.capacity,
      exact: found.cached.rank.exact,
      hostState: hostStateNumber(hostState(found.device.host.record)),
      claimed: claimedOf(found.device),
    });
  for (const found of result.targets) yield message(found);
  for (const found of result.rejectedTargets) yield message(found);
  yield {
    summary: {
      revision: String(result.revision),
      candidates: result.candidates,
      compatible: result.compatible,
      rejected: result.rejected,
      distinct_descriptors: result.distinctDescriptors,
      unreachable_hosts_left_out: result.hostsLeftOut.unreachable,
      draining_hosts_left_out: result.hostsLeftOut.draining,
    },
  };
}

/** HostState's enum values by name, from the proto (looked up once: each target needs one). */
let hostStateValues: Readonly<Record<string, number>> | undefined;

function hostStateNumber(state: string): number {
  hostStateValues ??= protoRoot().lookupEnum('devcompat.v1.HostState').values;
  const value = hostStateValues[`HOST_STATE_${state}`];
  if (value === undefined) throw new Error(`no HostState HOST_STATE_${state}`);
  return value;
}

const INITIAL_CHUNK = 500;
const WatchTargetsResponse = () => protoRoot().lookupType('devcompat.v1.WatchTargetsResponse');

function encodeWatchTargets(message: object): Buffer {
  const type = WatchTargetsResponse();
  return Buffer.from(type.encode(type.fromObject(message)).finish());
}
