// CompatibilityService handlers. Verdicts come from the registry's cache of
// (source descriptor, target descriptor) pairs, so the hot paths (the bidirectional stream,
// FindTargets over tens of thousands of candidates) mostly encode.

import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { DomainError, invalidArgument, Violations } from '../core/errors.ts';
import type { DescriptorInput } from '../core/model.ts';
import { hostState, type FoundTarget, type Registry, type ResolvedDevice } from '../core/registry.ts';
import type { TargetChange } from '../core/standing-query.ts';
import { parseHostRef, validateLabels } from '../core/resources.ts';
import { resultMessage } from './convert.ts';
import { checkResponse, encodeResult, PreEncoded, streamResponse, type ItemOutcome } from './verdict-encoding.ts';
import { protoRoot } from '../../proto/load.ts';
import { toServiceError, toStatusMessage } from './errors.ts';
import { asOfOf, unary, type AsOfInput } from './common.ts';
import { BoundedStream, writeMessage, type StreamTracker } from './streams.ts';

export const FIND_DEFAULT_LIMIT = 100;
export const FIND_MAX_LIMIT = 10_000;
export const MAX_CHECKS_PER_MESSAGE = 1000;

interface DeviceRefInput {
  name?: string;
  descriptor?: DescriptorInput | null;
  ref?: string;
}

interface FindTargetsInput {
  source?: DeviceRefInput | null;
  exclude_hosts?: string[];
  host_labels?: Record<string, string>;
  require_available?: boolean;
  limit?: number;
  include_rejected?: boolean;
  rejected_limit?: number;
  include_source_host?: boolean;
  include_unreachable_hosts?: boolean;
  include_draining_hosts?: boolean;
}

interface CheckItemInput {
  id?: string;
  source?: DeviceRefInput | null;
  target?: DeviceRefInput | null;
}

