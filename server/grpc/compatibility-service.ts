// CompatibilityService handlers. Verdicts come from the registry's cache of
// (source descriptor, target descriptor) pairs, so the hot paths (the bidirectional stream,
// FindTargets over tens of thousands of candidates) mostly encode.

import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { invalidArgument, Violations } from '../core/errors.ts';
import { hostState, type FoundTarget, type Registry, type ResolvedDevice, type PastView } from '../core/registry.ts';
import { StandingQuery, type TargetChange } from '../core/standing-query.ts';
import { parseDeviceName, parseHostRef, validateLabels } from '../core/resources.ts';
import { validateDescriptorMemoized } from '../core/descriptor-memo.ts';
import { resultMessage } from './convert.ts';
import { checkResponse, encodeResult, streamResponse, type ItemOutcome } from './verdict-encoding.ts';
import { protoRoot } from '../../proto/load.ts';
import { toStatusMessage } from './errors.ts';
import { asOfOf, unary } from './common.ts';
import type { DeviceRef__Output as DeviceRefInput } from '../../proto/generated/devcompat/v1/DeviceRef.ts';
import type { CheckCompatibilityRequest__Output } from '../../proto/generated/devcompat/v1/CheckCompatibilityRequest.ts';
import type { FindTargetsRequest__Output } from '../../proto/generated/devcompat/v1/FindTargetsRequest.ts';
import type { CheckCompatibilityStreamRequest__Output } from '../../proto/generated/devcompat/v1/CheckCompatibilityStreamRequest.ts';
import type { WatchTargetsRequest__Output } from '../../proto/generated/devcompat/v1/WatchTargetsRequest.ts';
import { bidiStream, liveStream, serverStream, type StreamTracker } from './streams.ts';

export const FIND_DEFAULT_LIMIT = 100;
export const FIND_MAX_LIMIT = 10_000;
export const MAX_CHECKS_PER_MESSAGE = 1000;

export function resolveRef(registry: Registry, ref: DeviceRefInput | null | undefined, field: string): ResolvedDevice {
  if (ref?.name) {
    const { hostId, deviceId } = parseDeviceName(ref.name, `${field}.name`);
    return registry.resolveName(hostId, deviceId);
  }
  if (ref?.descriptor) return { descriptor: validateDescriptorMemoized(ref.descriptor, `${field}.descriptor.`) };
  throw invalidArgument([{ field, description: 'required: a registered device name or an inline descriptor' }]);
}

/** Resolves a reference at a past revision: a name from the registry as it was then. */
async function resolveRefAt(
  registry: Registry,
  ref: DeviceRefInput | null | undefined,
  field: string,
  revision: number,
): Promise<{ descriptor: ResolvedDevice['descriptor']; name: string }> {
  if (ref?.name) {
    const { hostId, deviceId } = parseDeviceName(ref.name, `${field}.name`);
    const { descriptor } = await registry.deviceAt(hostId, deviceId, revision);
    return { descriptor, name: `hosts/${hostId}/devices/${deviceId}` };
  }
  return { descriptor: resolveRef(registry, ref, field).descriptor, name: '' };
}

