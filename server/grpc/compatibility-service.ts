// CompatibilityService handlers. Verdicts come from the registry's cache of
// (source descriptor, target descriptor) pairs, so the hot paths (the bidirectional stream,
// FindTargets over tens of thousands of candidates) mostly encode.

import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { invalidArgument } from '../core/errors.ts';
import type { DescriptorInput } from '../core/model.ts';
import type { FoundTarget, Registry, ResolvedDevice } from '../core/registry.ts';
import { parseDeviceName, parseHostRef, validateLabels } from '../core/resources.ts';
import { Violations } from '../core/errors.ts';
import { validateDescriptorMemoized } from '../core/descriptor-memo.ts';
import { resultMessage } from './convert.ts';
import { checkResponse, encodeResult, streamResponse, type ItemOutcome } from './verdict-encoding.ts';
import { toServiceError, toStatusMessage } from './errors.ts';
import { unary } from './common.ts';
import { writeMessage, type StreamTracker } from './streams.ts';

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
}

interface CheckItemInput {
  id?: string;
  source?: DeviceRefInput | null;
  target?: DeviceRefInput | null;
}

export function resolveRef(registry: Registry, ref: DeviceRefInput | null | undefined, field: string): ResolvedDevice {
  if (ref?.name) {
    const { hostId, deviceId } = parseDeviceName(ref.name, `${field}.name`);
    return registry.resolveName(hostId, deviceId);
  }
  if (ref?.descriptor) return { descriptor: validateDescriptorMemoized(ref.descriptor, `${field}.descriptor.`) };
  throw invalidArgument([{ field, description: 'required: a registered device name or an inline descriptor' }]);
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
    CheckCompatibility: unary(log, (request: { source?: DeviceRefInput; target?: DeviceRefInput }) => {
      const source = resolveRef(registry, request.source, 'source');
      const target = resolveRef(registry, request.target, 'target');
      return checkResponse(check(source, target));
    }),

    FindTargets: async (call: grpc.ServerWritableStream<FindTargetsInput, unknown>) => {
      streams.track(call);
      try {
        const request = call.request;
        const source = resolveRef(registry, request.source, 'source');
        const violations = new Violations();
        const hostLabels = validateLabels(request.host_labels, 'host_labels', violations);
        violations.throwIfAny();
        const excludeHosts = new Set(
          (request.exclude_hosts ?? []).map((host, index) => parseHostRef(host, `exclude_hosts[${index}]`)),
        );
        const result = registry.findTargets(source, {
          excludeHosts,
          hostLabels,
          requireAvailable: request.require_available ?? false,
          limit: limitOf(request.limit, 'limit'),
          includeRejected: request.include_rejected ?? false,
          rejectedLimit: limitOf(request.rejected_limit, 'rejected_limit'),
          includeSourceHost: request.include_source_host ?? false,
        });
        const sourceName = source.device?.name ?? '';
        const message = (found: FoundTarget) => ({
          target: {
            name: found.device.name,
            rank: found.rank,
            result: resultMessage(found.cached, result.revision, sourceName, found.device.name),
            capacity: found.device.record.capacity ?? null,
            exact: found.cached.rank.exact,
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
            const source = resolveRef(registry, item.source, `checks[${index}].source`);
            const target = resolveRef(registry, item.target, `checks[${index}].target`);
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
  };
}