function hostFilters(request: { exclude_hosts?: string[]; host_labels?: Record<string, string> }) {
  const violations = new Violations();
  const hostLabels = validateLabels(request.host_labels, 'host_labels', violations);
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
  const check = (source: ResolvedDevice, target: ResolvedDevice) =>
    encodeResult(
      registry.verdictFor(source.descriptor, target.descriptor),
      registry.revision,
      source.device?.name ?? '',
      target.device?.name ?? '',
    );

  return {
    CheckCompatibility: unary(log, async (request: { source?: DeviceRefInput; target?: DeviceRefInput } & AsOfInput) => {
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

    FindTargets: async (call: grpc.ServerWritableStream<FindTargetsInput, unknown>) => {
      streams.track(call);
      try {
        const request = call.request as FindTargetsInput & AsOfInput;
        const view = await registry.read(asOfOf(request));
        const source = await view.resolveSource(request.source, 'source');
        const { hostLabels, excludeHosts } = hostFilters(request);
        const result = await view.findTargets(source, {
          excludeHosts,
          hostLabels,
          requireAvailable: request.require_available ?? false,
          limit: limitOf(request.limit, 'limit'),
          includeRejected: request.include_rejected ?? false,
          rejectedLimit: limitOf(request.rejected_limit, 'rejected_limit'),
          includeSourceHost: request.include_source_host ?? false,
          includeUnreachable: request.include_unreachable_hosts ?? false,
          includeDraining: request.include_draining_hosts ?? false,
        });
        const sourceName = source.device?.name ?? '';
        const message = (found: FoundTarget) => ({
          target: {
            name: found.device.name,
            rank: found.rank,
            result: resultMessage(found.cached, result.revision, sourceName, found.device.name),
            capacity: found.device.record.capacity ?? null,
            exact: found.cached.rank.exact,
            host_state: `HOST_STATE_${hostState(found.device.host.record)}`,
          },
        });
        for (const found of result.targets) if (!(await writeMessage(call, message(found)))) return;
        for (const found of result.rejectedTargets) if (!(await writeMessage(call, message(found)))) return;
        const summary = {
          summary: {
            revision: String(result.revision),
            candidates: result.candidates,
            compatible: result.compatible,
            rejected: result.rejected,
            distinct_descriptors: result.distinctDescriptors,
          },
        };
        if (!(await writeMessage(call, summary))) return;
        call.end();
      } catch (error) {
        if (!call.cancelled) call.emit('error', toServiceError(error, log));
      }
    },

    CheckCompatibilityStream: (call: grpc.ServerDuplexStream<{ checks?: CheckItemInput[] }, unknown>) => {
      streams.track(call);
      call.on('data', (request: { checks?: CheckItemInput[] }) => {
        const items = request.checks ?? [];
        if (items.length > MAX_CHECKS_PER_MESSAGE) {
          call.emit(
            'error',
            toServiceError(
              invalidArgument([
                { field: 'checks', description: `at most ${MAX_CHECKS_PER_MESSAGE} checks per message, got ${items.length}` },
              ]),
              log,
            ),
          );
          return;
        }
        const results = items.map((item, index): ItemOutcome => {
          const id = item.id ?? '';
          try {
            const source = registry.resolveCurrent(item.source, `checks[${index}].source`);
            const target = registry.resolveCurrent(item.target, `checks[${index}].target`);
            return { id, result: check(source, target) };
          } catch (error) {
            return { id, error: toStatusMessage(error, log) };
          }
        });
        // Backpressure: stop reading while the client is not reading its results.
        if (!call.write(streamResponse(results))) {
          call.pause();
          call.once('drain', () => call.resume());
        }
      });
      call.on('end', () => call.end());
    },

    WatchTargets: (call: grpc.ServerWritableStream<WatchTargetsInput, unknown>) => {
      streams.track(call);
      const fail = (error: unknown) => {
        if (!call.cancelled && !call.destroyed) call.emit('error', toServiceError(error, log));
      };
      try {
        const request = call.request;
        const source = registry.resolveCurrent(request.source, 'source');
        const { hostLabels, excludeHosts } = hostFilters(request);
        const sourceName = source.device?.name ?? '';
        let cancel: (() => void) | undefined;
        const stream = new BoundedStream(call, options.watchBufferBytes, () => {
          cancel?.();
          fail(new DomainError('WATCH_TOO_SLOW', 'the standing query fell too far behind: resync required (open it again)'));
        });
        const send = (message: object) => {
          const bytes = encodeWatchTargets(message);
          stream.write(new PreEncoded(bytes), bytes.length);
        };
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
                exact: change.target.cached.rank.exact,
                host_state: `HOST_STATE_${change.target.hostState}`,
              };
        // The core listens first, then hands over the baseline, in this tick.
        cancel = registry.watchTargets(
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
            initial: (targets, revision) => {
              const initial = targets.map((target) => changeMessage({ kind: 'ADDED', name: target.device.name, target }, revision));
              for (let i = 0; i === 0 || i < initial.length; i += INITIAL_CHUNK) {
                const chunk = initial.slice(i, i + INITIAL_CHUNK);
                send({
                  revision: String(revision),
                  changes: chunk,
                  initial: true,
                  initial_complete: i + INITIAL_CHUNK >= initial.length,
                });
              }
            },
            changes: (changes, revision) => {
              if (!stream.closed) send({ revision: String(revision), changes: changes.map((c) => changeMessage(c, revision)) });
            },
            fail,
          },
        );
        if (stream.closed) cancel();
        call.once('cancelled', cancel);
        call.once('close', cancel);
        call.once('error', cancel);
      } catch (error) {
        fail(error);
      }
    },
  };
}

const INITIAL_CHUNK = 500;
const WatchTargetsResponse = () => protoRoot().lookupType('devcompat.v1.WatchTargetsResponse');

function encodeWatchTargets(message: object): Buffer {
  const type = WatchTargetsResponse();
  return Buffer.from(type.encode(type.fromObject(message)).finish());
}

interface WatchTargetsInput {
  source?: DeviceRefInput | null;
  exclude_hosts?: string[];
  host_labels?: Record<string, string>;
  require_available?: boolean;
  include_source_host?: boolean;
  include_unreachable_hosts?: boolean;
  include_draining_hosts?: boolean;
}