function resolveRefIn(view: PastView, registry: Registry, ref: DeviceRefInput | null | undefined, field: string): ResolvedDevice {
  if (ref?.name) {
    const { hostId, deviceId } = parseDeviceName(ref.name, `${field}.name`);
    const device = view.getDevice(hostId, deviceId);
    return { descriptor: device.entry.descriptor, device };
  }
  return resolveRef(registry, ref, field);
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
    CheckCompatibility: unary(log, async (request: CheckCompatibilityRequest__Output) => {
      const asOf = asOfOf(request);
      if (asOf) {
        // A replay: the devices as they were then, judged by this engine.
        const revision = await registry.resolveAsOf(asOf);
        const source = await resolveRefAt(registry, request.source, 'source', revision);
        const target = await resolveRefAt(registry, request.target, 'target', revision);
        return checkResponse(
          encodeResult(registry.verdictFor(source.descriptor, target.descriptor), revision, source.name, target.name),
        );
      }
      const source = resolveRef(registry, request.source, 'source');
      const target = resolveRef(registry, request.target, 'target');
      return checkResponse(check(source, target));
    }),

    FindTargets: serverStream(streams, log, async (request: FindTargetsRequest__Output) => {
      const asOf = asOfOf(request);
      const view = asOf ? await registry.viewAt(await registry.resolveAsOf(asOf)) : undefined;
      const source = view ? resolveRefIn(view, registry, request.source, 'source') : resolveRef(registry, request.source, 'source');
      const { hostLabels, excludeHosts } = hostFilters(request);
      const result = registry.findTargets(
        source,
        {
          excludeHosts,
          hostLabels,
          requireAvailable: request.require_available ?? false,
          limit: limitOf(request.limit, 'limit'),
          includeRejected: request.include_rejected ?? false,
          rejectedLimit: limitOf(request.rejected_limit, 'rejected_limit'),
          includeSourceHost: request.include_source_host ?? false,
          includeUnreachable: request.include_unreachable_hosts ?? false,
          includeDraining: request.include_draining_hosts ?? false,
        },
        view,
      );
      return findTargetsMessages(result, source.device?.name ?? '');
    }),

    CheckCompatibilityStream: bidiStream(streams, log, (request: CheckCompatibilityStreamRequest__Output) => {
      const items = request.checks ?? [];
      if (items.length > MAX_CHECKS_PER_MESSAGE) {
        throw invalidArgument([
          { field: 'checks', description: `at most ${MAX_CHECKS_PER_MESSAGE} checks per message, got ${items.length}` },
        ]);
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
        const source = resolveRef(registry, request.source, 'source');
        const { hostLabels, excludeHosts } = hostFilters(request);
        const sourceName = source.device?.name ?? '';
        const query = new StandingQuery(
          registry,
          {
            hostId: source.device?.record.hostId,
            deviceId: source.device?.record.deviceId,
            descriptor: source.descriptor,
          },
          {
            excludeHosts,
            hostLabels,
            requireAvailable: request.require_available ?? false,
            includeSourceHost: request.include_source_host ?? false,
            includeUnreachable: request.include_unreachable_hosts ?? false,
            includeDraining: request.include_draining_hosts ?? false,
          },
        );
        const send = (message: object) => stream.write(encodeWatchTargets(message));
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
        // Listen first, then send the baseline: both happen in this tick, so no revision
        // falls between them.
        const unsubscribe = registry.subscribe((change) => {
          if (stream.closed) return;
          try {
            const changes = query.apply(change);
            if (changes.length > 0) {
              send({ revision: String(change.revision), changes: changes.map((c) => changeMessage(c, change.revision)) });
            }
          } catch (error) {
            unsubscribe();
            stream.fail(error);
          }
        });
        stream.onEnd(unsubscribe);
        const revision = registry.revision;
        const initial = query.initial().map((target) =>
          changeMessage({ kind: 'ADDED', name: target.device.name, target }, revision),
        );
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
    ),
  };
}

/** FindTargets' answer as it is streamed: the compatible targets, the rejected ones, one summary. */
function* findTargetsMessages(result: ReturnType<Registry['findTargets']>, sourceName: string) {
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
  for (const found of result.targets) yield message(found);
  for (const found of result.rejectedTargets) yield message(found);
  yield {
    summary: {
      revision: String(result.revision),
      candidates: result.candidates,
      compatible: result.compatible,
      rejected: result.rejected,
      distinct_descriptors: result.distinctDescriptors,
    },
  };
}

const INITIAL_CHUNK = 500;
const WatchTargetsResponse = () => protoRoot().lookupType('devcompat.v1.WatchTargetsResponse');

function encodeWatchTargets(message: object): Buffer {
  const type = WatchTargetsResponse();
  return Buffer.from(type.encode(type.fromObject(message)).finish());
}
