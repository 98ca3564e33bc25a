// WatchService: the change feed over gRPC. The hub (core/watch-hub.ts) decides what each
// watcher receives; this layer encodes it and bounds what a slow consumer may hold. A revision
// that reaches many watchers is encoded once, its bytes kept on the change, for every watcher
// without a vendor, API or type filter (host-filtered ones included); a progress tick encodes
// its message once for every watcher due. The stream (streams.ts) shares those bytes.

import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { invalidArgument, Violations } from '../core/errors.ts';
import type { Registry, RevisionChange } from '../core/registry.ts';
import { optionalRevision, parseHostRef } from '../core/resources.ts';
import type { WatchDelivery, WatchEventView, WatchHub } from '../core/watch-hub.ts';
import { protoRoot } from '../../proto/load.ts';
import { entryResourceName, snapshotMessage, timestamp } from './convert.ts';
import { liveStream, type StreamTracker } from './streams.ts';
import type { WatchRequest__Output } from '../../proto/generated/devcompat/v1/WatchRequest.ts';
import type { WatchFilter__Output } from '../../proto/generated/devcompat/v1/WatchFilter.ts';

export const DEFAULT_PROGRESS_INTERVAL_MS = 5000;
export const MIN_PROGRESS_INTERVAL_MS = 100;
/** What one watcher may have written but not yet flushed to its client. */
export const DEFAULT_WATCH_BUFFER_BYTES = 8 * 1024 * 1024;

const WatchResponse = () => protoRoot().lookupType('devcompat.v1.WatchResponse');

function encode(message: object): Buffer {
  const type = WatchResponse();
  return Buffer.from(type.encode(type.fromObject(message)).finish());
}

function eventMessage(view: WatchEventView, registry: Registry) {
  const { entry } = view;
  return {
    kind: `CHANGE_KIND_${view.kind}`,
    resource: entryResourceName(entry),
    before: snapshotMessage(entry.before, registry),
    after: snapshotMessage(entry.after, registry),
    actor: entry.actor,
    reason: entry.reason,
    left_filter: view.leftFilter,
    entered_filter: view.enteredFilter,
  };
}

function encodeDelivery(delivery: WatchDelivery, registry: Registry): Buffer {
  const { change } = delivery;
  return encode({
    revision: String(change.revision),
    time: timestamp(change.time),
    events: delivery.events.map((view) => eventMessage(view, registry)),
    head_hash: change.headHash,
  });
}

/** The unfiltered encoding of a change, made once for every watcher that takes it whole. */
function wholeEncoding(delivery: WatchDelivery, registry: Registry): Buffer {
  const change = delivery.change as RevisionChange & { memo?: Buffer };
  change.memo ??= encodeDelivery(delivery, registry);
  return change.memo as Buffer;
}

/** The last progress message encoded: one progress tick sends the same one to every watcher due. */
let lastProgress: { revision: number; headHash: string; bytes: Buffer } | undefined;

function progressEncoding(revision: number, headHash: string): Buffer {
  if (lastProgress?.revision !== revision || lastProgress.headHash !== headHash) {
    lastProgress = { revision, headHash, bytes: encode({ revision: String(revision), head_hash: headHash, progress: true }) };
  }
  return lastProgress.bytes;
}

export function watchHandlers(
  registry: Registry,
  hub: WatchHub,
  streams: StreamTracker,
  log: Logger,
  options: { bufferBytes: number },
): grpc.UntypedServiceImplementation {
  return {
    Watch: liveStream(
      streams,
      log,
      {
        bufferBytes: options.bufferBytes,
        tooSlowMessage: `the watch fell more than ${options.bufferBytes} bytes behind: resync required, resume from your last revision + 1`,
      },
      (request: WatchRequest__Output, stream) => {
        const violations = new Violations();
        const start = optionalRevision(request.start_revision, 'start_revision', violations);
        violations.throwIfAny();
        const interval = request.progress_interval_ms || DEFAULT_PROGRESS_INTERVAL_MS;
        if (interval < MIN_PROGRESS_INTERVAL_MS) {
          throw invalidArgument([
            { field: 'progress_interval_ms', description: `at least ${MIN_PROGRESS_INTERVAL_MS}, got ${interval}` },
          ]);
        }
        const filter: Partial<WatchFilter__Output> = request.filter ?? {};
        const handle = hub.open(
          {
            startRevision: start || undefined,
            filter: {
              hostId: filter.host ? parseHostRef(filter.host, 'filter.host') : undefined,
              vendor: filter.vendor || undefined,
              deviceApi: filter.device_api || undefined,
              type: filter.type || undefined,
            },
            progressIntervalMs: interval,
          },
          {
            deliver: (delivery) =>
              stream.write(delivery.whole ? wholeEncoding(delivery, registry) : encodeDelivery(delivery, registry)),
            progress: (revision, headHash) => {
              stream.write(progressEncoding(revision, headHash));
            },
            drained: () => stream.drained(),
            fail: (error) => stream.fail(error),
          },
        );
        stream.onEnd(() => handle.cancel());
        stream.write(
          encode({
            revision: String(handle.createdRevision),
            head_hash: registry.headHash,
            created: true,
            oldest_revision: String(registry.oldestRevision),
          }),
        );
      },
    ),
  };
}
